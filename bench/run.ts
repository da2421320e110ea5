/**
 * `npm run bench [-- --device cpu|cuda --dtype q8|fp32 --quick --json-only --skip-queue --threads N]`
 * Measures issue #5's figures side by side in one run and ends with ONE JSON line. See bench/README.md.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLocalEngine, createThreadEngine } from '../models/runtime/index.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { encoderShape, meanFlops } from './flops.ts';
import { createGemm } from './gemm.ts';
import { type QueueFigures, runQueueBench } from './latency.ts';
import { createNaive } from './naive.ts';
import { graphOps } from './ops.ts';
import { ensureRedis } from './redis.ts';
import { measureFixed20, measureReplies } from './reply.ts';
import { checkTargets, jsonSafe, machine, targetLines } from './report.ts';
import { describeLengths, loadSamples } from './samples.ts';
import { bucketSweep, measureSplit } from './split.ts';
import { engineContender, gemmContender, naiveContender, runRounds } from './throughput.ts';

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
  const threads = config.models.threads;
  const batchSize = config.worker.batchSize;
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  const m = machine();
  say(
    `steward bench · ${startedAt.toISOString()} · ${m.cpu} × ${m.cores} · node ${m.node} · load ${m.loadavg_1m}`,
  );
  say(
    `  device ${args.device}, dtype ${dtype}, threads ${threads}, batch ${batchSize}${quick ? ', QUICK' : ''}`,
  );
  say(
    '  (shared machine: absolute figures are noisy; ratios are measured side by side in interleaved rounds)',
  );

  const samples = loadSamples(quick ? 512 : 2000);
  say(`samples: ${samples.texts.length} from ${samples.source}; ${describeLengths(samples.texts)}`);

  say('loading models…');
  // The worker's path: the engine in an inference thread. The local engine (same thread) shows the hop's cost.
  const engine = createThreadEngine(config, logger);
  const other = createThreadEngine(loadConfig({ overrides: overrides(otherDtype) }), logger, {
    reply: false,
  });
  const local = createLocalEngine(config, logger, { reply: false });
  for (const e of [engine, other, local]) await e.start();
  const info = engine.info();
  const signalsInfo = info.find((i) => i.role === 'signals')!;
  const replyInfo = info.find((i) => i.role === 'reply')!;
  if (signalsInfo.device !== args.device)
    say(`  note: requested --device ${args.device}, engine runs on ${signalsInfo.device}`);
  const maxLength = readMaxLength(signalsInfo.source);
  const naive = await createNaive(
    signalsInfo.source,
    signalsInfo.dtype as 'q8' | 'fp32',
    threads,
    maxLength,
    signalsInfo.device as 'cpu' | 'cuda',
  );
  const [gemm32, gemm8] = [await createGemm('fp32', threads), await createGemm('int8', threads)];

  const tokens = naive.tokenCounts(samples.texts);
  const tokensMean = tokens.reduce((a, b) => a + b, 0) / tokens.length;
  const shape = encoderShape(signalsInfo.source);
  const flopsPerMsg = meanFlops(shape, tokens);
  say(
    `signals model ${signalsInfo.version}: ${shape.layers} layers, d ${shape.dModel}, ffn ${shape.ffn}, ${shape.heads} heads; ` +
      `${tokensMean.toFixed(1)} tokens/msg → ${(flopsPerMsg / 1e6).toFixed(1)} MFLOP/msg (2·MACs, unpadded)`,
  );

  const rounds = quick ? 1 : 4;
  const roundS = quick ? 1 : 4;
  say(`throughput: ${rounds} interleaved rounds (GEMM roofs, engine ${dtype}, engine ${otherDtype}, naive)`);
  const { medians } = await runRounds(
    [
      gemmContender('gemm_fp32', gemm32),
      gemmContender('gemm_int8', gemm8),
      engineContender(`engine_${dtype}`, engine, samples.texts, batchSize),
      engineContender(`engine_${otherDtype}`, other, samples.texts, batchSize),
      engineContender('engine_local', local, samples.texts, batchSize),
      naiveContender(naive, samples.texts),
    ],
    rounds,
    roundS,
    say,
  );
  const analyze = medians[`engine_${dtype}`]!;
  const analyzeOther = medians[`engine_${otherDtype}`]!;
  const naiveRate = medians.naive!;
  const roof = (d: string) => (d === 'q8' ? medians.gemm_int8! : medians.gemm_fp32!);
  const achieved = (flopsPerMsg * analyze) / 1e9;
  const rooflineFraction = achieved / roof(dtype);
  say(
    `  analyze ${analyze.toFixed(0)} msg/s (${dtype}), ${analyzeOther.toFixed(0)} msg/s (${otherDtype}); naive ${naiveRate.toFixed(0)} msg/s ` +
      `→ ×${(analyze / naiveRate).toFixed(2)}`,
  );
  say(
    `  roof: GEMM 1024³ ${medians.gemm_fp32!.toFixed(0)} GFLOPS fp32, ${medians.gemm_int8!.toFixed(0)} GOPS int8 (MatMulInteger); ` +
      `achieved ${achieved.toFixed(1)} GFLOPS = ${(rooflineFraction * 100).toFixed(1)} % of the ${dtype === 'q8' ? 'int8' : 'fp32'} roof`,
  );

  const split = await measureSplit(
    local,
    naive,
    samples.texts.slice(0, quick ? 256 : 1024),
    batchSize,
    shape.labels,
  );
  say(
    `  split per message (${dtype}, measured side by side): engine ${split.engine.toFixed(0)} µs = tokenizer ${split.tokenizer.toFixed(0)} µs` +
      ` + ONNX run ${split.onnx_run.toFixed(0)} µs (runtime buckets, ${(split.padding * 100).toFixed(0)} % padding)` +
      ` + attribution words ${split.attribution_words.toFixed(0)} µs + rest ${split.rest.toFixed(0)} µs (heads, JS glue, GC)`,
  );
  const sweep = quick
    ? null
    : await bucketSweep(naive, samples.texts.slice(0, 1024), batchSize, [8, 16, 32, 64], shape.labels);
  if (sweep) {
    const parts = Object.entries(sweep).map(
      ([size, v]) => `${size}: ${v.onnx_us.toFixed(0)} µs (${(v.padding * 100).toFixed(0)} % pad)`,
    );
    say(`  ONNX run per message by bucket size, calls of ${batchSize}: ${parts.join(' · ')}`);
  }
  const width = Math.round(tokensMean);
  const ops = await graphOps(signalsInfo.source, signalsInfo.dtype, threads, width, quick ? 0.5 : 1.5);
  say(`  graph ops (${signalsInfo.dtype}, bucket 32 × ${width} tokens, onnxruntime profiler): ${ops.line}`);

  say('reply generation…');
  const prompts = samples.texts.filter((t) => t.length > 20 && t.length < 160);
  const reps = quick ? { b1: 3, b8: 1 } : { b1: 10, b8: 4 };
  const reply = await measureReplies(engine, replyInfo.source, prompts, reps);
  say(
    `  engine.reply (≤ 20 new tokens, the model stops where it likes): batch 1 p50 ${reply.b1P50Ms.toFixed(0)} ms, ` +
      `${reply.b1MsPerToken.toFixed(1)} ms/token; batch 8 p50 ${reply.b8P50Ms.toFixed(0)} ms, ${reply.b8MsPerStep.toFixed(1)} ms/step, ` +
      `${reply.b8MsPerToken.toFixed(1)} ms/token; ${reply.tokensMean.toFixed(1)} tokens/reply; e.g. "${reply.example.slice(0, 60)}"`,
  );
  const fixed = await measureFixed20(replyInfo.source, replyInfo.dtype, threads, prompts, reps);
  say(
    `  exactly 20 tokens (transformers.js generate, KV cache, greedy): batch 1 p50 ${fixed.b1P50Ms.toFixed(0)} ms ` +
      `(${fixed.b1MsPerToken.toFixed(1)} ms/token); batch 8 p50 ${fixed.b8P50Ms.toFixed(0)} ms ` +
      `(${fixed.b8MsPerStep.toFixed(1)} ms/step, ${fixed.b8MsPerToken.toFixed(1)} ms/token)`,
  );

  await naive.dispose();
  await Promise.all([gemm32.release(), gemm8.release(), engine.stop(), other.stop(), local.stop()]);

  let queue: QueueFigures | null = null;
  let redisHow = 'skipped (--skip-queue)';
  if (!args['skip-queue']) {
    say('queue: BullMQ + worker process + adapter process…');
    const redis = await ensureRedis();
    redisHow = redis.how;
    say(`  redis ${redis.url} (${redis.how}), prefix ${redis.prefix}`);
    try {
      queue = await runQueueBench({
        redis,
        texts: samples.texts,
        dtype,
        device: args.device!,
        threads,
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
    dtype: signalsInfo.dtype,
    batch_size: batchSize,
    models: info.map(({ role, version, dtype: d, source }) => ({ role, version, dtype: d, source })),
    sample_source: samples.source,
    sample_count: samples.texts.length,
    tokens_per_msg: tokensMean,
    analyze_msgs_per_s: analyze,
    [`analyze_${otherDtype}_msgs_per_s`]: analyzeOther,
    analyze_same_thread_msgs_per_s: medians.engine_local,
    naive_msgs_per_s: naiveRate,
    speedup_vs_naive: analyze / naiveRate,
    flops_per_msg: flopsPerMsg,
    achieved_gflops: achieved,
    gemm_fp32_gflops: medians.gemm_fp32,
    gemm_int8_gops: medians.gemm_int8,
    roofline_fraction: rooflineFraction,
    roofline_fraction_vs_fp32_roof: achieved / medians.gemm_fp32!,
    [`roofline_fraction_${otherDtype}`]: (flopsPerMsg * analyzeOther) / 1e9 / roof(otherDtype),
    split_us_per_msg: split,
    bucket_sweep: sweep,
    op_shares: ops.top,
    matmul_op_share: ops.matmulShare,
    reply_p50_ms: fixed.b1P50Ms,
    reply_ms_per_token: fixed.b1MsPerToken,
    reply_b8_p50_ms: fixed.b8P50Ms,
    reply_b8_ms_per_token: fixed.b8MsPerToken,
    reply_b8_ms_per_step: fixed.b8MsPerStep,
    reply_engine: {
      b1_p50_ms: reply.b1P50Ms,
      b1_ms_per_token: reply.b1MsPerToken,
      b8_p50_ms: reply.b8P50Ms,
      b8_ms_per_token: reply.b8MsPerToken,
      b8_ms_per_step: reply.b8MsPerStep,
      tokens_mean: reply.tokensMean,
    },
    redis: redisHow,
    e2e_capacity_msgs_per_s: queue?.capacity ?? null,
    e2e_saturated: queue?.saturated ?? null,
    poisson_rate_per_s: queue?.poissonRate ?? null,
    p50_ms: queue?.poisson.p50Ms ?? null,
    p90_ms: queue?.poisson.p90Ms ?? null,
    p99_ms: queue?.poisson.p99Ms ?? null,
    poisson_received: queue ? `${queue.poisson.received}/${queue.poisson.sent}` : null,
    worker_rss_mb: queue?.workerRssMb ?? null,
    worker_saturated: queue?.workerSaturated ?? null,
    worker_at_50pct: queue?.workerPoisson ?? null,
    adapter_loop_lag_p99_ms: queue?.flood.loopLagP99Ms ?? null,
    adapter_loop_lag_max_ms: queue?.flood.loopLagMaxMs ?? null,
    adapter_loop_lag_p99_ms_at_50pct: queue?.poisson.loopLagP99Ms ?? null,
    adapter_loop_lag_p99_ms_worker_idle: queue?.idle.loopLagP99Ms ?? null,
    adapter_enqueue_ms: queue?.flood.enqueueMeanMs ?? null,
  };
  figures.targets = checkTargets(figures);
  say('targets (issue #5):');
  for (const line of targetLines(figures.targets as ReturnType<typeof checkTargets>)) say(line);
  say(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  console.log(JSON.stringify(jsonSafe(figures)));
}

function readMaxLength(dir: string): number {
  try {
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as {
      steward?: { max_length?: number };
    };
    return cfg.steward?.max_length ?? 128;
  } catch {
    return 128;
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
