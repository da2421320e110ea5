import { Index, MetricKind, ScalarKind } from 'usearch';

/** Below this many vectors a scan of all of them is fast enough (about a millisecond per two thousand). */
const EXACT_BELOW = 8_000;

/**
 * The graph's settings (usearch defaults are 16 / 128 / 64). Measured on the bench's 100,000 vectors of 256
 * dimensions, one thread, load ~9: f16 built in 26 s, searched in 0.3 ms (p50) with recall@40 0.90; f32 took
 * 50 s for the same recall; the k-means inverted file this replaced built in 24 s and searched in 8 ms with
 * recall@40 0.72.
 */
const GRAPH = Object.freeze({
  metric: MetricKind.IP,
  quantization: ScalarKind.F16,
  connectivity: 16,
  expansion_add: 64,
  expansion_search: 64,
  multi: false,
});

/**
 * Embeddings by id with nearest-neighbour search by inner product (cosine for L2-normalised vectors).
 * Small sets are scanned exactly; from EXACT_BELOW vectors on, an HNSW graph (usearch, native, SIMD) answers
 * instead, so a query over 100,000 items takes a fraction of a millisecond.
 *
 * The vectors themselves live in one Float32Array (a row per slot, freed slots reused): it serves get() and
 * the exact scan without per-vector objects. Vectors set after the graph exists are added to it in one batch
 * at the next query, so a bulk import does not pay one native call per vector.
 */
export class VectorIndex {
  #dim = 0;
  #rows = new Float32Array(0);
  /** Id held by each slot; undefined for a free slot. */
  #ids: Array<string | undefined> = [];
  readonly #slotOf = new Map<string, number>();
  readonly #free: number[] = [];
  #graph: Index | null = null;
  /** Graph key of each slot's current vector (0 = not in the graph); keys are never reused. */
  #keyOf = new Float64Array(0);
  readonly #slotOfKey = new Map<number, number>();
  #nextKey = 1;
  /** Slots set since the graph was last brought up to date. */
  readonly #pending = new Set<number>();

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
    if (slot !== undefined) this.#unlink(slot);
    else {
      slot = this.#free.pop() ?? this.#ids.length;
      if (slot === this.#ids.length) this.#grow(slot + 1);
      this.#ids[slot] = id;
      this.#slotOf.set(id, slot);
    }
    this.#rows.set(vector, slot * this.#dim);
    if (this.#graph) this.#pending.add(slot);
  }

  delete(id: string): void {
    const slot = this.#slotOf.get(id);
    if (slot === undefined) return;
    this.#slotOf.delete(id);
    this.#unlink(slot);
    this.#ids[slot] = undefined;
    this.#free.push(slot);
  }

  /** Ids of (about) the `k` vectors with the largest inner product with `query`, best first. */
  nearest(query: Float32Array, k: number): string[] {
    if (this.size === 0 || k <= 0) return [];
    if (query.length !== this.#dim)
      throw new Error(`query of ${query.length} dimensions; the index holds ${this.#dim}`);
    if (this.#graph === null && this.size >= EXACT_BELOW) {
      this.#graph = new Index({ dimensions: this.#dim, ...GRAPH });
      for (const slot of this.#slotOf.values()) this.#pending.add(slot);
    }
    if (this.#graph) return this.#search(this.#graph, query, k);
    const best = new TopK(k);
    const rows = this.#rows;
    const dim = this.#dim;
    for (let slot = 0; slot < this.#ids.length; slot++)
      if (this.#ids[slot] !== undefined) best.offer(slot, dotAt(rows, slot * dim, query, dim));
    return best.sorted().map((slot) => this.#ids[slot]!);
  }

  #search(graph: Index, query: Float32Array, k: number): string[] {
    this.#flush(graph);
    const found = graph.search(query, Math.min(k, this.#slotOfKey.size), 1);
    const out: string[] = [];
    for (const key of found.keys) {
      const slot = this.#slotOfKey.get(Number(key));
      if (slot !== undefined) out.push(this.#ids[slot]!);
    }
    return out;
  }

  /** Adds the pending slots' vectors to the graph in one native call. */
  #flush(graph: Index): void {
    if (this.#pending.size === 0) return;
    const dim = this.#dim;
    const keys = new BigUint64Array(this.#pending.size);
    const vectors = new Float32Array(this.#pending.size * dim);
    let i = 0;
    for (const slot of this.#pending) {
      const key = this.#nextKey++;
      this.#keyOf[slot] = key;
      this.#slotOfKey.set(key, slot);
      keys[i] = BigInt(key);
      vectors.set(this.#row(slot), i * dim);
      i += 1;
    }
    this.#pending.clear();
    graph.add(keys, vectors, 0);
  }

  #row(slot: number): Float32Array {
    return this.#rows.subarray(slot * this.#dim, (slot + 1) * this.#dim);
  }

  #grow(slots: number): void {
    const capacity = this.#keyOf.length;
    if (slots <= capacity) return;
    const next = Math.max(64, capacity * 2, slots);
    const rows = new Float32Array(next * this.#dim);
    rows.set(this.#rows);
    this.#rows = rows;
    const keyOf = new Float64Array(next);
    keyOf.set(this.#keyOf);
    this.#keyOf = keyOf;
  }

  /** Takes the slot's current vector out of the graph (or out of the pending batch). */
  #unlink(slot: number): void {
    this.#pending.delete(slot);
    const key = this.#keyOf[slot]!;
    if (key === 0) return;
    this.#keyOf[slot] = 0;
    this.#slotOfKey.delete(key);
    this.#graph?.remove(BigInt(key));
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
