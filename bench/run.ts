/**
 * `npm run bench [-- --device cpu|cuda --dtype q8|fp32 --quick --json-only --skip-queue --threads N]`
 * Measures issue #5's figures side by side in one run and ends with ONE JSON line. See bench/README.md.
 */
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { inferenceThreads, loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { runRecommendBench } from './recommend.ts';
import { type QueueFigures, runQueueBench } from './latency.ts';
import { runLibraryBench } from './library.ts';
import { runModelPhase } from './models-phase.ts';
import { type BenchRedis, ensureRedis } from './redis.ts';
import { checkTargets, jsonSafe, machine, targetLines } from './report.ts';
import { describeLengths, loadSamples } from './samples.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    device: { type: 'string', default: 'cpu' },
    dtype: { type: 'string', default: 'q8' },
    threads: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'json-only': { type: 'boolean', default: false },
    'skip-queue': { type: 'boolean', default: false },
  },
});
if (!['cpu', 'cuda'].includes(args.device!) || !['q8', 'fp32'].includes(args.dtype!)) {
  console.error(
    'usage: npm run bench -- [--device cpu|cuda] [--dtype q8|fp32] [--threads N] [--quick] [--json-only] [--skip-queue]',
  );
  process.exit(2);
}
const quick = args.quick!;
const say = (line: string) => {
  if (!args['json-only']) console.log(line);
};

async function main(): Promise<void> {
  process.chdir(ROOT); // model paths in the config are relative to the repo root
  const startedAt = new Date();
  const t0 = performance.now();
  const dtype = args.dtype as 'q8' | 'fp32';
  const otherDtype = dtype === 'q8' ? 'fp32' : 'q8';
  const overrides = (d: string) => ({
    'models.dtype': d,
    'models.device': args.device,
    'models.threads': args.threads,
    'worker.maxReplyTokens': 20,
  });
  const config = loadConfig({ overrides: overrides(dtype) });
  const threads = inferenceThreads(config.models, 'engine');
  // The queue part's worker process: STEWARD_THREADS / --threads if given, else its own default (one core less).
  const workerThreads = inferenceThreads(config.models, 'worker');
  const batchSize = config.worker.batchSize;
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  const m = machine();
  say(
    `steward bench · ${startedAt.toISOString()} · ${m.cpu} × ${m.cores} · node ${m.node} · load ${m.loadavg_1m}`,
  );
  say(
    `  device ${args.device}, dtype ${dtype}, threads ${threads} (worker process ${workerThreads}), batch ${batchSize}${quick ? ', QUICK' : ''}`,
  );
  say(
    '  (shared machine: absolute figures are noisy; ratios are measured side by side in interleaved rounds)',
  );
  if ((m.loadavg_1m as number) > (m.cores as number) / 2) {
    say(
      `  WARNING: load ${m.loadavg_1m} on ${m.cores} cores before starting: other processes hold the cores, ` +
        'and multi-threaded onnxruntime runs stall on them; expect low, noisy figures',
    );
  }

  // Redis first, so a missing one is reported before minutes of model work; the queue half is then skipped.
  let redis: BenchRedis | null = null;
  let redisHow = 'skipped (--skip-queue)';
  if (!args['skip-queue']) {
    try {
      redis = await ensureRedis();
      redisHow = redis.how;
    } catch (error) {
      redisHow = `unavailable: ${(error as Error).message}`;
      say(`redis ${redisHow} — the queue figures (p50/p99, capacity, RSS, loop lag) will be null`);
    }
  }

  const samples = loadSamples(quick ? 512 : 2000);
  say(`samples: ${samples.texts.length} from ${samples.source}; ${describeLengths(samples.texts)}`);

  const models = await runModelPhase({
    config,
    otherConfig: loadConfig({ overrides: overrides(otherDtype) }),
    logger,
    samples,
    quick,
    say,
  });
  const { analyze, info, signals: signalsInfo } = models;
  say('library (issue 10): hybrid retrieval and replies with retrieval…');
  const library = await runLibraryBench({ config, quick, say });
  say('recommendation (issue 11): 10,000 members over a 10,000-item library, profile updates per store…');
  const recommendation = await runRecommendBench({
    quick,
    redisUrl: redis?.url ?? null,
    say: (s) => say(`  ${s}`),
  });

  let queue: QueueFigures | null = null;
  if (redis) {
    say('queue: BullMQ + worker process + adapter process…');
    say(`  redis ${redis.url} (${redis.how}), prefix ${redis.prefix}`);
    try {
      queue = await runQueueBench({
        redis,
        texts: samples.texts,
        dtype,
        device: args.device!,
        threads: config.models.threads,
        capacityGuess: Math.max(50, analyze),
        floodS: quick ? 3 : 8,
        poissonS: quick ? 4 : 25,
        quick,
        log: say,
      });
    } finally {
      say(`  removed ${await redis.cleanup()} bench keys`);
    }
  }

  const figures: Record<string, unknown> = {
    bench: 'steward',
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    duration_s: (performance.now() - t0) / 1000,
    quick,
    ...m,
    loadavg_end_1m: loadavg()[0],
    device: args.device,
    device_used: signalsInfo.device,
    threads,
    worker_threads: workerThreads,
    dtype: signalsInfo.dtype,
    batch_size: batchSize,
    models: info.map(({ role, version, dtype: d, source }) => ({ role, version, dtype: d, source })),
    sample_source: samples.source,
    sample_count: samples.texts.length,
    ...models.figures,
    ...library,
    ...recommendation,
    redis: redisHow,
    e2e_capacity_msgs_per_s: queue?.capacity ?? null,
    e2e_saturated: queue?.saturated ?? null,
    live_capacity_msgs_per_s: queue?.liveCapacity ?? null,
    live_capacity_min_waiting: queue?.liveMinWaiting ?? null,
    machine_cpu_busy_at_50pct: queue?.workerPoisson.machineBusy ?? null,
    poisson_rate_per_s: queue?.poissonRate ?? null,
    p50_ms: queue?.poisson.p50Ms ?? null,
    p90_ms: queue?.poisson.p90Ms ?? null,
    p99_ms: queue?.poisson.p99Ms ?? null,
    latency_breakdown: queue?.poisson.breakdown ?? null,
    poisson_received: queue ? `${queue.poisson.received}/${queue.poisson.sent}` : null,
    worker_rss_mb: queue?.workerRssMb ?? null,
    worker_saturated: queue?.workerSaturated ?? null,
    worker_at_live_capacity: queue?.workerLive ?? null,
    worker_at_50pct: queue?.workerPoisson ?? null,
    adapter_loop_lag_p99_ms: queue?.flood.loopLagP99Ms ?? null,
    adapter_loop_lag_max_ms: queue?.flood.loopLagMaxMs ?? null,
    adapter_loop_lag_p99_ms_at_50pct: queue?.poisson.loopLagP99Ms ?? null,
    adapter_loop_lag_p99_ms_worker_idle: queue?.idle.loopLagP99Ms ?? null,
    adapter_enqueue_ms: queue?.flood.enqueueMeanMs ?? null,
    adapter_cpu_ms_per_msg_at_50pct: queue?.poisson.cpuMsPerMsg ?? null,
  };
  figures.targets = checkTargets(figures);
  say('targets (issue #5):');
  for (const line of targetLines(figures.targets as ReturnType<typeof checkTargets>)) say(line);
  say(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  console.log(JSON.stringify(jsonSafe(figures)));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
