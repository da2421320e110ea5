/** Below this many vectors a scan of all of them is fast enough (well under a millisecond per thousand). */
const EXACT_BELOW = 8_000;
/** Lists probed per query once the index is clustered. */
const PROBES = 12;
const KMEANS_SAMPLE = 4_000;
const KMEANS_ROUNDS = 6;

/**
 * Embeddings by id with nearest-neighbour search by inner product (cosine for L2-normalised vectors).
 * Small sets are scanned exactly; large ones are clustered (an inverted file: k-means centroids, each vector
 * in its nearest centroid's list) and only the lists nearest the query are scanned, so a query over 100,000
 * items reads a few thousand vectors. Centroids are rebuilt when the set has doubled since they were made.
 */
export class VectorIndex {
  readonly #vectors = new Map<string, Float32Array>();
  #centroids: Float32Array[] = [];
  #lists: Array<Set<string>> = [];
  readonly #listOf = new Map<string, number>();
  #clusteredAt = 0;

  get size(): number {
    return this.#vectors.size;
  }

  get(id: string): Float32Array | undefined {
    return this.#vectors.get(id);
  }

  set(id: string, vector: Float32Array): void {
    this.delete(id);
    this.#vectors.set(id, vector);
    if (this.#centroids.length > 0) this.#assign(id, vector);
  }

  delete(id: string): void {
    if (!this.#vectors.delete(id)) return;
    const list = this.#listOf.get(id);
    if (list !== undefined) {
      this.#lists[list]!.delete(id);
      this.#listOf.delete(id);
    }
  }

  /** Ids of (about) the `k` vectors with the largest inner product with `query`, best first. */
  nearest(query: Float32Array, k: number): string[] {
    if (this.#vectors.size >= EXACT_BELOW && this.#vectors.size >= 2 * this.#clusteredAt) this.#cluster();
    const scored: Array<{ id: string; score: number }> = [];
    const consider = (id: string, vector: Float32Array) => {
      scored.push({ id, score: inner(query, vector) });
    };
    if (this.#centroids.length === 0) {
      for (const [id, vector] of this.#vectors) consider(id, vector);
    } else {
      const order = this.#centroids
        .map((c, i) => ({ i, score: inner(query, c) }))
        .sort((a, b) => b.score - a.score)
        .slice(0, PROBES);
      for (const { i } of order) for (const id of this.#lists[i]!) consider(id, this.#vectors.get(id)!);
    }
    return topK(scored, k).map((s) => s.id);
  }

  #assign(id: string, vector: Float32Array): void {
    let best = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < this.#centroids.length; c++) {
      const score = inner(vector, this.#centroids[c]!);
      if (score > bestScore) {
        bestScore = score;
        best = c;
      }
    }
    this.#lists[best]!.add(id);
    this.#listOf.set(id, best);
  }

  #cluster(): void {
    const all = [...this.#vectors.values()];
    const count = Math.round(Math.sqrt(all.length));
    // Deterministic sample: every n-th vector.
    const step = Math.max(1, Math.floor(all.length / KMEANS_SAMPLE));
    const sample = all.filter((_, i) => i % step === 0);
    const dim = sample[0]!.length;
    let centroids = Array.from({ length: count }, (_, i) =>
      Float32Array.from(sample[Math.floor((i * sample.length) / count)]!),
    );
    for (let round = 0; round < KMEANS_ROUNDS; round++) {
      const sums = Array.from({ length: count }, () => new Float32Array(dim));
      for (const v of sample) {
        const sum = sums[nearestCentroid(v, centroids)]!;
        for (let d = 0; d < dim; d++) sum[d]! += v[d]!;
      }
      // Spherical k-means: centroids are re-normalised; an empty cluster keeps its old centroid.
      centroids = sums.map((sum, i) => (normalise(sum) ? sum : centroids[i]!));
    }
    this.#centroids = centroids;
    this.#lists = centroids.map(() => new Set<string>());
    this.#listOf.clear();
    for (const [id, vector] of this.#vectors) this.#assign(id, vector);
    this.#clusteredAt = this.#vectors.size;
  }
}

function inner(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function nearestCentroid(v: Float32Array, centroids: Float32Array[]): number {
  let best = 0;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < centroids.length; c++) {
    const score = inner(v, centroids[c]!);
    if (score > bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}

function normalise(v: Float32Array): boolean {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
  if (norm === 0) return false;
  norm = Math.sqrt(norm);
  for (let i = 0; i < v.length; i++) v[i]! /= norm;
  return true;
}

/** The k best entries, best first, without sorting everything. */
export function topK<T extends { score: number }>(entries: T[], k: number): T[] {
  if (entries.length <= k * 4) return entries.sort((a, b) => b.score - a.score).slice(0, k);
  const kept: T[] = [];
  let floor = Number.NEGATIVE_INFINITY;
  for (const entry of entries) {
    if (kept.length >= k && entry.score <= floor) continue;
    kept.push(entry);
    if (kept.length >= 2 * k) {
      kept.sort((a, b) => b.score - a.score).length = k;
      floor = kept[k - 1]!.score;
    }
  }
  return kept.sort((a, b) => b.score - a.score).slice(0, k);
}
