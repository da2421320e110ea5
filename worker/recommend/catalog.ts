import type { LibraryItem } from '../../src/domain/library.ts';
import { contentWords } from '../../src/domain/profile.ts';

/** The text embedded for an item (the same shape the library index embeds: title, then text). */
export function catalogText(item: Pick<LibraryItem, 'title' | 'text'>): string {
  return `${item.title}. ${item.text}`;
}

/**
 * One workspace's library laid out for recommendation: every item's embedding in one flat matrix (a profile is
 * scored against all items in one pass, with no candidate cut-off that could hide a good match), and an
 * inverted index of the items' content words with their IDF, for the lexical part and for the explanations.
 *
 * Kept apart from worker/library's search index (issue 10) on purpose: that index answers one request with a
 * few hits; recommendation ranks the whole library for a profile, whose terms are weighted, not a query string.
 */
export class Catalog {
  readonly items: readonly LibraryItem[];
  readonly dim: number;
  /** items.length × dim, row i = item i's embedding minus the mean, L2-normalised. */
  readonly matrix: Float32Array;
  /** The items' embeddings as given (kept so a rebuilt catalog reuses them). */
  readonly vectors: readonly ArrayLike<number>[];
  /** The mean of the items' embeddings (subtracted from queries too). */
  readonly mean: Float32Array;
  /** Content word → indices of the items that contain it. */
  readonly postings: ReadonlyMap<string, Uint32Array>;
  /** Content word → inverse document frequency, log(1 + n / df). */
  readonly idf: ReadonlyMap<string, number>;

  constructor(items: readonly LibraryItem[], vectors: readonly ArrayLike<number>[]) {
    if (items.length !== vectors.length)
      throw new Error(`${items.length} items but ${vectors.length} vectors`);
    this.items = items;
    this.vectors = vectors;
    this.dim = vectors[0]?.length ?? 0;
    this.matrix = new Float32Array(items.length * this.dim);
    // Centred: small encoders put every sentence in one narrow cone, so raw cosines barely tell items apart;
    // what distinguishes an item is its offset from the library's mean (queries are centred the same way).
    this.mean = new Float32Array(this.dim);
    for (const v of vectors) for (let d = 0; d < this.dim; d++) this.mean[d]! += v[d]! / vectors.length;
    for (let i = 0; i < vectors.length; i++) {
      const row = this.matrix.subarray(i * this.dim, (i + 1) * this.dim);
      let norm = 0;
      for (let d = 0; d < this.dim; d++) {
        row[d] = vectors[i]![d]! - this.mean[d]!;
        norm += row[d]! * row[d]!;
      }
      const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let d = 0; d < this.dim; d++) row[d]! *= inv;
    }
    const lists = new Map<string, number[]>();
    items.forEach((item, i) => {
      for (const word of new Set(contentWords(`${item.title} ${item.text} ${item.topic ?? ''}`))) {
        const list = lists.get(word);
        if (list) list.push(i);
        else lists.set(word, [i]);
      }
    });
    const postings = new Map<string, Uint32Array>();
    const idf = new Map<string, number>();
    for (const [word, list] of lists) {
      postings.set(word, Uint32Array.from(list));
      idf.set(word, Math.log(1 + items.length / list.length));
    }
    this.postings = postings;
    this.idf = idf;
  }

  get size(): number {
    return this.items.length;
  }

  /** Builds a catalog, embedding the items' texts in batches. */
  static async build(
    items: readonly LibraryItem[],
    embed: (texts: string[]) => Promise<Float32Array[]>,
    batch = 64,
  ): Promise<Catalog> {
    const vectors: Float32Array[] = [];
    for (let start = 0; start < items.length; start += batch) {
      vectors.push(...(await embed(items.slice(start, start + batch).map(catalogText))));
    }
    return new Catalog(items, vectors);
  }

  /** A query embedding in the catalog's space: minus the items' mean, L2-normalised (null for a zero vector). */
  centre(query: Float32Array): Float32Array | null {
    let norm = 0;
    for (let d = 0; d < this.dim; d++) {
      query[d]! -= this.mean[d]!;
      norm += query[d]! * query[d]!;
    }
    if (norm === 0) return null;
    const inv = 1 / Math.sqrt(norm);
    for (let d = 0; d < this.dim; d++) query[d]! *= inv;
    return query;
  }
}
