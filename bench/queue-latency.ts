/**
 * `npx tsx bench/queue-latency.ts [--capacity-guess 1200] [--flood 5] [--poisson 20] [--threads N] [--rate R] [--slowest]` — the queue
 * half of `npm run bench` alone (worker process + adapter process around BullMQ on Redis: capacity, then Poisson at
 * 50 % of it with the latency breakdown), for comparing settings side by side in interleaved runs, e.g.
 * `STEWARD_THREAD_NICE=0` vs `STEWARD_THREAD_NICE=10` (the worker process inherits the environment). The last line
 * is JSON. `--rate R` fixes the Poisson rate (msg/s) instead of half the measured capacity, so that two settings are
 * compared at one load.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runQueueBench } from './latency.ts';
import { ensureRedis } from './redis.ts';
import { loadSamples } from './samples.ts';

const { values: args } = parseArgs({
  options: {
    'capacity-guess': { type: 'string', default: '1200' },
    flood: { type: 'string', default: '5' },
    poisson: { type: 'string', default: '20' },
    threads: { type: 'string' },
    rate: { type: 'string' },
    slowest: { type: 'boolean', default: false },
  },
});
process.chdir(join(import.meta.dirname, '..'));
const redis = await ensureRedis();
try {
  const q = await runQueueBench({
    redis,
    texts: loadSamples(2000).texts,
    dtype: 'q8',
    device: 'cpu',
    // Unset: the worker process's own default (the core count − 1), as `steward worker` uses.
    threads: args.threads === undefined ? undefined : Number(args.threads),
    // Sizes the pre-filled backlog: too low and the backlog runs out (capacity is then a lower bound).
    capacityGuess: Number(args['capacity-guess']),
    floodS: Number(args.flood),
    poissonS: Number(args.poisson),
    ...(args.rate !== undefined ? { poissonRate: Number(args.rate) } : {}),
    quick: false,
    log: (line) => console.log(line),
  });
  if (args.slowest) {
    // When the tail happened (to line up with `vmstat -t 1` or a worker log): the 20 slowest, by send time.
    const began = new Date(q.poisson.startedAt).toISOString();
    const worst = [...q.poisson.slowest].sort((a, b) => a.atS - b.atS);
    console.log(
      `  slowest 20 (phase began ${began}; stages in ms: queue wait / to action / outbound wait / delivery):`,
    );
    for (const w of worst) {
      const s = w.stages;
      const split = s ? ` (${s.queue_wait} / ${s.to_action} / ${s.outbound_wait} / ${s.delivery})` : '';
      console.log(`    +${w.atS.toFixed(2)}s ${w.ms === null ? 'lost' : `${w.ms.toFixed(0)} ms${split}`}`);
    }
  }
  console.log(
    JSON.stringify({
      capacity: q.capacity,
      poisson_rate: q.poissonRate,
      p50_ms: q.poisson.p50Ms,
      p90_ms: q.poisson.p90Ms,
      p99_ms: q.poisson.p99Ms,
      breakdown: q.poisson.breakdown,
    }),
  );
} finally {
  await redis.cleanup();
}
process.exit(0);
