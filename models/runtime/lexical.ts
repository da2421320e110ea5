import { z } from 'zod';
import type { WordWeight } from '../../src/domain/analysis.ts';
import { topWordWeights, type Word } from './tokens.ts';
import { loadBesideGraph, type ModelSource } from './settings.ts';

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
  const t = lowered(text, maxChars);
  const toks = t.match(TOKEN) ?? [];
  const words = toks.map((w) => `w ${w}`);
  for (let i = 1; i < toks.length; i++) words.push(`b ${toks[i - 1]} ${toks[i]}`);
  const chars: string[] = [];
  for (const w of t.split(/\s+/u)) {
    if (w === '') continue;
    const p = Array.from(` ${w} `);
    // Every window of 2..5 code points (sklearn's char_wb: a padded word of at most 5 counts once as itself).
    for (let n = 2; n <= Math.min(5, p.length); n++)
      for (let i = 0; i + n <= p.length; i++) chars.push(`c ${p.slice(i, i + n).join('')}`);
  }
  return { words, chars };
}

/** CRC-32 (IEEE, reflected: zlib.crc32) table; the hashes below extend a running CRC byte by byte. */
const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();
const CRC_START = -1;

function crcByte(state: number, byte: number): number {
  return CRC_TABLE[(state ^ byte) & 0xff]! ^ (state >>> 8);
}

/** The running CRC after the UTF-8 bytes of `text`. */
function crcText(state: number, text: string): number {
  let s = state;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) s = crcByte(s, cp);
    else for (const b of utf8(cp)) s = crcByte(s, b);
  }
  return s;
}

function utf8(cp: number): number[] {
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 63)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
}

/** zlib.crc32 of a finished running CRC, as an unsigned 32-bit number. */
function crcEnd(state: number): number {
  return (state ^ -1) >>> 0;
}

const WORD_PREFIX = crcText(CRC_START, 'w ');
const BIGRAM_PREFIX = crcText(CRC_START, 'b ');
const CHAR_PREFIX = crcText(CRC_START, 'c ');
const SPACE = 0x20;

function lowered(text: string, maxChars: number): string {
  // Code points never outnumber UTF-16 units, so a short text needs no cut.
  const cut = text.length <= maxChars ? text : Array.from(text).slice(0, maxChars).join('');
  return cut.toLowerCase();
}

function bump(counts: Map<number, number>, bucket: number): void {
  counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
}

/**
 * Bucket counts of featureStrings(text) (crc32 of each string's UTF-8 mod the group's buckets), without building
 * the strings: each character n-gram's CRC extends the one of the n-gram one character shorter.
 */
export function featureBuckets(
  text: string,
  maxChars: number,
  wordBuckets: number,
  charBuckets: number,
): { tokens: string[]; words: Map<number, number>; chars: Map<number, number> } {
  const t = lowered(text, maxChars);
  const words = new Map<number, number>();
  const toks = t.match(TOKEN) ?? [];
  toks.forEach((tok, i) => {
    bump(words, crcEnd(crcText(WORD_PREFIX, tok)) % wordBuckets);
    if (i > 0)
      bump(words, crcEnd(crcText(crcByte(crcText(BIGRAM_PREFIX, toks[i - 1]!), SPACE), tok)) % wordBuckets);
  });
  const chars = new Map<number, number>();
  const bytes: number[] = [];
  const starts: number[] = [];
  for (const w of t.split(/\s+/u)) {
    if (w === '') continue;
    // The padded word " w " as UTF-8 bytes, with the byte offset where each code point starts.
    bytes.length = 0;
    starts.length = 0;
    starts.push(0);
    bytes.push(SPACE);
    for (const ch of w) {
      starts.push(bytes.length);
      const cp = ch.codePointAt(0)!;
      if (cp < 0x80) bytes.push(cp);
      else bytes.push(...utf8(cp));
    }
    starts.push(bytes.length);
    bytes.push(SPACE);
    starts.push(bytes.length);
    const m = starts.length - 1;
    // Every window of 2..5 code points (sklearn's char_wb: a padded word of m <= 5 code points counts once as itself).
    for (let i = 0; i < m; i++) {
      let state = CHAR_PREFIX;
      for (let n = 1; n <= 5 && i + n <= m; n++) {
        for (let b = starts[i + n - 1]!; b < starts[i + n]!; b++) state = crcByte(state, bytes[b]!);
        if (n >= 2) bump(chars, crcEnd(state) % charBuckets);
      }
    }
  }
  return { tokens: toks, words, chars };
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
    return loadBesideGraph(
      source,
      meta.file,
      'lexical',
      (bytes) => new LexicalChannel(meta, parseSafetensors(bytes)),
    );
  }

  supports(language: string): boolean {
    return this.meta.languages.includes(language);
  }

  /** One preprocessed text through the channel: its logits, and the words behind each output when asked. */
  read(text: string): LexicalReading {
    const f = featureBuckets(text, this.meta.max_chars, this.#word.buckets, this.#char.buckets);
    const word = weigh(this.#word, f.words);
    const logits = Float32Array.from(this.#bias);
    this.#add(logits, this.#word, word);
    this.#add(logits, this.#char, weigh(this.#char, f.chars));
    return { logits, topWords: (j, max = 3) => this.#topWords(f.tokens, word, j, max) };
  }

  /** Logits in `meta.outputs` order for one preprocessed text. */
  logits(text: string): Float32Array {
    return this.read(text).logits;
  }

  /** Each word's part of output j: its unigram's x · w / ‖x‖ in the word group (the graph's words use the same ranking). */
  #topWords(tokens: string[], word: Weighted, j: number, max: number): WordWeight[] {
    const g = this.#word;
    const k = this.#k;
    const unique = [...new Set(tokens)];
    const words: Word[] = unique.map((text, i) => ({ text, positions: [i] }));
    return topWordWeights(
      words,
      (i) => {
        const b = crcEnd(crcText(WORD_PREFIX, unique[i]!)) % g.buckets;
        return (word.xs.get(b) ?? 0) * g.weights[b * k + j]! * g.scale[j]! * word.inv;
      },
      max,
    );
  }

  #add(out: Float32Array, g: Group, { xs, inv }: Weighted): void {
    const k = this.#k;
    for (let j = 0; j < k; j++) {
      let sum = 0;
      for (const [b, x] of xs) sum += x * g.weights[b * k + j]!;
      out[j]! += sum * inv * g.scale[j]!;
    }
  }
}

export interface LexicalReading {
  /** In `meta.outputs` order. */
  logits: Float32Array;
  /** The words that push output `j` up the most, strongest first, weighted against the strongest. */
  topWords(j: number, max?: number): WordWeight[];
}

/** A group's tf-idf values per bucket (sublinear tf times idf) and 1 / their L2 norm (0 for an empty group). */
interface Weighted {
  xs: Map<number, number>;
  inv: number;
}

function weigh(g: Group, counts: Map<number, number>): Weighted {
  const xs = new Map<number, number>();
  let norm = 0;
  for (const [b, c] of counts) {
    const x = (1 + Math.log(c)) * g.idf[b]! * g.idfScale;
    if (x === 0) continue;
    xs.set(b, x);
    norm += x * x;
  }
  return { xs, inv: norm === 0 ? 0 : 1 / Math.sqrt(norm) };
}

/** Mixes a transformer logit with the lexical one: (1 - w) · a + w · b. */
export function mixLogit(transformer: number, lexical: number, w: number): number {
  return (1 - w) * transformer + w * lexical;
}

/**
 * The channel's mix of one text's graph logits, the one rule the runtime (SignalsModel.scoresIn) and `npm run eval`
 * share: `sentiment` in `sentimentLabels` order (after any logit offsets; log-probabilities do as well, softmax is
 * blind to a constant) and the `offensive` logit (undefined when the model has no such label).
 */
export function mixSignals(
  meta: LexicalMeta,
  lex: ArrayLike<number>,
  sentimentLabels: readonly string[],
  sentiment: readonly number[],
  offensive: number | undefined,
): { sentiment: number[]; offensive: number | undefined } {
  const mixed = sentimentLabels.map((label, c) => {
    const at = meta.outputs.indexOf(label);
    return at < 0 ? sentiment[c]! : mixLogit(sentiment[c]!, lex[at]!, meta.mix.sentiment);
  });
  const at = meta.outputs.indexOf('offensive');
  return {
    sentiment: mixed,
    offensive:
      at < 0 || offensive === undefined ? offensive : mixLogit(offensive, lex[at]!, meta.mix.offensive),
  };
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
