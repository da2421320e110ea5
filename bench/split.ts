/**
 * Where the engine's per-message time goes: engine.signals() on a fixed set of texts, measured right next to
 * its parts (tokenizer, ONNX run over the runtime's buckets, attribution words), twice, best of each.
 * Adjacent measurements keep the remainder ("rest": heads, glue, GC) meaningful on a noisy machine.
 */
import { DEFAULT_TUNING } from '../models/runtime/settings.ts';
import type { InferenceEngine } from '../src/engine.ts';
import type { Naive } from './naive.ts';

export interface SplitUs {
  engine: number;
  tokenizer: number;
  onnx_run: number;
  attribution_words: number;
  rest: number;
  /** Padded tokens ÷ real tokens − 1 over the runtime's length buckets. */
  padding: number;
}

export async function measureSplit(
  engine: InferenceEngine,
  naive: Naive,
  texts: string[],
  batchSize: number,
  labels: number,
): Promise<SplitUs> {
  const realTokens = naive.tokenCounts(texts).reduce((a, b) => a + b, 0);
  const best = {
    engine: Infinity,
    tokenizer: Infinity,
    onnx_run: Infinity,
    attribution_words: Infinity,
    padding: 0,
  };
  for (let pass = 0; pass < 2; pass++) {
    const t0 = performance.now();
    for (let i = 0; i < texts.length; i += batchSize) await engine.signals(texts.slice(i, i + batchSize));
    best.engine = Math.min(best.engine, ((performance.now() - t0) * 1000) / texts.length);
    const parts = await naive.split(texts, batchSize, DEFAULT_TUNING.bucketSize, labels);
    best.tokenizer = Math.min(best.tokenizer, parts.tokenizeUs);
    best.onnx_run = Math.min(best.onnx_run, parts.onnxUs);
    best.attribution_words = Math.min(best.attribution_words, parts.wordsUs);
    best.padding = parts.paddedTokens / realTokens - 1;
  }
  return { ...best, rest: best.engine - best.tokenizer - best.onnx_run - best.attribution_words };
}

/**
 * ONNX µs per message and padding for several bucket sizes (within calls of `callSize`), interleaved over two
 * rounds, best of each: evidence for the runtime's DEFAULT_TUNING.bucketSize.
 */
export async function bucketSweep(
  naive: Naive,
  texts: string[],
  callSize: number,
  sizes: number[],
  labels: number,
): Promise<Record<string, { onnx_us: number; padding: number }>> {
  const realTokens = naive.tokenCounts(texts).reduce((a, b) => a + b, 0);
  const out: Record<string, { onnx_us: number; padding: number }> = {};
  for (let round = 0; round < 2; round++) {
    for (const size of sizes) {
      const parts = await naive.split(texts, callSize, size, labels);
      const prev = out[size]?.onnx_us ?? Number.POSITIVE_INFINITY;
      out[size] = { onnx_us: Math.min(prev, parts.onnxUs), padding: parts.paddedTokens / realTokens - 1 };
    }
  }
  return out;
}
