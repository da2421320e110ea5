/**
 * Redis commands per job for a job that arrives at an idle queue, with BullMQ's fetching scripts as shipped and
 * with lean fetching (config.redis.leanFetching, queue/bullmq-lean.ts), side by side in one process:
 *
 *   npx tsx bench/commands-per-job.ts [--jobs N] [--gap-ms MS]
 *
 * Each arm is a BullMQDriver with one outbound consumer (concurrency 8, as the bot's); N actions are enqueued one at
 * a time, MS apart, so that each finds the consumer idle and blocked on the queue's marker (the half-load case). The
 * counts are Redis's own (`INFO commandstats` before and after, so another client of the same Redis adds to them).
 * Its last line is JSON.
 */
import { parseArgs } from 'node:util';
import { BullMQDriver } from '../queue/bullmq.ts';
import type { Action } from '../src/domain/action.ts';
import { createLogger } from '../src/logger.ts';
import { commandCalls, ensureRedis } from './redis.ts';
import { sleep } from './stats.ts';

const { values } = parseArgs({
  options: { jobs: { type: 'string', default: '300' }, 'gap-ms': { type: 'string', default: '10' } },
});
const jobs = Number(values.jobs);
const gapMs = Number(values['gap-ms']);
const COMMANDS = ['evalsha', 'bzpopmin', 'rpoplpush'] as const;

async function arm(leanFetching: boolean): Promise<Record<string, number>> {
  // A prefix of its own per arm, deleted at the end (and a throwaway redis-server if none answers).
  const { url, prefix, cleanup } = await ensureRedis();
  const driver = new BullMQDriver({ url, prefix, logger: createLogger({ level: 'warn' }), leanFetching });
  await driver.start();
  let handled = 0;
  await driver.consumeOutbound(
    'discord',
    async () => {
      handled += 1;
    },
    { concurrency: 8 },
  );
  await sleep(300);
  const before = await commandCalls(url);
  for (let i = 0; i < jobs; i++) {
    const action = { kind: 'tag', key: `bench:${i}` } as unknown as Action;
    await driver.enqueueOutbound('discord', [action]);
    await sleep(gapMs);
  }
  // A lost job would otherwise hold the bench forever.
  const deadline = Date.now() + 30_000 + jobs * gapMs;
  while (handled < jobs) {
    if (Date.now() > deadline)
      throw new Error(`${jobs - handled} of ${jobs} jobs never reached the consumer`);
    await sleep(20);
  }
  await sleep(200);
  const after = await commandCalls(url);
  await driver.stop();
  await cleanup();
  return Object.fromEntries(
    COMMANDS.map((name) => [name, ((after.get(name) ?? 0) - (before.get(name) ?? 0)) / jobs]),
  );
}

const shipped = await arm(false);
const lean = await arm(true);
for (const [label, counts] of [
  ['as shipped', shipped],
  ['lean fetching', lean],
] as const) {
  console.log(
    `${label.padEnd(13)} ${COMMANDS.map((c) => `${c} ${counts[c]?.toFixed(2)}`).join(' · ')} per job`,
  );
}
console.log(JSON.stringify({ jobs, gap_ms: gapMs, shipped, lean }));
