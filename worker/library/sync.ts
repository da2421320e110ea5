import type { LibraryHit } from '../../src/domain/library.ts';
import type { Platform } from '../../src/domain/message.ts';
import type { LibraryStore } from '../../src/store/library.ts';
import {
  bundledBackground,
  bundledChineseNullLines,
  type HybridOptions,
  LibraryIndex,
  NULL_LINES,
  passagesOf,
} from './index.ts';

/** Embeds texts for library search (InferenceEngine.embedSearch): L2-normalised, in input order. */
export type Embed = (texts: string[]) => Promise<Float32Array[]>;

export interface LibrarySyncOptions {
  /** How long a workspace's index is used before the store's library version is checked again. */
  checkMs: number;
  /** Texts embedded per engine call while (re)indexing. */
  embedBatch: number;
  hybrid: Partial<HybridOptions>;
}

export const DefaultLibrarySyncOptions = Object.freeze({
  checkMs: 1_000,
  embedBatch: 64,
  hybrid: {},
}) satisfies Readonly<LibrarySyncOptions>;

interface Entry {
  index: LibraryIndex;
  version: number;
  checkedAt: number;
  syncing: Promise<LibraryIndex> | null;
}

/**
 * Every workspace's library index on this worker, kept in step with the store: before a search, the store's
 * library version is read (at most once per `checkMs`); when it moved, the items are read again and only new
 * or changed items are embedded. So an admin's change is live on every worker within about `checkMs` plus
 * the time to embed what changed, and a restarted worker rebuilds from the store.
 */
export class LibraryIndexes {
  readonly #store: Pick<LibraryStore, 'listLibrary' | 'libraryVersion'>;
  readonly #embed: Embed;
  readonly #options: LibrarySyncOptions;
  readonly #entries = new Map<string, Entry>();
  /** The null queries' embeddings (LibraryIndex.cutoff), computed once per worker, on the first sync. */
  #nullVectors: Promise<Float32Array[]> | null = null;

  constructor(
    store: Pick<LibraryStore, 'listLibrary' | 'libraryVersion'>,
    embed: Embed,
    options: Partial<LibrarySyncOptions> = {},
  ) {
    this.#store = store;
    this.#embed = embed;
    this.#options = { ...DefaultLibrarySyncOptions, ...options };
  }

  /** The workspace's index, synced with the store if it may be stale. */
  async index(platform: Platform, workspaceId: string, now = Date.now()): Promise<LibraryIndex> {
    const key = `${platform}:${workspaceId}`;
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { index: new LibraryIndex(this.#options.hybrid), version: 0, checkedAt: 0, syncing: null };
      this.#entries.set(key, entry);
    }
    if (entry.syncing) return entry.syncing;
    if (entry.checkedAt > 0 && now - entry.checkedAt < this.#options.checkMs) return entry.index;
    const current = entry;
    current.syncing = this.#sync(platform, workspaceId, current).finally(() => {
      current.syncing = null;
    });
    return current.syncing;
  }

  /** Searches the workspace's library (synced first when due); best first. */
  async search(
    platform: Platform,
    workspaceId: string,
    text: string,
    embedding: Float32Array,
    limit = 3,
  ): Promise<LibraryHit[]> {
    return (await this.index(platform, workspaceId)).search(text, embedding, limit);
  }

  async #sync(platform: Platform, workspaceId: string, entry: Entry): Promise<LibraryIndex> {
    const checkedAt = Date.now();
    const version = await this.#store.libraryVersion(platform, workspaceId);
    if (version !== entry.version || entry.checkedAt === 0) {
      // Read the items after the version: they are at least as new as it, so nothing is missed.
      const items = await this.#store.listLibrary(platform, workspaceId);
      if (entry.checkedAt === 0) {
        const { texts, languages } = nullLines(this.#options.hybrid.background);
        entry.index.useNullQueries(texts, await this.#nullQueryVectors(), languages);
      }
      const changed = entry.index.changed(items);
      const vectors = new Map<string, Float32Array[]>();
      const texts = changed.flatMap((item) => passagesOf(item).map((text) => ({ id: item.id, text })));
      for (let i = 0; i < texts.length; i += this.#options.embedBatch) {
        const batch = texts.slice(i, i + this.#options.embedBatch);
        const embedded = await this.#embed(batch.map((t) => t.text));
        batch.forEach((t, k) => {
          const list = vectors.get(t.id) ?? [];
          list.push(embedded[k]!);
          vectors.set(t.id, list);
        });
      }
      entry.index.replaceAll(items, vectors);
      await entry.index.prepareCutoff();
      entry.version = version;
    }
    entry.checkedAt = checkedAt;
    return entry.index;
  }

  #nullQueryVectors(): Promise<Float32Array[]> {
    this.#nullVectors ??= (async () => {
      const lines = nullLines(this.#options.hybrid.background).texts;
      const out: Float32Array[] = [];
      for (let i = 0; i < lines.length; i += this.#options.embedBatch)
        out.push(...(await this.#embed(lines.slice(i, i + this.#options.embedBatch))));
      return out;
    })();
    // A failed embed is retried at the next sync rather than remembered.
    this.#nullVectors.catch(() => {
      this.#nullVectors = null;
    });
    return this.#nullVectors;
  }
}

/** The lines every index searches as its null queries: English background lines, then the Chinese ones. */
function nullLines(background: readonly string[] = bundledBackground()): { texts: string[]; languages: string[] } {
  const english = background.slice(0, NULL_LINES);
  const chinese = bundledChineseNullLines();
  return {
    texts: [...english, ...chinese],
    languages: [...english.map(() => 'en'), ...chinese.map(() => 'zh')],
  };
}
