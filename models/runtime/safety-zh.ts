import { z } from 'zod';
import type { WordWeight } from '../../src/domain/analysis.ts';
import { CharRegression, normalise } from './char-channel.ts';
import { loadBesideGraph, type ModelSource } from './settings.ts';

export { normalise } from './char-channel.ts';

/**
 * The signals model's Chinese safety channel (models/training/safety_zh.py): threats and incitement to self-harm in
 * Chinese, which the transformer has no head for. A sublinear TF-IDF over character 1–3-grams and a multinomial
 * regression over (none, offensive, threat, self_harm): its `outputs` are moderation labels of their own for Chinese
 * text; each of its `caps` (the transformer's `offensive`) is held at or below 1 − P(none), so that the graph alone no
 * longer flags crime news or game talk, and each of its `raises` is lifted to at least the channel's own probability of
 * that class, so that personal abuse the graph (trained on COLD's group-directed lines) misses is flagged. The computation must stay exactly safety_zh.py's `reference`; the config
 * block's `parity` cases are checked by the tests.
 */
export const SafetyMetaSchema = z.object({
  file: z.string().min(1),
  languages: z.array(z.string()).min(1),
  outputs: z.array(z.string().min(1)).min(1),
  /** The graph's labels whose score, for these languages, is capped at 1 − P(none). */
  caps: z.array(z.string().min(1)).default([]),
  /** The graph's labels whose score, for these languages, is raised to at least the channel's class of that name. */
  raises: z.array(z.string().min(1)).default([]),
  /** Shorter lines (normalised characters) are not read: the channel gives them nothing, the rules still apply. */
  min_chars: z.number().int().nonnegative().default(0),
  parity: z.array(z.object({ text: z.string(), probabilities: z.array(z.number()) })).default([]),
});
export type SafetyMeta = z.infer<typeof SafetyMetaSchema>;

export interface SafetyReading {
  /** Per output (threat, self_harm): its probability. */
  scores: Record<string, number>;
  /** The probability of a class by name (0 for one it does not have). */
  probability(name: string): number;
  /** 1 − P(none): how far the channel reads the text as abuse of any kind (the cap on `caps`). */
  cap: number;
  /** Every class's probability, in the file's class order (parity). */
  probabilities: number[];
  /** The words that push an output up the most, strongest first, weighted against the strongest. */
  words(output: string, max?: number): WordWeight[];
}

export class SafetyChannel {
  readonly meta: SafetyMeta;
  readonly #regression: CharRegression;

  constructor(meta: SafetyMeta, channel: unknown) {
    const regression = new CharRegression(channel);
    const classes = regression.classes;
    if (classes[0] !== 'none') throw new Error(`its first class must be "none", not ${classes[0]}`);
    for (const output of meta.outputs)
      if (!classes.includes(output)) throw new Error(`output ${output} is not one of its classes`);
    this.meta = meta;
    this.#regression = regression;
  }

  /** Reads `<folder>/<file>` for a model whose config.json carries a safety_channel block. */
  static async load(source: ModelSource, meta: SafetyMeta): Promise<SafetyChannel> {
    return loadBesideGraph(
      source,
      meta.file,
      'safety',
      (bytes) => new SafetyChannel(meta, JSON.parse(bytes.toString('utf8'))),
    );
  }

  supports(language: string): boolean {
    return this.meta.languages.includes(language);
  }

  /** Whether the channel has a class of this name (it can show the words behind it). */
  reads(label: string): boolean {
    return label !== 'none' && this.#regression.classes.includes(label);
  }

  read(text: string): SafetyReading {
    const regression = this.#regression;
    const chars = normalise(text, regression.maxChars);
    if (chars.length < this.meta.min_chars) {
      return {
        scores: Object.fromEntries(this.meta.outputs.map((o) => [o, 0])),
        probability: () => 0,
        cap: 1,
        probabilities: regression.classes.map((_, i) => (i === 0 ? 1 : 0)),
        words: () => [],
      };
    }
    const reading = regression.read(chars);
    const probs = reading.probabilities;
    const classes = regression.classes;
    const probability = (name: string) => (classes.indexOf(name) > 0 ? probs[classes.indexOf(name)]! : 0);
    return {
      scores: Object.fromEntries(this.meta.outputs.map((o) => [o, probability(o)])),
      probability,
      cap: 1 - probs[0]!,
      probabilities: probs,
      // Against none: what made the line read as this kind of abuse.
      words: (output, max = 3) => (classes.indexOf(output) > 0 ? reading.words(output, 'none', max) : []),
    };
  }
}
