/**
 * `npx tsx bench/enqueue-cost.ts [--count 2000] [--rounds 4]` — what one outbound action costs to enqueue, BullMQ's
 * `add()` (what `enqueueOutbound` uses for a single action) against `addBulk()` of one (what it used before, and
 * still uses for several), in interleaved rounds on one Redis: client CPU, wall time and Redis CPU (`INFO cpu`; a
 * shared Redis also counts its other clients) per enqueue. Keys under a random prefix, removed at the end.
 */
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { jobOptionsOf } from '../queue/bullmq.ts';
import { redisOptionsFromUrl, toBullId } from '../queue/bullmq-ids.ts';
import { DefaultJobPolicy } from '../queue/jobs.ts';
import { ensureRedis } from './redis.ts';

const { values: args } = parseArgs({
  options: { count: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '4' } },
});
const count = Number(args.count);
const rounds = Number(args.rounds);
const redis = await ensureRedis();
const queue = new Queue('outbound-bench', {
  connection: redisOptionsFromUrl(redis.url),
  prefix: redis.prefix,
  // The driver's own job options, so the add script does the same work.
  defaultJobOptions: jobOptionsOf(DefaultJobPolicy),
});
const info = new Redis(redis.url);
const redisCpuS = async () => {
  const text = await info.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(text)?.[1] ?? 0);
  return field('used_cpu_sys') + field('used_cpu_user');
};

let next = 0;
/** A tag action as the worker enqueues it, each with a new key (a repeated id would be a no-op). */
const action = () => {
  const messageId = `m${next++}`;
  const key = `discord|bench|c1|${messageId}:react`;
  return {
    kind: 'react',
    key,
    target: { platform: 'discord', workspaceId: 'bench', channelId: 'c1', messageId },
    sentiment: 'positive',
    emoji: '🙂',
  };
};

type Way = 'add' | 'addBulk';
async function round(way: Way, n: number) {
  const redis0 = await redisCpuS();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const a = action();
    const jobId = toBullId(a.key);
    if (way === 'add') await queue.add(a.kind, a, { jobId });
    else await queue.addBulk([{ name: a.kind, data: a, opts: { jobId } }]);
  }
  const wallUs = ((performance.now() - t0) * 1000) / n;
  const cpu = process.cpuUsage(cpu0);
  const redisUs = (((await redisCpuS()) - redis0) * 1e6) / n;
  return { clientCpuUs: (cpu.user + cpu.system) / n, wallUs, redisCpuUs: redisUs };
}

try {
  await queue.waitUntilReady();
  await round('add', 500); // warm-up: scripts loaded, code optimised
  await round('addBulk', 500);
  const seen: Record<Way, Array<Awaited<ReturnType<typeof round>>>> = { add: [], addBulk: [] };
  for (let r = 0; r < rounds; r++)
    for (const way of ['addBulk', 'add'] as const) seen[way].push(await round(way, count));
  const show = (v: number[]) => v.map((x) => x.toFixed(0)).join(' / ');
  for (const way of ['addBulk', 'add'] as const) {
    const rows = seen[way];
    console.log(
      `${way.padEnd(8)} per enqueue, ${rounds} rounds of ${count}: client CPU ${show(rows.map((x) => x.clientCpuUs))} µs · ` +
        `wall ${show(rows.map((x) => x.wallUs))} µs · Redis CPU ${show(rows.map((x) => x.redisCpuUs))} µs`,
    );
  }
} finally {
  await queue.close();
  info.disconnect();
  await redis.cleanup();
}
