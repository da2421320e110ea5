import { z } from 'zod';
import type { WordWeight } from '../../src/domain/analysis.ts';
import { softmax } from '../../src/domain/vector.ts';
import { topWordWeights, type Word } from './tokens.ts';

/**
 * A character n-gram regression beside the signals graph, as models/training/safety_zh.py writes one (the Chinese
 * safety channel, safety_zh.json) and sentiment_zh.py (the Chinese sentiment channel, sentiment_zh.json): a sublinear
 * TF-IDF over character n-grams of the normalised text, L2-normalised, and a multinomial logistic regression. The
 * computation must stay exactly the Python `reference`; each channel's config block carries parity cases the tests
 * check.
 */
export const CharChannelFileSchema = z.object({
  version: z.string(),
  classes: z.array(z.string()).min(2),
  max_chars: z.number().int().positive(),
  ngrams: z.tuple([z.number().int().positive(), z.number().int().positive()]),
  vocab: z.string(),
  idf: z.array(z.number()),
  weights: z.array(z.number()),
  bias: z.array(z.number()),
});
export type CharChannelFile = z.infer<typeof CharChannelFileSchema>;

/** What the n-grams are read from: NFKC, lower-cased, every space removed ("杀 了 你" reads "杀了你"), cut short. */
export function normalise(text: string, maxChars: number): string[] {
  return Array.from(text.normalize('NFKC').toLowerCase().replace(/\s+/gu, '')).slice(0, maxChars);
}

/** One text as the regression reads it. */
export interface CharReading {
  /** Per class, in the file's class order. */
  logits: number[];
  probabilities: number[];
  /** The words that push `toward` up against `against` (class names) the most, strongest first. */
  words(toward: string, against: string, max?: number): WordWeight[];
}

const SEGMENTER = new Intl.Segmenter('zh', { granularity: 'word' });

export class CharRegression {
  readonly classes: readonly string[];
  readonly maxChars: number;
  readonly #c: CharChannelFile;
  readonly #vocab: Map<string, number>;
  readonly #k: number;

  constructor(channel: unknown) {
    const c = CharChannelFileSchema.parse(channel);
    const vocab = c.vocab.split('\n');
    const k = c.classes.length;
    if (c.idf.length !== vocab.length || c.weights.length !== vocab.length * k || c.bias.length !== k)
      throw new Error(
        `sizes do not agree: ${vocab.length} n-grams, ${c.idf.length} idf, ${c.weights.length} weights, ${c.bias.length} biases for ${k} classes`,
      );
    this.classes = c.classes;
    this.maxChars = c.max_chars;
    this.#c = c;
    this.#k = k;
    this.#vocab = new Map(vocab.map((gram, i) => [gram, i]));
  }

  /** Reads normalised characters (normalise(text, maxChars)). */
  read(chars: string[]): CharReading {
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
    const classes = this.classes;
    return {
      logits,
      probabilities: softmax(logits),
      words: (toward, against, max = 3) => {
        // Each character's share of one class's logit over another's, its n-grams' split evenly.
        const c = classes.indexOf(toward);
        const o = classes.indexOf(against);
        if (c < 0 || o < 0 || c === o) return [];
        const share = new Float64Array(chars.length);
        for (const [j, g] of grams) {
          const part = ((g.x / norm) * (w[j * k + c]! - w[j * k + o]!)) / g.len / g.n;
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
