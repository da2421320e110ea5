import { z } from 'zod';
import type { WordWeight } from '../../src/domain/analysis.ts';
import { softmax } from '../../src/domain/vector.ts';
import { loadBesideGraph, type ModelSource } from './settings.ts';
import { topWordWeights, type Word } from './tokens.ts';

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

const ChannelFileSchema = z.object({
  version: z.string(),
  classes: z.array(z.string()).min(2),
  max_chars: z.number().int().positive(),
  ngrams: z.tuple([z.number().int().positive(), z.number().int().positive()]),
  vocab: z.string(),
  idf: z.array(z.number()),
  weights: z.array(z.number()),
  bias: z.array(z.number()),
});
type ChannelFile = z.infer<typeof ChannelFileSchema>;

/** What the n-grams are read from: NFKC, lower-cased, every space removed ("杀 了 你" reads "杀了你"), cut short. */
export function normalise(text: string, maxChars: number): string[] {
  return Array.from(text.normalize('NFKC').toLowerCase().replace(/\s+/gu, '')).slice(0, maxChars);
}

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

const SEGMENTER = new Intl.Segmenter('zh', { granularity: 'word' });

export class SafetyChannel {
  readonly meta: SafetyMeta;
  readonly #c: ChannelFile;
  readonly #vocab: Map<string, number>;
  readonly #k: number;

  constructor(meta: SafetyMeta, channel: unknown) {
    const c = ChannelFileSchema.parse(channel);
    const vocab = c.vocab.split('\n');
    const k = c.classes.length;
    if (c.idf.length !== vocab.length || c.weights.length !== vocab.length * k || c.bias.length !== k)
      throw new Error(
        `sizes do not agree: ${vocab.length} n-grams, ${c.idf.length} idf, ${c.weights.length} weights, ${c.bias.length} biases for ${k} classes`,
      );
    if (c.classes[0] !== 'none') throw new Error(`its first class must be "none", not ${c.classes[0]}`);
    for (const output of meta.outputs)
      if (!c.classes.includes(output)) throw new Error(`output ${output} is not one of its classes`);
    this.meta = meta;
    this.#c = c;
    this.#k = k;
    this.#vocab = new Map(vocab.map((gram, i) => [gram, i]));
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
    return label !== 'none' && this.#c.classes.includes(label);
  }

  read(text: string): SafetyReading {
    const chars = normalise(text, this.#c.max_chars);
    if (chars.length < this.meta.min_chars) {
      const none = this.#c.classes.map((_, i) => (i === 0 ? 1 : 0));
      return {
        scores: Object.fromEntries(this.meta.outputs.map((o) => [o, 0])),
        probability: () => 0,
        cap: 1,
        probabilities: none,
        words: () => [],
      };
    }
    const [lo, hi] = this.#c.ngrams;
    // Each n-gram of the vocabulary in the text: its count, where it starts, its length; then its TF-IDF value.
    const grams = new Map<number, { n: number; at: number[]; len: number; x: number }>();
    for (let i = 0; i < chars.length; i++) {
      let gram = '';
      for (let n = 1; n <= hi && i + n <= chars.length; n++) {
        gram += chars[i + n - 1];
        const j = n >= lo ? this.#vocab.get(gram) : undefined;
        if (j === undefined) continue;
        const seen = grams.get(j);
        if (seen) {
          seen.n += 1;
          seen.at.push(i);
        } else grams.set(j, { n: 1, at: [i], len: n, x: 0 });
      }
    }
    let sq = 0;
    for (const [j, g] of grams) {
      g.x = (1 + Math.log(g.n)) * this.#c.idf[j]!;
      sq += g.x * g.x;
    }
    const norm = Math.sqrt(sq) || 1;
    const k = this.#k;
    const w = this.#c.weights;
    const logits = this.#c.bias.slice();
    for (const [j, g] of grams) for (let c = 0; c < k; c++) logits[c]! += (g.x / norm) * w[j * k + c]!;
    const probs = softmax(logits);
    const classes = this.#c.classes;
    const probability = (name: string) => (classes.indexOf(name) > 0 ? probs[classes.indexOf(name)]! : 0);
    return {
      scores: Object.fromEntries(this.meta.outputs.map((o) => [o, probability(o)])),
      probability,
      cap: 1 - probs[0]!,
      probabilities: probs,
      words: (output, max = 3) => {
        // Each character's share of the class's logit over none's, its n-grams' split evenly.
        const c = classes.indexOf(output);
        if (c <= 0) return [];
        const share = new Float64Array(chars.length);
        for (const [j, g] of grams) {
          const part = ((g.x / norm) * (w[j * k + c]! - w[j * k]!)) / g.len / g.n;
          for (const at of g.at) for (let p = at; p < at + g.len; p++) share[p]! += part;
        }
        return topWordWeights(segment(chars), (p) => share[p]!, max);
      },
    };
  }
}

/** The normalised characters as words (Intl.Segmenter's), each with the character positions it covers. */
function segment(chars: string[]): Word[] {
  const text = chars.join('');
  // Segment offsets are UTF-16 units; the positions are characters (code points), as the n-grams count them.
  const unitToChar: number[] = [];
  chars.forEach((ch, i) => {
    for (let u = 0; u < ch.length; u++) unitToChar.push(i);
  });
  const words: Word[] = [];
  for (const s of SEGMENTER.segment(text)) {
    if (!s.isWordLike) continue;
    const first = unitToChar[s.index]!;
    const last = unitToChar[s.index + s.segment.length - 1]!;
    words.push({ text: s.segment, positions: Array.from({ length: last - first + 1 }, (_, i) => first + i) });
  }
  return words;
}
