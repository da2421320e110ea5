import { z } from 'zod';
import { SENTIMENT_LABELS, type SentimentLabel } from '../../src/domain/analysis.ts';
import { CharRegression, normalise } from './char-channel.ts';
import { loadBesideGraph, type ModelSource } from './settings.ts';

/**
 * The signals model's Chinese sentiment channel (models/training/sentiment_zh.py): a character n-gram regression over
 * (negative, neutral, positive) trained on ChnSentiCorp's reviews, TNEWS headlines and everyday chat lines, because the
 * graph's head, which never saw chat, read one short everyday Chinese line in five as strongly negative. For its
 * languages the runtime reads sentiment as (1 − mix) · the graph's log-probabilities + mix · the channel's logits.
 */
export const SentimentChannelMetaSchema = z.object({
  file: z.string().min(1),
  languages: z.array(z.string()).min(1),
  /** The channel's share of the sentiment logits (1: the channel alone). */
  mix: z.number().min(0).max(1),
  parity: z.array(z.object({ text: z.string(), logits: z.array(z.number()) })).default([]),
});
export type SentimentChannelMeta = z.infer<typeof SentimentChannelMetaSchema>;

const CLASSES = SENTIMENT_LABELS;

export class SentimentChannel {
  readonly meta: SentimentChannelMeta;
  readonly #regression: CharRegression;

  constructor(meta: SentimentChannelMeta, channel: unknown) {
    const regression = new CharRegression(channel);
    if (regression.classes.join() !== CLASSES.join())
      throw new Error(`its classes must be ${CLASSES.join(', ')}, not ${regression.classes.join(', ')}`);
    this.meta = meta;
    this.#regression = regression;
  }

  /** Reads `<folder>/<file>` for a model whose config.json carries a sentiment_channel block. */
  static async load(source: ModelSource, meta: SentimentChannelMeta): Promise<SentimentChannel> {
    return loadBesideGraph(
      source,
      meta.file,
      'sentiment',
      (bytes) => new SentimentChannel(meta, JSON.parse(bytes.toString('utf8'))),
    );
  }

  supports(language: string): boolean {
    return this.meta.languages.includes(language);
  }

  /** The channel's logits for a text, in (negative, neutral, positive) order. */
  logits(text: string): number[] {
    return this.#regression.read(normalise(text, this.#regression.maxChars)).logits;
  }

  /**
   * Sentiment logits for a text, by label, given the graph's probabilities: the mix of the two (mix 1: the channel
   * alone decides).
   */
  mixed(text: string, graph: Record<SentimentLabel, number>): Record<SentimentLabel, number> {
    const w = this.meta.mix;
    const own = this.logits(text);
    const out = {} as Record<SentimentLabel, number>;
    CLASSES.forEach((label, i) => {
      out[label] = (1 - w) * Math.log(Math.max(graph[label], 1e-12)) + w * own[i]!;
    });
    return out;
  }
}
