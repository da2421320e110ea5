import MiniSearch from 'minisearch';
import { dot } from '../../models/runtime/math.ts';
import type { LibraryHit, LibraryItem } from '../../src/domain/library.ts';
import { VectorIndex } from './vectors.ts';
import { analyzeTerms } from './terms.ts';

/** How lexical and embedding scores combine into one 0..1 relevance. */
export interface HybridOptions {
  /** Weight of the embedding cosine; the lexical part gets the rest. */
  semanticWeight: number;
  /** BM25 score that counts as half relevant: lexical = bm25 / (bm25 + lexicalHalf). */
  lexicalHalf: number;
  /** Candidates taken from each side before they are combined. */
  candidates: number;
}

export const DefaultHybridOptions = Object.freeze({
  semanticWeight: 0.5,
  lexicalHalf: 8,
  candidates: 40,
}) satisfies Readonly<HybridOptions>;

/** The text embedded for an item: its title carries as much meaning as its text. */
export function itemText(item: Pick<LibraryItem, 'title' | 'text'>): string {
  return `${item.title}. ${item.text}`;
}

const signature = (item: LibraryItem) =>
  JSON.stringify([item.title, item.text, item.url ?? '', item.topic ?? '', item.kind]);

/**
 * One workspace's library, searchable two ways at once: BM25 over title and text (minisearch) and the
 * signals model's sentence embeddings (cosine), combined into one score per item.
 */
export class LibraryIndex {
  readonly #options: HybridOptions;
  readonly #items = new Map<string, { item: LibraryItem; signature: string }>();
  readonly #lexical: MiniSearch<LibraryItem>;
  readonly #vectors = new VectorIndex();

  constructor(options: Partial<HybridOptions> = {}) {
    this.#options = { ...DefaultHybridOptions, ...options };
    this.#lexical = new MiniSearch<LibraryItem>({
      fields: ['title', 'text'],
      storeFields: [],
      tokenize: (text) => [text],
      processTerm: (term) => analyzeTerms(term),
      searchOptions: { boost: { title: 2 }, combineWith: 'OR' },
    });
  }

  get size(): number {
    return this.#items.size;
  }

  /** Items whose content differs from what the index holds (new or changed); these need embeddings. */
  changed(items: readonly LibraryItem[]): LibraryItem[] {
    return items.filter((item) => this.#items.get(item.id)?.signature !== signature(item));
  }

  /**
   * Makes the index hold exactly `items`. `vectors` maps the id of every changed item (see changed()) to its
   * L2-normalised embedding; unchanged items keep theirs.
   */
  replaceAll(items: readonly LibraryItem[], vectors: ReadonlyMap<string, Float32Array>): void {
    const keep = new Set(items.map((i) => i.id));
    for (const id of [...this.#items.keys()]) if (!keep.has(id)) this.remove(id);
    for (const item of items) {
      const vector = vectors.get(item.id);
      if (vector) this.upsert(item, vector);
    }
  }

  upsert(item: LibraryItem, vector: Float32Array): void {
    if (this.#items.has(item.id)) this.#lexical.discard(item.id);
    this.#items.set(item.id, { item, signature: signature(item) });
    this.#lexical.add(item);
    this.#vectors.set(item.id, vector);
  }

  remove(id: string): void {
    if (!this.#items.delete(id)) return;
    this.#lexical.discard(id);
    this.#vectors.delete(id);
  }

  /** The most relevant items for a request, best first; `embedding` is the request's L2-normalised embedding. */
  search(text: string, embedding: Float32Array, limit = 3): LibraryHit[] {
    if (this.#items.size === 0) return [];
    const { candidates, lexicalHalf, semanticWeight } = this.#options;
    const lexical = new Map<string, number>();
    for (const result of this.#lexical.search(text).slice(0, candidates)) {
      lexical.set(result.id as string, result.score / (result.score + lexicalHalf));
    }
    const ids = new Set<string>(lexical.keys());
    for (const id of this.#vectors.nearest(embedding, candidates)) ids.add(id);
    const hits: LibraryHit[] = [];
    for (const id of ids) {
      const entry = this.#items.get(id);
      const vector = this.#vectors.get(id);
      if (!entry || !vector) continue;
      const semantic = Math.max(0, dot(embedding, vector));
      const lex = lexical.get(id) ?? 0;
      hits.push({
        item: entry.item,
        score: semanticWeight * semantic + (1 - semanticWeight) * lex,
        lexical: lex,
        semantic,
      });
    }
    return hits.sort((a, b) => b.score - a.score).slice(0, limit);
  }
}
