import { existsSync, readFileSync } from 'node:fs';
import MiniSearch from 'minisearch';
import { dot } from '../../src/domain/vector.ts';
import type { LibraryHit, LibraryItem } from '../../src/domain/library.ts';
import { VectorIndex } from './vectors.ts';
import { analyzeTerms, sentences } from './terms.ts';

/** How lexical and embedding scores combine into one 0..1 relevance. */
export interface HybridOptions {
  /** Weight of the embedding cosine for passages that state something; the lexical part gets the rest. */
  semanticWeight: number;
  /**
   * Weight of the embedding cosine for passages that are questions ("How do I reset my password?"): the library
   * encoder was trained on question-to-question pairs, so there its cosine deserves more trust than lexical overlap.
   */
  questionWeight: number;
  /** BM25 score that counts as half relevant: lexical = bm25 / (bm25 + lexicalHalf). */
  lexicalHalf: number;
  /** Candidates taken from each side before they are combined. */
  candidates: number;
  /**
   * Ordinary chat lines the lexical index also holds, never returned: BM25's idf then says how rare a word is in
   * chat, not in this library alone (in a one-item library every word would be "common" and nothing would match).
   */
  background: readonly string[];
}

/** The bundled background lines (models/bundled/library, built by models/training/library_background.py). */
export function bundledBackground(): readonly string[] {
  bundled ??= bundledLines('background.txt');
  return bundled;
}
let bundled: readonly string[] | undefined;

/**
 * Ordinary Chinese lines (models/bundled/library/background_zh.txt, card beside it): the null queries that give a
 * library its cutoff for Chinese requests. The English lines score low against Chinese items whatever they hold,
 * so without these a Chinese request met only the floor and unrelated ones were answered from the nearest item.
 */
export function bundledChineseNullLines(): readonly string[] {
  bundledZh ??= bundledLines('background_zh.txt');
  return bundledZh;
}
let bundledZh: readonly string[] | undefined;

/** A file of models/bundled/library, one line each, from the source tree or from dist/ (one level deeper). */
function bundledLines(file: string): readonly string[] {
  const at = (base: string) => new URL(`${base}models/bundled/library/${file}`, import.meta.url);
  const url = [at('../../'), at('../../../')].find((candidate) => existsSync(candidate)) ?? at('../../');
  return readFileSync(url, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
}

export const DefaultHybridOptions = Object.freeze({
  semanticWeight: 0.5,
  questionWeight: 0.9,
  lexicalHalf: 8,
  candidates: 40,
}) satisfies Readonly<Omit<HybridOptions, 'background'>>;

/** Ids of background documents: never a library item's (ids are trimmed, printable). */
const BACKGROUND_ID = '\u0001background:';

/** The text embedded for an item: its title carries as much meaning as its text. */
export function itemText(item: Pick<LibraryItem, 'title' | 'text'>): string {
  return `${item.title}. ${item.text}`;
}

/** Query words the lexical index looks up; each costs a posting-list walk, so long messages are cut. */
const MAX_QUERY_TERMS = 8;

/**
 * The query's distinct content words that the lexical index should look up: words in more than `maxShare` of the
 * items say little (BM25 gives them almost no weight) but have the longest posting lists, so they are skipped;
 * of the rest, the rarest MAX_QUERY_TERMS are kept. `df` counts the items holding each word.
 */
export function queryTerms(
  text: string,
  df: ReadonlyMap<string, number> = new Map(),
  documents = 0,
  maxShare = 0.02,
): string {
  const limit = Math.max(200, documents * maxShare);
  const terms = [...new Set(analyzeTerms(text))].filter((t) => (df.get(t) ?? 0) <= limit);
  return terms
    .map((term, i) => ({ term, i, df: df.get(term) ?? 0 }))
    .sort((a, b) => a.df - b.df || a.i - b.i)
    .slice(0, MAX_QUERY_TERMS)
    .map((t) => t.term)
    .join(' ');
}

/** A passage that asks something (it ends with a question mark). */
function isQuestion(text: string): boolean {
  return /[?？]["'”’)\]」』]*\s*$/u.test(text);
}

/** Background lines each index searches to learn its own "irrelevant" score (LibraryIndex.cutoff). */
export const NULL_LINES = 200;

/** The language of null queries given without one, and the cutoff of requests in a language that has none. */
const NULL_LANGUAGE = 'en';

/** Each language's null-query scores, ascending (`scores` in `queries` order). */
function byLanguage(queries: ReadonlyArray<{ language: string }>, scores: readonly number[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  queries.forEach((q, i) => {
    const list = out.get(q.language) ?? [];
    list.push(scores[i]!);
    out.set(q.language, list);
  });
  for (const list of out.values()) list.sort((a, b) => a - b);
  return out;
}

/** Most passages embedded per item besides the whole item. */
export const MAX_PASSAGES = 16;

/**
 * The texts embedded for an item: the whole item, then each of its sentences (up to MAX_PASSAGES) when it has
 * several. An item is as close to a request as its closest passage, so an FAQ entry that lists the ways members
 * ask a question matches each of them, not only their blurred average.
 */
export function passagesOf(item: Pick<LibraryItem, 'title' | 'text'>): string[] {
  const parts = sentences(item.text);
  return [itemText(item), ...(parts.length > 1 ? parts.slice(0, MAX_PASSAGES) : [])];
}

const signature = (item: LibraryItem) =>
  JSON.stringify([item.title, item.text, item.url ?? '', item.topic ?? '', item.kind]);

/**
 * One workspace's library, searchable two ways at once: BM25 over title and text (minisearch) and the
 * library sentence encoder's embeddings (engine.embedSearch, cosine), combined into one score per item.
 */
export class LibraryIndex {
  readonly #options: HybridOptions;
  readonly #items = new Map<
    string,
    { item: LibraryItem; signature: string; passages: number; questions: ReadonlySet<number> }
  >();
  readonly #lexical: MiniSearch<LibraryItem>;
  readonly #vectors = new VectorIndex();
  /** Items holding each lexical term (for queryTerms). */
  readonly #df = new Map<string, number>();
  /** Ordinary chat lines with their embeddings and language, searched to learn what an irrelevant request scores here. */
  #nullQueries: ReadonlyArray<{ text: string; vector: Float32Array; language: string }> = [];
  /** Their best-hit scores per language, ascending; recomputed after the library changes. */
  #nullScores: Map<string, number[]> | null = null;
  /** Bumped by every change, so a null-score pass that a change overtook is thrown away. */
  #changes = 0;

  constructor(options: Partial<HybridOptions> = {}) {
    this.#options = { ...DefaultHybridOptions, background: bundledBackground(), ...options };
    this.#lexical = new MiniSearch<LibraryItem>({
      fields: ['title', 'text'],
      storeFields: [],
      tokenize: (text) => [text],
      processTerm: (term) => analyzeTerms(term),
      searchOptions: { boost: { title: 2 }, combineWith: 'OR' },
    });
  }

  /** The background lines join the lexical index with the first item: an empty library costs nothing. */
  #addBackground(): void {
    if (this.#lexical.documentCount > 0) return;
    this.#lexical.addAll(
      this.#options.background.map((text, i) => ({ id: `${BACKGROUND_ID}${i}`, title: '', text, kind: 'faq' })),
    );
  }

  get size(): number {
    return this.#items.size;
  }

  /** Items whose content differs from what the index holds (new or changed); these need embeddings. */
  changed(items: readonly LibraryItem[]): LibraryItem[] {
    return items.filter((item) => this.#items.get(item.id)?.signature !== signature(item));
  }

  /**
   * Makes the index hold exactly `items`. `vectors` maps the id of every changed item (see changed()) to the
   * L2-normalised embeddings of its passagesOf() (or one embedding); unchanged items keep theirs.
   */
  replaceAll(
    items: readonly LibraryItem[],
    vectors: ReadonlyMap<string, Float32Array | Float32Array[]>,
  ): void {
    const keep = new Set(items.map((i) => i.id));
    for (const id of [...this.#items.keys()]) if (!keep.has(id)) this.remove(id);
    for (const item of items) {
      const vector = vectors.get(item.id);
      if (vector) this.upsert(item, vector);
    }
  }

  /**
   * Chat lines (and their search embeddings) that stand for requests this library should not answer: see cutoff().
   * LibraryIndexes gives every index the first NULL_LINES background lines.
   */
  useNullQueries(
    texts: readonly string[],
    vectors: readonly Float32Array[],
    languages: readonly string[] = texts.map(() => NULL_LANGUAGE),
  ): void {
    this.#nullQueries = texts.map((text, i) => ({ text, vector: vectors[i]!, language: languages[i]! }));
    this.#nullScores = null;
    this.#changes += 1;
  }

  /**
   * The score an irrelevant request reaches in *this* library: the `quantile` of the best-hit scores of the null
   * queries (ordinary chat lines). Scores depend on the library (a 150-item FAQ of example questions puts any
   * request near something; three event notes do not), so one fixed threshold cannot serve both; this one moves with
   * the library. Null when no null queries were given or the library is empty. Costs one search per null query after
   * each change (≈ 60 ms for 150 items and 200 lines, 1.4 s for 100,000 items), then nothing: computed here when
   * needed, or beforehand by prepareCutoff().
   */
  cutoff(quantile: number, language = NULL_LANGUAGE): number | null {
    if (this.#nullQueries.length === 0 || this.#items.size === 0) return null;
    this.#nullScores ??= byLanguage(this.#nullQueries, this.#nullQueries.map((q) => this.#nullScore(q)));
    // A request is held to the null lines of its own language; English ones stand for the languages without any.
    const scores = this.#nullScores.get(language) ?? this.#nullScores.get(NULL_LANGUAGE) ?? [];
    if (scores.length === 0) return null;
    return scores[Math.min(scores.length - 1, Math.floor(quantile * scores.length))]!;
  }

  /**
   * Computes what cutoff() needs without holding the event loop: it yields after every few searches (a 100,000-item
   * library takes over a second in all, `npx tsx bench/library.ts`). LibraryIndexes calls it after each sync.
   */
  async prepareCutoff(): Promise<void> {
    while (this.#nullScores === null && this.#nullQueries.length > 0 && this.#items.size > 0) {
      const changes = this.#changes;
      const scores: number[] = [];
      for (const [i, q] of this.#nullQueries.entries()) {
        scores.push(this.#nullScore(q));
        if (i % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
        if (this.#changes !== changes) break;
      }
      if (this.#changes === changes) this.#nullScores = byLanguage(this.#nullQueries, scores);
    }
  }

  #nullScore(query: { text: string; vector: Float32Array }): number {
    return this.search(query.text, query.vector, 1)[0]?.score ?? 0;
  }

  upsert(item: LibraryItem, vectors: Float32Array | Float32Array[]): void {
    this.#nullScores = null;
    this.#changes += 1;
    if (this.#items.has(item.id)) this.remove(item.id);
    const list = Array.isArray(vectors) ? vectors : [vectors];
    // Which embedded passages are questions (passagesOf order); with one vector for the item, only the item counts.
    const texts = list.length === 1 ? [itemText(item)] : passagesOf(item);
    const questions = new Set(texts.flatMap((text, k) => (isQuestion(text) ? [k] : [])));
    this.#items.set(item.id, { item, signature: signature(item), passages: list.length, questions });
    this.#addBackground();
    this.#lexical.add(item);
    this.#count(item, 1);
    list.forEach((vector, k) => {
      this.#vectors.set(`${item.id}\u0000${k}`, vector);
    });
  }

  remove(id: string): void {
    const entry = this.#items.get(id);
    if (!entry) return;
    this.#nullScores = null;
    this.#changes += 1;
    this.#items.delete(id);
    this.#lexical.discard(id);
    this.#count(entry.item, -1);
    for (let k = 0; k < entry.passages; k++) this.#vectors.delete(`${id}\u0000${k}`);
  }

  #count(item: LibraryItem, delta: number): void {
    for (const term of new Set(analyzeTerms(`${item.title} ${item.text}`))) {
      const next = (this.#df.get(term) ?? 0) + delta;
      if (next <= 0) this.#df.delete(term);
      else this.#df.set(term, next);
    }
  }

  /** The most relevant items for a request, best first; `embedding` is the request's L2-normalised embedding. */
  search(text: string, embedding: Float32Array, limit = 3): LibraryHit[] {
    if (this.#items.size === 0) return [];
    const { candidates, lexicalHalf, semanticWeight, questionWeight } = this.#options;
    const lexical = new Map<string, number>();
    const terms = queryTerms(text, this.#df, this.#items.size);
    const found = terms === '' ? [] : this.#lexical.search(terms);
    for (const result of found) {
      if ((result.id as string).startsWith(BACKGROUND_ID)) continue;
      lexical.set(result.id as string, result.score / (result.score + lexicalHalf));
      if (lexical.size === candidates) break;
    }
    const ids = new Set<string>(lexical.keys());
    for (const key of this.#vectors.nearest(embedding, candidates))
      ids.add(key.slice(0, key.indexOf('\u0000')));
    const hits: LibraryHit[] = [];
    for (const id of ids) {
      const entry = this.#items.get(id);
      if (!entry) continue;
      // The closest statement and the closest question, each weighed as its kind deserves (HybridOptions).
      let statement = -1;
      let question = -1;
      for (let k = 0; k < entry.passages; k++) {
        const vector = this.#vectors.get(`${id}\u0000${k}`);
        if (!vector) continue;
        const cosine = Math.max(0, dot(embedding, vector));
        if (entry.questions.has(k)) question = Math.max(question, cosine);
        else statement = Math.max(statement, cosine);
      }
      const lex = lexical.get(id) ?? 0;
      const mix = (weight: number, cosine: number) => (cosine < 0 ? 0 : weight * cosine + (1 - weight) * lex);
      hits.push({
        item: entry.item,
        score: Math.max(mix(semanticWeight, statement), mix(questionWeight, question), (1 - semanticWeight) * lex),
        lexical: lex,
        semantic: Math.max(0, statement, question),
      });
    }
    return hits.sort((a, b) => b.score - a.score).slice(0, limit);
  }
}
