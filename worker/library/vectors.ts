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
 *
 * Vectors live in one Float32Array (a row per slot, freed slots reused) and lists hold slot numbers, so a
 * query walks contiguous memory and allocates nothing per vector scanned; per-vector objects and string-keyed
 * look-ups made the scan cost microseconds per vector instead of a fraction of one.
 */
export class VectorIndex {
  #dim = 0;
  #rows = new Float32Array(0);
  /** Id held by each slot; undefined for a free slot. */
  #ids: Array<string | undefined> = [];
  readonly #slotOf = new Map<string, number>();
  readonly #free: number[] = [];
  #centroids = new Float32Array(0);
  #lists: SlotList[] = [];
  /** Slot → its list (-1 when not clustered) and its position there, for O(1) removal. */
  #listOf = new Int32Array(0);
  #positionOf = new Int32Array(0);
  #clusteredAt = 0;

  get size(): number {
    return this.#slotOf.size;
  }

  /** The stored vector (a view that is valid until the next set()). */
  get(id: string): Float32Array | undefined {
    const slot = this.#slotOf.get(id);
    return slot === undefined ? undefined : this.#row(slot);
  }

  set(id: string, vector: Float32Array): void {
    if (this.#dim === 0) this.#dim = vector.length;
    if (vector.length !== this.#dim)
      throw new Error(`vector of ${vector.length} dimensions; the index holds ${this.#dim}`);
    let slot = this.#slotOf.get(id);
    if (slot !== undefined) this.#unlist(slot);
    else {
      slot = this.#free.pop() ?? this.#ids.length;
      if (slot === this.#ids.length) this.#grow(slot + 1);
      this.#ids[slot] = id;
      this.#slotOf.set(id, slot);
    }
    this.#rows.set(vector, slot * this.#dim);
    if (this.#lists.length > 0) this.#list(slot, nearestRow(this.#rows, slot * this.#dim, this.#centroids, this.#dim));
  }

  delete(id: string): void {
    const slot = this.#slotOf.get(id);
    if (slot === undefined) return;
    this.#slotOf.delete(id);
    this.#unlist(slot);
    this.#ids[slot] = undefined;
    this.#free.push(slot);
  }

  /** Ids of (about) the `k` vectors with the largest inner product with `query`, best first. */
  nearest(query: Float32Array, k: number): string[] {
    if (this.size === 0 || k <= 0) return [];
    if (query.length !== this.#dim)
      throw new Error(`query of ${query.length} dimensions; the index holds ${this.#dim}`);
    if (this.size >= EXACT_BELOW && this.size >= 2 * this.#clusteredAt) this.#cluster();
    const best = new TopK(k);
    const rows = this.#rows;
    const dim = this.#dim;
    if (this.#lists.length === 0) {
      for (let slot = 0; slot < this.#ids.length; slot++)
        if (this.#ids[slot] !== undefined) best.offer(slot, dotAt(rows, slot * dim, query, dim));
    } else {
      const probes = new TopK(Math.min(PROBES, this.#lists.length));
      for (let c = 0; c < this.#lists.length; c++) probes.offer(c, dotAt(this.#centroids, c * dim, query, dim));
      for (const c of probes.sorted()) {
        const list = this.#lists[c]!;
        for (let p = 0; p < list.length; p++) {
          const slot = list.slots[p]!;
          best.offer(slot, dotAt(rows, slot * dim, query, dim));
        }
      }
    }
    return best.sorted().map((slot) => this.#ids[slot]!);
  }

  #row(slot: number): Float32Array {
    return this.#rows.subarray(slot * this.#dim, (slot + 1) * this.#dim);
  }

  #grow(slots: number): void {
    const capacity = this.#listOf.length;
    if (slots <= capacity) return;
    const next = Math.max(64, capacity * 2, slots);
    const rows = new Float32Array(next * this.#dim);
    rows.set(this.#rows);
    this.#rows = rows;
    const listOf = new Int32Array(next).fill(-1);
    listOf.set(this.#listOf);
    this.#listOf = listOf;
    const positionOf = new Int32Array(next);
    positionOf.set(this.#positionOf);
    this.#positionOf = positionOf;
  }

  #list(slot: number, c: number): void {
    const list = this.#lists[c]!;
    this.#listOf[slot] = c;
    this.#positionOf[slot] = list.length;
    list.push(slot);
  }

  #unlist(slot: number): void {
    const c = this.#listOf[slot]!;
    if (c < 0) return;
    const moved = this.#lists[c]!.removeAt(this.#positionOf[slot]!);
    if (moved >= 0) this.#positionOf[moved] = this.#positionOf[slot]!;
    this.#listOf[slot] = -1;
  }

  #cluster(): void {
    const dim = this.#dim;
    const live: number[] = [];
    for (let slot = 0; slot < this.#ids.length; slot++) if (this.#ids[slot] !== undefined) live.push(slot);
    const count = Math.round(Math.sqrt(live.length));
    // Deterministic sample: every n-th vector.
    const step = Math.max(1, Math.floor(live.length / KMEANS_SAMPLE));
    const sampled = live.filter((_, i) => i % step === 0);
    const sample = new Float32Array(sampled.length * dim);
    sampled.forEach((slot, i) => sample.set(this.#row(slot), i * dim));
    let centroids = new Float32Array(count * dim);
    for (let c = 0; c < count; c++)
      centroids.set(sample.subarray(Math.floor((c * sampled.length) / count) * dim).subarray(0, dim), c * dim);
    for (let round = 0; round < KMEANS_ROUNDS; round++) {
      const sums = new Float32Array(count * dim);
      for (let i = 0; i < sampled.length; i++) {
        const c = nearestRow(sample, i * dim, centroids, dim);
        for (let d = 0; d < dim; d++) sums[c * dim + d]! += sample[i * dim + d]!;
      }
      // Spherical k-means: centroids are re-normalised; an empty cluster keeps its old centroid.
      for (let c = 0; c < count; c++)
        if (!normalise(sums, c * dim, dim)) sums.set(centroids.subarray(c * dim, (c + 1) * dim), c * dim);
      centroids = sums;
    }
    this.#centroids = centroids;
    this.#lists = Array.from({ length: count }, () => new SlotList());
    this.#listOf.fill(-1);
    for (const slot of live) this.#list(slot, nearestRow(this.#rows, slot * dim, centroids, dim));
    this.#clusteredAt = live.length;
  }
}

/** A growable list of slot numbers with swap-removal. */
class SlotList {
  slots = new Int32Array(16);
  length = 0;

  push(slot: number): void {
    if (this.length === this.slots.length) {
      const next = new Int32Array(this.slots.length * 2);
      next.set(this.slots);
      this.slots = next;
    }
    this.slots[this.length++] = slot;
  }

  /** Removes the entry at `position` by moving the last one there; returns the moved slot (-1 when none). */
  removeAt(position: number): number {
    this.length -= 1;
    if (position === this.length) return -1;
    const moved = this.slots[this.length]!;
    this.slots[position] = moved;
    return moved;
  }
}

/** The k largest scores seen (a min-heap on typed arrays), for picking the best without sorting everything. */
class TopK {
  readonly #scores: Float64Array;
  readonly #keys: Int32Array;
  #size = 0;

  constructor(k: number) {
    this.#scores = new Float64Array(k);
    this.#keys = new Int32Array(k);
  }

  offer(key: number, score: number): void {
    const scores = this.#scores;
    const keys = this.#keys;
    if (this.#size < scores.length) {
      let i = this.#size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (scores[parent]! <= score) break;
        scores[i] = scores[parent]!;
        keys[i] = keys[parent]!;
        i = parent;
      }
      scores[i] = score;
      keys[i] = key;
      return;
    }
    if (score <= scores[0]!) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.#size) break;
      const right = left + 1;
      const child = right < this.#size && scores[right]! < scores[left]! ? right : left;
      if (scores[child]! >= score) break;
      scores[i] = scores[child]!;
      keys[i] = keys[child]!;
      i = child;
    }
    scores[i] = score;
    keys[i] = key;
  }

  /** The kept keys, best first. */
  sorted(): number[] {
    const order = Array.from({ length: this.#size }, (_, i) => i);
    order.sort((a, b) => this.#scores[b]! - this.#scores[a]!);
    return order.map((i) => this.#keys[i]!);
  }
}

/** Inner product of the row of `rows` at `offset` with `query`. */
function dotAt(rows: Float32Array, offset: number, query: Float32Array, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d = 0;
  for (; d + 3 < dim; d += 4) {
    s0 += rows[offset + d]! * query[d]!;
    s1 += rows[offset + d + 1]! * query[d + 1]!;
    s2 += rows[offset + d + 2]! * query[d + 2]!;
    s3 += rows[offset + d + 3]! * query[d + 3]!;
  }
  for (; d < dim; d++) s0 += rows[offset + d]! * query[d]!;
  return s0 + s1 + s2 + s3;
}

/** Index of the centroid (a row of `centroids`) closest to the row of `rows` at `offset`. */
function nearestRow(rows: Float32Array, offset: number, centroids: Float32Array, dim: number): number {
  let best = 0;
  let bestScore = Number.NEGATIVE_INFINITY;
  const count = centroids.length / dim;
  for (let c = 0; c < count; c++) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    const base = c * dim;
    let d = 0;
    for (; d + 3 < dim; d += 4) {
      s0 += rows[offset + d]! * centroids[base + d]!;
      s1 += rows[offset + d + 1]! * centroids[base + d + 1]!;
      s2 += rows[offset + d + 2]! * centroids[base + d + 2]!;
      s3 += rows[offset + d + 3]! * centroids[base + d + 3]!;
    }
    for (; d < dim; d++) s0 += rows[offset + d]! * centroids[base + d]!;
    const score = s0 + s1 + s2 + s3;
    if (score > bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}

/** L2-normalises the row at `offset` in place; false when it is all zeros. */
function normalise(v: Float32Array, offset: number, dim: number): boolean {
  let norm = 0;
  for (let d = 0; d < dim; d++) norm += v[offset + d]! * v[offset + d]!;
  if (norm === 0) return false;
  norm = Math.sqrt(norm);
  for (let d = 0; d < dim; d++) v[offset + d]! /= norm;
  return true;
}
