import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { z } from 'zod';
import type { WordWeight } from '../../src/domain/analysis.ts';
import { relativeWeight } from './tokens.ts';
import { ModelLoadError, type ModelSource, ROLE_SETTING } from './settings.ts';

/**
 * The signals model's lexical channel (signals 0.3.3, models/training/lexical.py): a TF-IDF logistic regression over
 * hashed word and character n-grams, mixed with the transformer's logits for the languages it was trained on. The
 * features below must stay exactly those of lexical.py (`feature_strings`); the config block's `parity` cases are
 * checked by the tests.
 */
export const LexicalMetaSchema = z.object({
  file: z.string().min(1),
  languages: z.array(z.string()).min(1),
  outputs: z.array(z.string()).min(1),
  /** Per output family: final logit = (1 - w) · transformer logit + w · lexical logit. */
  mix: z.object({ sentiment: z.number().min(0).max(1), offensive: z.number().min(0).max(1) }),
  max_chars: z.number().int().positive(),
  buckets: z.object({ word: z.number().int().positive(), char: z.number().int().positive() }),
  parity: z.array(z.object({ text: z.string(), logits: z.array(z.number()) })).default([]),
});
export type LexicalMeta = z.infer<typeof LexicalMetaSchema>;

const TOKEN = /[\p{L}\p{N}_]{2,}/gu;

/** The word and character feature strings of one (already preprocessed) text, as lexical.py writes them. */
export function featureStrings(text: string, maxChars: number): { words: string[]; chars: string[] } {
  const t = Array.from(text).slice(0, maxChars).join('').toLowerCase();
  const toks = t.match(TOKEN) ?? [];
  const words = toks.map((w) => `w ${w}`);
  for (let i = 1; i < toks.length; i++) words.push(`b ${toks[i - 1]} ${toks[i]}`);
  const chars: string[] = [];
  for (const w of t.split(/\s+/u)) {
    if (w === '') continue;
    const p = Array.from(` ${w} `);
    for (let n = 2; n <= 5; n++) {
      if (p.length <= n) {
        chars.push(`c ${p.join('')}`);
        break;
      }
      for (let i = 0; i + n <= p.length; i++) chars.push(`c ${p.slice(i, i + n).join('')}`);
    }
  }
  return { words, chars };
}

interface Group {
  /** idf per bucket, uint8 times `idfScale` (0: a bucket seen in fewer than two training texts). */
  idf: Uint8Array;
  idfScale: number;
  weights: Int8Array;
  scale: Float32Array;
  buckets: number;
}

export class LexicalChannel {
  readonly meta: LexicalMeta;
  readonly #word: Group;
  readonly #char: Group;
  readonly #bias: Float32Array;
  readonly #k: number;

  constructor(meta: LexicalMeta, tensors: Map<string, ArrayBufferView>) {
    this.meta = meta;
    this.#k = meta.outputs.length;
    const get = <T extends ArrayBufferView>(
      name: string,
      kind: new (...a: never[]) => T,
      length: number,
    ): T => {
      const t = tensors.get(name);
      if (!(t instanceof kind) || (t as unknown as { length: number }).length !== length) {
        throw new Error(`tensor ${name} is missing or has the wrong type or size`);
      }
      return t;
    };
    const idfScale = get('idf_scale', Float32Array, 2);
    const group = (g: 'word' | 'char'): Group => {
      const buckets = meta.buckets[g];
      return {
        buckets,
        idf: get(`idf_${g}`, Uint8Array, buckets),
        idfScale: idfScale[g === 'word' ? 0 : 1]!,
        weights: get(`w_${g}`, Int8Array, buckets * this.#k),
        scale: get(`scale_${g}`, Float32Array, this.#k),
      };
    };
    this.#word = group('word');
    this.#char = group('char');
    this.#bias = get('bias', Float32Array, this.#k);
  }

  /** Reads `<folder>/<file>` for a model whose config.json carries a lexical_channel block. */
  static async load(source: ModelSource, meta: LexicalMeta): Promise<LexicalChannel> {
    const file = path.join(source.location, meta.file);
    try {
      return new LexicalChannel(meta, parseSafetensors(await readFile(file)));
    } catch (error) {
      throw new ModelLoadError(
        `${ROLE_SETTING[source.role]}: ${file} (the lexical channel its config.json names) could not be read: ${
          error instanceof Error ? error.message : String(error)
        }`,
        error,
      );
    }
  }

  supports(language: string): boolean {
    return this.meta.languages.includes(language);
  }

  /** Logits in `meta.outputs` order for one preprocessed text. */
  logits(text: string): Float32Array {
    const { words, chars } = featureStrings(text, this.meta.max_chars);
    const out = Float32Array.from(this.#bias);
    this.#add(out, this.#word, words);
    this.#add(out, this.#char, chars);
    return out;
  }

  /**
   * The words (unigram features) that push output `j` up the most, strongest first, weighted against the strongest:
   * each word's x · w / ‖x‖ in the word group, the part of the logit it carries.
   */
  topWords(text: string, j: number, max = 3): WordWeight[] {
    const t = Array.from(text).slice(0, this.meta.max_chars).join('').toLowerCase();
    const toks = t.match(TOKEN) ?? [];
    const { words } = featureStrings(text, this.meta.max_chars);
    const g = this.#word;
    const counts = new Map<number, number>();
    for (const s of words) {
      const b = crc32(s) % g.buckets;
      counts.set(b, (counts.get(b) ?? 0) + 1);
    }
    let norm = 0;
    for (const [b, c] of counts) norm += ((1 + Math.log(c)) * g.idf[b]! * g.idfScale) ** 2;
    if (norm === 0) return [];
    const k = this.#k;
    const scored = new Map<string, number>();
    for (const tok of new Set(toks)) {
      const b = crc32(`w ${tok}`) % g.buckets;
      const x = (1 + Math.log(counts.get(b) ?? 1)) * g.idf[b]! * g.idfScale;
      const score = (x * g.weights[b * k + j]! * g.scale[j]!) / Math.sqrt(norm);
      if (score > 0) scored.set(tok, score);
    }
    const ranked = [...scored].sort((a, b) => b[1] - a[1]);
    const top = ranked[0]?.[1] ?? 0;
    return ranked
      .filter(([, s]) => s >= top * 0.1)
      .slice(0, max)
      .map(([word, s]) => ({ word, weight: relativeWeight(s, top) }));
  }

  #add(out: Float32Array, g: Group, strings: string[]): void {
    const counts = new Map<number, number>();
    for (const s of strings) {
      const b = crc32(s) % g.buckets;
      counts.set(b, (counts.get(b) ?? 0) + 1);
    }
    let norm = 0;
    const xs: Array<[number, number]> = [];
    for (const [b, c] of counts) {
      const x = (1 + Math.log(c)) * g.idf[b]! * g.idfScale;
      if (x === 0) continue;
      xs.push([b, x]);
      norm += x * x;
    }
    if (norm === 0) return;
    const inv = 1 / Math.sqrt(norm);
    const k = this.#k;
    for (let j = 0; j < k; j++) {
      let sum = 0;
      for (const [b, x] of xs) sum += x * g.weights[b * k + j]!;
      out[j]! += sum * inv * g.scale[j]!;
    }
  }
}

/** Mixes a transformer logit with the lexical one: (1 - w) · a + w · b. */
export function mixLogit(transformer: number, lexical: number, w: number): number {
  return (1 - w) * transformer + w * lexical;
}

const DTYPES = { F32: Float32Array, I8: Int8Array, U8: Uint8Array } as const;

/** The safetensors layout: an 8-byte little-endian header length, a JSON header, then the raw tensors. */
export function parseSafetensors(buf: Buffer): Map<string, ArrayBufferView> {
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<
    string,
    { dtype: keyof typeof DTYPES; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + n;
  const out = new Map<string, ArrayBufferView>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const kind = DTYPES[t.dtype];
    if (!kind) throw new Error(`tensor ${name} has unsupported dtype ${t.dtype}`);
    const [a, b] = t.data_offsets;
    // Copy into an aligned buffer: typed arrays need their element alignment.
    const bytes = new Uint8Array(b - a);
    bytes.set(buf.subarray(base + a, base + b));
    out.set(name, new kind(bytes.buffer, 0, (b - a) / kind.BYTES_PER_ELEMENT));
  }
  return out;
}
