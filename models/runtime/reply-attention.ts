import type { PreTrainedTokenizer, Tensor } from '@huggingface/transformers';
import type { AttendedWord } from '../../src/engine.ts';
import { type Encoded, wordsOf } from './tokens.ts';

/** Words of the source listed per reply: enough to highlight, few enough to read. */
export const MAX_ATTENDED_WORDS = 12;

/** An encoder input whose tail from `passageFrom` (up to its </s>) is the source passage. */
export type SourcedInput = Encoded & { passageFrom?: number };

/**
 * Cross-attention of one row, averaged over decoder layers, heads and the given decoder steps: one weight per
 * encoder position, summing to 1 (each softmax row does). `steps` holds, per decoder step, the decoder's
 * `cross_attentions.{layer}` tensors ([batch, heads, decoder_len, encoder_len]); `positions` picks, per step, the
 * decoder positions to average (generation: the step's only one; a teacher-forced pass: one step, every position).
 */
export function meanCrossAttention(
  steps: Tensor[][],
  row: number,
  positions: (step: number, decoderLength: number) => number[],
): Float64Array {
  let out: Float64Array | undefined;
  let count = 0;
  steps.forEach((layers, step) => {
    for (const layer of layers) {
      const [, heads, decLen, encLen] = layer.dims as [number, number, number, number];
      const data = layer.data as Float32Array;
      out ??= new Float64Array(encLen);
      for (const t of positions(step, decLen)) {
        for (let h = 0; h < heads; h += 1) {
          const base = ((row * heads + h) * decLen + t) * encLen;
          for (let j = 0; j < encLen; j += 1) out[j]! += data[base + j]!;
          count += 1;
        }
      }
    }
  });
  if (!out || count === 0) return new Float64Array(0);
  for (let j = 0; j < out.length; j += 1) out[j]! /= count;
  return out;
}

/**
 * The passage's words with their share of the attention (its pieces' weights summed, all occurrences of a word
 * together, normalised over the passage's words), strongest first, at most `max`. Null when there is no passage.
 */
export function passageAttention(
  tokenizer: PreTrainedTokenizer,
  input: SourcedInput,
  weights: ArrayLike<number>,
  max = MAX_ATTENDED_WORDS,
): AttendedWord[] | null {
  const from = input.passageFrom;
  if (from === undefined || from >= input.ids.length) return null;
  // wordsOf leaves special tokens (the closing </s>) out, so the passage is the rest of the input.
  const passage: Encoded = { ids: input.ids.slice(from), tokens: input.tokens.slice(from), dropped: 0 };
  const words = wordsOf(tokenizer, passage);
  const byWord = new Map<string, { word: string; weight: number }>();
  let total = 0;
  for (const w of words) {
    const weight = w.positions.reduce((sum, p) => sum + (weights[from + p] ?? 0), 0);
    if (!Number.isFinite(weight)) continue;
    total += weight;
    const key = w.text.toLowerCase();
    const seen = byWord.get(key);
    if (seen) seen.weight += weight;
    else byWord.set(key, { word: w.text, weight });
  }
  if (byWord.size === 0 || !(total > 0)) return null;
  return [...byWord.values()]
    .sort((a, b) => b.weight - a.weight)
    .slice(0, max)
    .map(({ word, weight }) => ({ word, weight: Math.round((weight / total) * 10_000) / 10_000 }));
}
