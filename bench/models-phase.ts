/**
 * The model half of the bench, in this process: thread engines (q8 + fp32), a same-thread engine, the naive
 * baseline and the GEMM roofs in interleaved rounds; then the time split, bucket sweep, graph op profile and
 * reply latency. Everything it loads is released before it returns, so the queue half has the cores.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { createLocalEngine, createThreadEngine } from '../models/runtime/index.ts';
import { linkedModelFolder } from '../models/runtime/testing.ts';
import { type Config, inferenceThreads } from '../src/config.ts';
import type { ModelInfo } from '../src/engine.ts';
import type { Logger } from '../src/logger.ts';
import { encoderShape, meanFlops } from './flops.ts';
import { createGemm } from './gemm.ts';
import { createNaive } from './naive.ts';
import { graphOps } from './ops.ts';
import { measureFixed20, measureReplies } from './reply.ts';
import type { Samples } from './samples.ts';
import { bucketSweep, measureSplit } from './split.ts';
import { engineContender, gemmContender, naiveContender, runRounds } from './throughput.ts';

export interface ModelPhaseOptions {
  config: Readonly<Config>;
  /** The same config with the other dtype (q8 ↔ fp32). */
  otherConfig: Readonly<Config>;
  logger: Logger;
  samples: Samples;
  quick: boolean;
  say: (line: string) => void;
}

export interface ModelPhase {
  /** analyze_msgs_per_s, the queue half sizes its load from it. */
  analyze: number;
  info: ModelInfo[];
  signals: ModelInfo;
  /** JSON fields of this half. */
  figures: Record<string, unknown>;
}

export async function runModelPhase(o: ModelPhaseOptions): Promise<ModelPhase> {
  const { config, logger, samples, quick, say } = o;
  const dtype = config.models.dtype;
  const otherDtype = o.otherConfig.models.dtype;
  const threads = inferenceThreads(config.models, 'engine');
  const batchSize = config.worker.batchSize;
  say('loading models…');
  // The worker's path: the engine in an inference thread. The local engine (same thread) shows the hop's cost.
  const engine = createThreadEngine(config, logger);
  const other = createThreadEngine(o.otherConfig, logger, {
    reply: false,
  });
  const local = createLocalEngine(config, logger, { reply: false });
  for (const e of [engine, other, local]) await e.start();
  const info = engine.info();
  const signalsInfo = info.find((i) => i.role === 'signals')!;
  const replyInfo = info.find((i) => i.role === 'reply')!;
  if (signalsInfo.device !== config.models.device)
    say(`  note: requested --device ${config.models.device}, engine runs on ${signalsInfo.device}`);
  const maxLength = readMaxLength(signalsInfo.source);
  const naive = await createNaive(
    signalsInfo.source,
    signalsInfo.dtype as 'q8' | 'fp32',
    threads,
    maxLength,
    signalsInfo.device as 'cpu' | 'cuda',
  );
  const tokens = naive.tokenCounts(samples.texts);
  const tokensMean = tokens.reduce((a, b) => a + b, 0) / tokens.length;
  const shape = encoderShape(signalsInfo.source);
  const flopsPerMsg = meanFlops(shape, tokens);
  say(
    `signals model ${signalsInfo.version}: ${shape.layers} layers, d ${shape.dModel}, ffn ${shape.ffn}, ${shape.heads} heads; ` +
      `${tokensMean.toFixed(1)} tokens/msg → ${(flopsPerMsg / 1e6).toFixed(1)} MFLOP/msg (2·MACs, unpadded)`,
  );

  // Roofs: 1024³, and the model's own FFN shape (a bucket of 32 mean-length texts × d_model × ffn).
  const gemmShape = { m: 32 * Math.round(tokensMean), k: shape.dModel, n: shape.ffn };
  const gemm32 = await createGemm('fp32', threads);
  const gemm8 = await createGemm('int8', threads);
  const shape32 = await createGemm('fp32', threads, gemmShape);
  const shape8 = await createGemm('int8', threads, gemmShape);

  // The same graph without the lexical channel (signals 0.3.3), side by side: what the channel costs per message.
  const graphOnlyFolder = withoutLexical(signalsInfo.source);
  const graphOnly = graphOnlyFolder
    ? createThreadEngine(
        loadConfig({
          overrides: {
            'models.dtype': dtype,
            'models.device': config.models.device,
            'models.threads': config.models.threads,
            'models.signals': graphOnlyFolder,
          },
        }),
        logger,
        { reply: false },
      )
    : undefined;
  await graphOnly?.start();

  const rounds = quick ? 1 : 4;
  const roundS = quick ? 1 : 4;
  say(`throughput: ${rounds} interleaved rounds (GEMM roofs, engine ${dtype}, engine ${otherDtype}, naive)`);
  const { medians } = await runRounds(
    [
      gemmContender('gemm_fp32', gemm32),
      gemmContender('gemm_int8', gemm8),
      gemmContender('shape_fp32', shape32),
      gemmContender('shape_int8', shape8),
      engineContender(`engine_${dtype}`, engine, samples.texts, batchSize),
      engineContender(`engine_${otherDtype}`, other, samples.texts, batchSize),
      engineContender('engine_local', local, samples.texts, batchSize),
      ...(graphOnly ? [engineContender('engine_graph_only', graphOnly, samples.texts, batchSize)] : []),
      naiveContender(naive, samples.texts),
    ],
    rounds,
    roundS,
    say,
  );
  const analyze = medians[`engine_${dtype}`]!;
  const analyzeOther = medians[`engine_${otherDtype}`]!;
  const naiveRate = medians.naive!;
  if (graphOnly)
    say(
      `  lexical channel: ${analyze.toFixed(0)} msg/s with it, ${medians.engine_graph_only!.toFixed(0)} msg/s without (${dtype}, same rounds)`,
    );
  const roof = (d: string) => (d === 'q8' ? medians.gemm_int8! : medians.gemm_fp32!);
  const shapeRoof = dtype === 'q8' ? medians.shape_int8! : medians.shape_fp32!;
  const achieved = (flopsPerMsg * analyze) / 1e9;
  const rooflineFraction = achieved / roof(dtype);
  say(
    `  analyze ${analyze.toFixed(0)} msg/s (${dtype}, inference thread), ${analyzeOther.toFixed(0)} msg/s (${otherDtype}),` +
      ` ${medians.engine_local!.toFixed(0)} msg/s (${dtype}, same thread); naive ${naiveRate.toFixed(0)} msg/s → ×${(analyze / naiveRate).toFixed(2)}`,
  );
  say(
    `  roof: GEMM 1024³ ${medians.gemm_fp32!.toFixed(0)} GFLOPS fp32, ${medians.gemm_int8!.toFixed(0)} GOPS int8 (MatMulInteger); ` +
      `achieved ${achieved.toFixed(1)} GFLOPS = ${(rooflineFraction * 100).toFixed(1)} % of the ${dtype === 'q8' ? 'int8' : 'fp32'} roof`,
  );
  say(
    `  model-shaped GEMM ${gemmShape.m}×${gemmShape.k}×${gemmShape.n}: ${medians.shape_fp32!.toFixed(0)} GFLOPS fp32, ` +
      `${medians.shape_int8!.toFixed(0)} GOPS int8 → the engine reaches ${((achieved / shapeRoof) * 100).toFixed(1)} % of what its own shapes allow`,
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
    : await bucketSweep(naive, samples.texts.slice(0, 512), batchSize, [8, 16, 32, 64], shape.labels);
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
  await Promise.all([
    gemm32.release(),
    gemm8.release(),
    shape32.release(),
    shape8.release(),
    engine.stop(),
    other.stop(),
    local.stop(),
    graphOnly?.stop(),
  ]);
  if (graphOnlyFolder) rmSync(graphOnlyFolder, { recursive: true, force: true });

  return {
    analyze,
    info,
    signals: signalsInfo,
    figures: {
      tokens_per_msg: tokensMean,
      analyze_msgs_per_s: analyze,
      [`analyze_${otherDtype}_msgs_per_s`]: analyzeOther,
      analyze_same_thread_msgs_per_s: medians.engine_local,
      analyze_graph_only_msgs_per_s: medians.engine_graph_only ?? null,
      naive_msgs_per_s: naiveRate,
      speedup_vs_naive: analyze / naiveRate,
      flops_per_msg: flopsPerMsg,
      achieved_gflops: achieved,
      gemm_fp32_gflops: medians.gemm_fp32,
      gemm_int8_gops: medians.gemm_int8,
      roofline_fraction: rooflineFraction,
      roofline_fraction_vs_fp32_roof: achieved / medians.gemm_fp32!,
      gemm_model_shape: { ...gemmShape, fp32_gflops: medians.shape_fp32, int8_gops: medians.shape_int8 },
      roofline_fraction_model_shape: achieved / shapeRoof,
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
    },
  };
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

/**
 * A temporary copy of a local signals folder (links, and its config without `lexical_channel`), or undefined when the
 * folder has no lexical channel or is a hub id.
 */
function withoutLexical(source: string): string | undefined {
  let meta: { steward?: { lexical_channel?: unknown } };
  try {
    meta = JSON.parse(readFileSync(join(source, 'config.json'), 'utf8'));
  } catch {
    return undefined;
  }
  if (!meta.steward?.lexical_channel) return undefined;
  return linkedModelFolder(source, ({ lexical_channel: _, ...steward }) => steward);
}
