import type { Recommendation } from '../../src/domain/profile.ts';
import type { Catalog } from './catalog.ts';

/** What a recommendation is computed from: a member's profile, a request, or both. */
export interface RecommendInput {
  profile?: { vector: ArrayLike<number>; terms: Record<string, number> } | null;
  /** The request: its content words, and its embedding unless the model cannot read its language (null). */
  request?: { words: readonly string[]; embedding: ArrayLike<number> | null } | null;
}

export interface RankOptions {
  /** Weight of the lexical (matched words) part; the embedding cosine gets the rest. */
  lexicalWeight: number;
  /** Share of the request in the combined query when there is a request and a profile. */
  requestShare: number;
  limit: number;
  /** Only items of these kinds (all when unset). */
  kinds?: readonly string[];
}

export const DefaultRankOptions = Object.freeze({
  // Chosen on self_dialogue train (every 10th conversation of each topic: `bench/recommend-eval.ts --split train
  // --every 10`), never on validation: the weight with the best top-1 there, the smallest on a tie (0.5: 79.1 %,
  // 0.6 and 0.7: 79.5 %, 0.8 and 0.9: 79.6 %, words alone 75.4 %). The tiny English model's embeddings carry
  // little topic information; they still settle members whose words miss every description.
  lexicalWeight: 0.8,
  requestShare: 0.75,
  limit: 3,
}) satisfies Readonly<RankOptions>;

const MAX_WHY_WORDS = 3;

/**
 * Ranks every item of the catalog for a profile and/or a request. Score = (1 − λ)·cosine(query, item) +
 * λ·lexical, where the query embedding blends the request's and the profile's, and lexical is the share of the
 * (IDF- and profile-weighted) words of the request and profile that the item contains. The matched words are
 * the explanation: every result says which profile terms and request words it matched.
 */
export function recommend(
  catalog: Catalog,
  input: RecommendInput,
  options: Partial<RankOptions> = {},
): Recommendation[] {
  const o = { ...DefaultRankOptions, ...options };
  const n = catalog.size;
  if (n === 0) return [];
  const share = input.request ? (input.profile ? o.requestShare : 1) : 0;

  // Lexical: accumulate per item through the posting lists of the query's words.
  const lexical = new Float32Array(n);
  const addTerms = (weights: Map<string, number>, part: number) => {
    let total = 0;
    for (const [word, w] of weights) total += w * (catalog.idf.get(word) ?? 0);
    if (total <= 0 || part <= 0) return;
    for (const [word, w] of weights) {
      const list = catalog.postings.get(word);
      if (!list) continue;
      const add = (part * w * catalog.idf.get(word)!) / total;
      for (let j = 0; j < list.length; j++) lexical[list[j]!]! += add;
    }
  };
  const requestWords = new Map<string, number>();
  for (const word of input.request?.words ?? []) requestWords.set(word, 1);
  // A word's weight in a profile grows with the log of how often the member used it: one favourite word should
  // not outweigh all the others (on self_dialogue train: 74.4 % → 75.1 % top-1).
  const profileTerms = new Map(
    Object.entries(input.profile?.terms ?? {}).map(([t, w]) => [t, Math.log1p(w)] as const),
  );
  addTerms(requestWords, share);
  addTerms(profileTerms, 1 - share);

  // Semantic: one pass over the matrix with the blended, normalised query.
  const blended = blend(catalog.dim, [
    [input.request?.embedding ?? null, share],
    [input.profile?.vector ?? null, 1 - share],
  ]);
  const query = blended && catalog.centre(blended);
  const scores = new Float32Array(n);
  if (query) matVec(catalog.matrix, n, catalog.dim, query, scores);
  const semantic = 1 - o.lexicalWeight;
  for (let i = 0; i < n; i++) scores[i] = semantic * scores[i]! + o.lexicalWeight * lexical[i]!;

  const best = topK(scores, o.limit, o.kinds ? (i) => o.kinds!.includes(catalog.items[i]!.kind) : undefined);
  return best.map((i) => {
    const item = catalog.items[i]!;
    const matched = {
      // A word the member just asked about is reported once, as asked.
      profile: matchedWords(catalog, i, profileTerms).filter((w) => !requestWords.has(w)),
      request: matchedWords(catalog, i, requestWords),
    };
    const rec: Recommendation = {
      id: item.id,
      title: item.title,
      kind: item.kind,
      score: Math.round(scores[i]! * 1000) / 1000,
      why: explain(matched),
      matched,
    };
    if (item.url !== undefined) rec.url = item.url;
    return rec;
  });
}

/** The member-facing reason: request words first, then profile terms; the embedding alone when nothing matched. */
export function explain(matched: Recommendation['matched'], language?: string): string {
  const zh = language === 'zh';
  const parts: string[] = [];
  if (matched.request.length > 0)
    parts.push(zh ? `你问到了${joinPairs(matched.request).join('、')}` : `you asked about ${joinPairs(matched.request).join(', ')}`);
  if (matched.profile.length > 0)
    parts.push(zh ? `你聊过${joinPairs(matched.profile).join('、')}` : `you talked about ${joinPairs(matched.profile).join(', ')}`);
  if (parts.length === 0) return zh ? '和你平时聊的内容相近' : 'close in meaning to what you talk about';
  return parts.join(zh ? '；' : '; ');
}

const HAN_PAIR = /^\p{Script=Han}{2}$/u;

/**
 * Overlapping Chinese character pairs read badly (风景, 景优, 优美): a pair whose both characters are covered by
 * neighbouring pairs still shown is left out (风景, 优美).
 */
export function joinPairs(words: readonly string[]): string[] {
  const dropped = new Set<string>();
  const shown = (w: string) => words.includes(w) && !dropped.has(w);
  return words.filter((word) => {
    if (!HAN_PAIR.test(word)) return true;
    const left = words.some((p) => p !== word && HAN_PAIR.test(p) && p[1] === word[0] && shown(p));
    const right = words.some((p) => p !== word && HAN_PAIR.test(p) && p[0] === word[1] && shown(p));
    if (left && right) dropped.add(word);
    return !(left && right);
  });
}

function matchedWords(catalog: Catalog, item: number, weights: Map<string, number>): string[] {
  const hits: Array<[string, number]> = [];
  for (const [word, w] of weights) {
    const list = catalog.postings.get(word);
    if (list && contains(list, item)) hits.push([word, w * catalog.idf.get(word)!]);
  }
  return hits
    .sort((a, b) => b[1] - a[1])
    .slice(0, MAX_WHY_WORDS)
    .map(([word]) => word);
}

/** Binary search: posting lists are built in item order. */
function contains(list: Uint32Array, value: number): boolean {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = list[mid]!;
    if (v === value) return true;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** out[i] = row i of `matrix` · `query`: the hot loop (10,000 × 128 per recommendation), kept tight and unrolled. */
function matVec(matrix: Float32Array, n: number, dim: number, query: Float32Array, out: Float32Array): void {
  const tail = dim - (dim % 4);
  for (let i = 0, base = 0; i < n; i++, base += dim) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let d = 0;
    for (; d < tail; d += 4) {
      s0 += matrix[base + d]! * query[d]!;
      s1 += matrix[base + d + 1]! * query[d + 1]!;
      s2 += matrix[base + d + 2]! * query[d + 2]!;
      s3 += matrix[base + d + 3]! * query[d + 3]!;
    }
    for (; d < dim; d++) s0 += matrix[base + d]! * query[d]!;
    out[i] = s0 + s1 + s2 + s3;
  }
}

/** Weighted sum of the given vectors, each normalised first, then normalised; null when none is given. */
function blend(dim: number, parts: Array<[ArrayLike<number> | null, number]>): Float32Array | null {
  const out = new Float32Array(dim);
  let any = false;
  for (const [v, w] of parts) {
    if (!v || w <= 0 || v.length !== dim) continue;
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += v[d]! * v[d]!;
    if (norm === 0) continue;
    const scale = w / Math.sqrt(norm);
    for (let d = 0; d < dim; d++) out[d]! += v[d]! * scale;
    any = true;
  }
  if (!any) return null;
  let norm = 0;
  for (let d = 0; d < dim; d++) norm += out[d]! * out[d]!;
  const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let d = 0; d < dim; d++) out[d]! *= inv;
  return out;
}

/** Indices of the k largest scores, best first (a linear scan with a small sorted buffer). */
function topK(scores: Float32Array, k: number, keep?: (i: number) => boolean): number[] {
  const best: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    if (keep && !keep(i)) continue;
    const s = scores[i]!;
    if (best.length === k && s <= scores[best[k - 1]!]!) continue;
    let at = best.length;
    while (at > 0 && scores[best[at - 1]!]! < s) at--;
    best.splice(at, 0, i);
    if (best.length > k) best.pop();
  }
  return best;
}
