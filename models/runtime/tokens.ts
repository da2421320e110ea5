import { type PreTrainedTokenizer, Tensor } from '@huggingface/transformers';
import type { WordWeight } from '../../src/domain/analysis.ts';
import { ZH_TERMS } from '../../src/domain/insults-zh.ts';

/** One text as token ids, already cut to the model's limit. */
export interface Encoded {
  ids: number[];
  /** Token strings, aligned with ids (for merging attributions back into words). */
  tokens: string[];
  /** Tokens dropped by truncation (0 when the text fit; a lower bound when the text was pre-cut). */
  dropped: number;
}

/**
 * Characters kept per allowed token before tokenizing. Pieces are at most ~16 characters, so the kept
 * span always holds more than `maxLength` tokens, and the pure-JS BPE never walks a 40,000-character
 * message (that takes ~0.6 s) to keep its first 128 tokens.
 */
export const CHARS_PER_TOKEN_BOUND = 32;

/** The part of a text that can matter for `maxLength` tokens kept from one end. */
export function precut(text: string, maxLength: number, keep: 'start' | 'end'): string {
  const limit = maxLength * CHARS_PER_TOKEN_BOUND;
  if (!Number.isFinite(limit) || text.length <= limit) return text;
  return keep === 'start' ? text.slice(0, limit) : text.slice(text.length - limit);
}

/**
 * Tokenizes one text and truncates it ourselves rather than through the tokenizer: transformers.js' batch
 * truncation slices the tail off, which drops the closing special token (</s>, [SEP]) that the model saw in
 * training. `keep: 'end'` keeps the most recent text (reply context), 'start' the beginning (signals).
 */
export function encode(
  tokenizer: PreTrainedTokenizer,
  text: string,
  maxLength: number,
  keep: 'start' | 'end' = 'start',
): Encoded {
  const cut = precut(text, maxLength, keep);
  const { ids, tokens } = tokenizer._tokenizer.encode(cut);
  if (ids.length <= maxLength) return { ids, tokens, dropped: cut.length < text.length ? 1 : 0 };
  const { special } = factsOf(tokenizer);
  // Special tokens at either edge (BOS/CLS at the start, EOS/SEP at the end) survive truncation.
  let head = 0;
  while (head < ids.length && special.has(ids[head]!)) head++;
  let tail = ids.length;
  while (tail > head && special.has(ids[tail - 1]!)) tail--;
  const room = Math.max(0, maxLength - head - (ids.length - tail));
  const [from, to] = keep === 'start' ? [head, head + room] : [tail - room, tail];
  const pick = <T>(xs: T[]) => [...xs.slice(0, head), ...xs.slice(from, to), ...xs.slice(tail)];
  return { ids: pick(ids), tokens: pick(tokens), dropped: ids.length - (head + room + ids.length - tail) };
}

/** Right-padded input_ids / attention_mask tensors for a batch, padded to its longest member only. */
export function toBatch(
  rows: number[][],
  padId: number,
): { input_ids: Tensor; attention_mask: Tensor; width: number } {
  const width = Math.max(1, ...rows.map((r) => r.length));
  const ids = new BigInt64Array(rows.length * width).fill(BigInt(padId));
  const mask = new BigInt64Array(rows.length * width);
  rows.forEach((row, b) => {
    row.forEach((id, t) => {
      ids[b * width + t] = BigInt(id);
      mask[b * width + t] = 1n;
    });
  });
  const dims = [rows.length, width];
  return {
    input_ids: new Tensor('int64', ids, dims),
    attention_mask: new Tensor('int64', mask, dims),
    width,
  };
}

/**
 * Groups item indices into encoder runs of similar length so a long text does not make a whole batch pad to its
 * size. Items are sorted by length and cut into contiguous runs (at most `maxItems` each, at most `maxTokens`
 * padded tokens unless a single item is longer).
 *
 * Without `runOverheadTokens` runs are filled greedily up to `maxItems` (what batched generation wants: the
 * decoder's cost is per step, so fewer, fuller batches win). With it, the cut is the one that minimises
 * Σ (runOverheadTokens + items × width) over the runs — padded tokens plus a fixed cost per run, expressed in
 * tokens — found exactly by dynamic programming over the sorted lengths (O(n · maxItems)). That trades padding
 * against per-run overhead instead of guessing a bucket size.
 */
export function planBuckets(
  lengths: number[],
  maxItems: number,
  maxTokens: number,
  runOverheadTokens?: number,
): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const limit = Math.max(1, Math.floor(maxItems));
  const fits = (items: number, width: number) => items === 1 || items * width <= maxTokens;
  if (runOverheadTokens === undefined) {
    const buckets: number[][] = [];
    let current: number[] = [];
    for (const index of order) {
      if (current.length > 0 && (current.length >= limit || !fits(current.length + 1, lengths[index]!))) {
        buckets.push(current);
        current = [];
      }
      current.push(index);
    }
    if (current.length > 0) buckets.push(current);
    return buckets;
  }
  const n = order.length;
  // cost[j]: cheapest plan for the j shortest items; from[j]: where its last run starts.
  const cost = new Float64Array(n + 1).fill(Number.POSITIVE_INFINITY);
  const from = new Int32Array(n + 1);
  cost[0] = 0;
  for (let j = 1; j <= n; j++) {
    const width = lengths[order[j - 1]!]!;
    for (let i = j - 1; i >= Math.max(0, j - limit); i--) {
      if (!fits(j - i, width)) break;
      const c = cost[i]! + runOverheadTokens + (j - i) * width;
      if (c < cost[j]!) {
        cost[j] = c;
        from[j] = i;
      }
    }
  }
  const buckets: number[][] = [];
  for (let j = n; j > 0; j = from[j]!) buckets.push(order.slice(from[j]!, j));
  return buckets.reverse();
}

/** A word of the input: the token positions that make it up and how it reads. */
export interface Word {
  positions: number[];
  text: string;
}

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
// '@' and '#' stay: "@user" and "#tag" read better to a moderator than "user" and "tag".
const EDGE_PUNCT = /^(?:(?![@#])[\p{P}\s])+|(?:(?![@#])[\p{P}\s])+$/gu;

type Scheme = 'metaspace' | 'wordpiece' | 'bytelevel';

interface TokenizerFacts {
  scheme: Scheme;
  special: Set<number>;
}

const FACTS = new WeakMap<PreTrainedTokenizer, TokenizerFacts>();

function factsOf(tokenizer: PreTrainedTokenizer): TokenizerFacts {
  let facts = FACTS.get(tokenizer);
  if (!facts) {
    const json = tokenizer._tokenizerJSON ?? {};
    const types = JSON.stringify([json.pre_tokenizer, json.decoder]);
    const scheme: Scheme =
      json.model?.type === 'WordPiece'
        ? 'wordpiece'
        : types.includes('"ByteLevel"')
          ? 'bytelevel'
          : 'metaspace';
    facts = { scheme, special: new Set(tokenizer.all_special_ids) };
    FACTS.set(tokenizer, facts);
  }
  return facts;
}

const BYTE_PIECE = /^<0x[0-9A-Fa-f]{2}>$/;

/**
 * Merges subword tokens back into words. Word starts are marked by '▁' (Metaspace / sentencepiece) or 'Ġ'
 * (byte-level BPE); WordPiece marks continuations with '##' instead. CJK runs have no spaces, so they are
 * split further at token boundaries where the text decodes cleanly (byte-fallback pieces of one character
 * stay together). Special tokens and punctuation-only words are left out. Plain pieces are joined as
 * strings; the tokenizer's decoder only runs for byte pieces, which keeps this cheap on every message.
 */
export function wordsOf(tokenizer: PreTrainedTokenizer, encoded: Encoded): Word[] {
  const { scheme, special } = factsOf(tokenizer);
  const groups: number[][] = [];
  encoded.tokens.forEach((token, position) => {
    if (special.has(encoded.ids[position]!)) return;
    const starts =
      scheme === 'wordpiece' ? !token.startsWith('##') : token.startsWith('▁') || token.startsWith('Ġ');
    const last = groups.at(-1);
    if (starts || !last || last.at(-1) !== position - 1) groups.push([position]);
    else last.push(position);
  });
  const decode = (positions: number[]) =>
    tokenizer.decode(
      positions.map((p) => encoded.ids[p]!),
      { skip_special_tokens: true },
    );
  const plain = (positions: number[]) =>
    scheme === 'wordpiece'
      ? positions.map((p) => encoded.tokens[p]!.replace(/^##/, '')).join('')
      : positions.map((p) => encoded.tokens[p]!.replace(/^▁/, '')).join('');
  const words: Word[] = [];
  for (const positions of groups) {
    const bytes = scheme === 'bytelevel' || positions.some((p) => BYTE_PIECE.test(encoded.tokens[p]!));
    const text = bytes ? decode(positions) : plain(positions);
    if (!CJK.test(text) || positions.length === 1) words.push({ positions, text });
    else
      words.push(
        ...segmentCjk(
          bytes
            ? splitClean(positions, decode)
            : positions.map((p) => ({ positions: [p], text: plain([p]) })),
        ),
      );
  }
  return words
    .map((w) => ({ positions: w.positions, text: w.text.trim().replace(EDGE_PUNCT, '') }))
    .filter((w) => w.text.length > 0);
}

const CJK_WORDS = new Intl.Segmenter('zh', { granularity: 'word' });

/**
 * A CJK run as words, not single characters: ICU's dictionary word break (Intl.Segmenter with `zh`) cuts the
 * run's text, and each word takes the tokens whose characters it covers (a token across a cut goes to both).
 */
function segmentCjk(pieces: Word[]): Word[] {
  const text = pieces.map((p) => p.text).join('');
  const starts: number[] = [];
  let offset = 0;
  for (const piece of pieces) {
    starts.push(offset);
    offset += piece.text.length;
  }
  const out: Word[] = [];
  for (const { segment, index } of keepTermsWhole([...CJK_WORDS.segment(text)])) {
    const end = index + segment.length;
    const positions = pieces.flatMap((piece, i) =>
      starts[i]! < end && starts[i]! + piece.text.length > index ? piece.positions : [],
    );
    if (positions.length > 0) out.push({ positions: [...new Set(positions)], text: segment });
  }
  return out;
}

/** Longest run of segments the word list needs whole, in segments. */
const LONGEST_TERM = 4;

/**
 * ICU's dictionary does not know slang and insults, and cuts them into characters (傻|逼, 贱|人); the words of
 * insults-zh.ts are put back together, so a flag names "傻逼", not two characters.
 */
function keepTermsWhole(segments: Intl.SegmentData[]): Array<{ segment: string; index: number }> {
  const out: Array<{ segment: string; index: number }> = [];
  for (let i = 0; i < segments.length; ) {
    let taken = 1;
    for (let n = Math.min(LONGEST_TERM, segments.length - i); n > 1; n--) {
      const joined = segments
        .slice(i, i + n)
        .map((s) => s.segment)
        .join('');
      if (ZH_TERMS.has(joined)) {
        taken = n;
        break;
      }
    }
    const parts = segments.slice(i, i + taken);
    out.push({ segment: parts.map((s) => s.segment).join(''), index: parts[0]!.index });
    i += taken;
  }
  return out;
}

function splitClean(positions: number[], decode: (p: number[]) => string): Word[] {
  const out: Word[] = [];
  let run: number[] = [];
  for (const p of positions) {
    run.push(p);
    const text = decode(run);
    if (!text.includes('\uFFFD')) {
      out.push({ positions: run, text });
      run = [];
    }
  }
  if (run.length > 0) out.push({ positions: run, text: decode(run) });
  return out;
}

/**
 * Per word, the summed contribution of its tokens; returns up to `max` distinct words with a positive
 * contribution, strongest first. Words far weaker than the strongest (< 10 %) are noise and left out.
 */
export function topWords(words: Word[], contribution: (position: number) => number, max = 3): string[] {
  return topWordWeights(words, contribution, max).map((w) => w.word);
}

/**
 * topWords with each word's contribution relative to the strongest word's (1 for it, at least 0.1 for the others,
 * two decimals): the weights the dashboard's heat-map shows.
 */
export function topWordWeights(
  words: Word[],
  contribution: (position: number) => number,
  max = 3,
): WordWeight[] {
  const best = new Map<string, { text: string; score: number }>();
  for (const { text, score } of joinCharacters(words, contribution)) {
    const key = text.toLowerCase();
    const seen = best.get(key);
    if (score > 0 && (!seen || score > seen.score)) best.set(key, { text, score });
  }
  const ranked = [...best.values()].sort((a, b) => b.score - a.score);
  const top = ranked[0]?.score ?? 0;
  return ranked
    .filter((w) => w.score >= top * 0.1)
    .slice(0, max)
    .map((w) => ({ word: w.text, weight: relativeWeight(w.score, top) }));
}

/** Particles, pronouns and the like: a word of their own, never the half of one ("黑" + "吗" is not "黑吗"). */
const FUNCTION_CHARACTERS = new Set(
  '的了吗呢吧啊呀么就也都还又才再你我他她它们这那是在被把和与跟及或成给让对很太更最不没别要会能可说个'.split(
    '',
  ),
);

/** One character written in a script without spaces (a Han character ICU's dictionary left on its own). */
const LONE_CHARACTER = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]$/u;

/**
 * Each word with its summed contribution, where neighbouring single characters that both count (at least a tenth of
 * the strongest word's) are one phrase: ICU's dictionary leaves words it does not know as characters (杀|毒 in
 * 杀毒软件), and a moderator reads "杀毒", not "毒" and "杀" listed apart.
 */
function joinCharacters(
  words: Word[],
  contribution: (position: number) => number,
): Array<{ text: string; score: number }> {
  const scored = words.map((w) => ({
    word: w,
    score: w.positions.reduce((sum, p) => sum + contribution(p), 0),
  }));
  const top = Math.max(0, ...scored.map((w) => w.score));
  const counts = (w: (typeof scored)[number]) =>
    LONE_CHARACTER.test(w.word.text) && !FUNCTION_CHARACTERS.has(w.word.text) && w.score >= top * 0.1;
  const out: Array<{ text: string; score: number; last: number; lone: boolean }> = [];
  for (const w of scored) {
    const previous = out.at(-1);
    const lone = counts(w);
    if (lone && previous?.lone && w.word.positions[0]! <= previous.last + 1) {
      previous.text += w.word.text;
      previous.score += w.score;
      previous.last = Math.max(previous.last, ...w.word.positions);
    } else out.push({ text: w.word.text, score: w.score, last: Math.max(...w.word.positions), lone });
  }
  return out;
}

/** A score divided by the strongest one, clamped to 0..1 and rounded to two decimals (what the flag log keeps). */
export function relativeWeight(score: number, top: number): number {
  if (!(top > 0)) return 0;
  return Math.round(Math.min(1, Math.max(0, score / top)) * 100) / 100;
}
