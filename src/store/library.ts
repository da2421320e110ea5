import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LibraryItem } from '../domain/library.ts';
import { LibraryItemSchema } from '../domain/library.ts';
import type { Platform } from '../domain/message.ts';
import { writeFileAtomic } from './atomic.ts';

/** Most items one workspace's library may hold (the retrieval budget is measured at 100,000). */
export const MAX_LIBRARY_ITEMS = 200_000;

/** The library part of the Store: one library per workspace; the store is its source of truth. */
export interface LibraryStore {
  /** Every item of the workspace's library, sorted by id. */
  listLibrary(platform: Platform, workspaceId: string): Promise<LibraryItem[]>;
  /** Adds items, replacing those with the same id; returns the library's new version. */
  putLibraryItems(platform: Platform, workspaceId: string, items: LibraryItem[]): Promise<number>;
  /** Removes items by id; returns how many existed. The version is bumped only when something was removed. */
  removeLibraryItems(platform: Platform, workspaceId: string, ids: string[]): Promise<number>;
  /** Bumped on every change, so each worker can tell cheaply whether its index is stale (0 = never written). */
  libraryVersion(platform: Platform, workspaceId: string): Promise<number>;
}

export interface LibraryState {
  version: number;
  items: Map<string, LibraryItem>;
}

const byId = (a: LibraryItem, b: LibraryItem) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Items as stored: validated (defaults applied) and copied, so callers cannot change stored state. */
export function validItems(items: LibraryItem[]): LibraryItem[] {
  return items.map((item) => LibraryItemSchema.parse(item));
}

export function sortedItems(state: LibraryState | undefined): LibraryItem[] {
  return state ? [...state.items.values()].map((i) => ({ ...i })).sort(byId) : [];
}

/** A workspace's library held in memory (MemoryStore); a state per `platform:workspace`. */
export class MemoryLibrary implements LibraryStore {
  protected readonly states = new Map<string, LibraryState>();
  #writes: Promise<unknown> = Promise.resolve();

  /** Changes run one at a time, so a read-modify-write never interleaves with another. */
  #exclusive<T>(change: () => Promise<T>): Promise<T> {
    const run = this.#writes.then(change);
    this.#writes = run.catch(() => {});
    return run;
  }

  protected key(platform: Platform, workspaceId: string): string {
    return `${platform}:${workspaceId}`;
  }

  protected async load(platform: Platform, workspaceId: string): Promise<LibraryState> {
    const key = this.key(platform, workspaceId);
    let state = this.states.get(key);
    if (!state) {
      state = { version: 0, items: new Map() };
      this.states.set(key, state);
    }
    return state;
  }

  protected async save(_platform: Platform, _workspaceId: string, _state: LibraryState): Promise<void> {}

  async listLibrary(platform: Platform, workspaceId: string): Promise<LibraryItem[]> {
    return sortedItems(await this.load(platform, workspaceId));
  }

  async putLibraryItems(platform: Platform, workspaceId: string, items: LibraryItem[]): Promise<number> {
    const valid = validItems(items);
    return this.#exclusive(async () => {
      const state = await this.load(platform, workspaceId);
      for (const item of valid) state.items.set(item.id, item);
      state.version += 1;
      await this.save(platform, workspaceId, state);
      return state.version;
    });
  }

  async removeLibraryItems(platform: Platform, workspaceId: string, ids: string[]): Promise<number> {
    return this.#exclusive(async () => {
      const state = await this.load(platform, workspaceId);
      let removed = 0;
      for (const id of ids) if (state.items.delete(id)) removed += 1;
      if (removed > 0) {
        state.version += 1;
        await this.save(platform, workspaceId, state);
      }
      return removed;
    });
  }

  async libraryVersion(platform: Platform, workspaceId: string): Promise<number> {
    return (await this.load(platform, workspaceId)).version;
  }
}

/**
 * The library in files: `<dir>/library/<platform>/<workspace>.json`, rewritten atomically on each change.
 * Unlike settings, the file is re-read when it changed on disk (size or mtime), so `steward library import`
 * run as a separate process reaches a running local Steward.
 */
export class FileLibrary extends MemoryLibrary {
  readonly #dir: string;
  readonly #seen = new Map<string, string>();

  constructor(dir: string) {
    super();
    this.#dir = join(dir, 'library');
  }

  #file(platform: Platform, workspaceId: string): string {
    return join(this.#dir, platform, `${encodeURIComponent(workspaceId)}.json`);
  }

  protected override async load(platform: Platform, workspaceId: string): Promise<LibraryState> {
    const key = this.key(platform, workspaceId);
    const file = this.#file(platform, workspaceId);
    const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    const signature = info ? `${info.size}:${info.mtimeMs}` : 'none';
    const cached = this.states.get(key);
    if (cached && this.#seen.get(key) === signature) return cached;
    let state: LibraryState = { version: 0, items: new Map() };
    if (info) {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as { version: number; items: LibraryItem[] };
      state = { version: parsed.version, items: new Map(parsed.items.map((i) => [i.id, i])) };
    }
    this.states.set(key, state);
    this.#seen.set(key, signature);
    return state;
  }

  protected override async save(platform: Platform, workspaceId: string, state: LibraryState): Promise<void> {
    const file = this.#file(platform, workspaceId);
    await mkdir(join(this.#dir, platform), { recursive: true });
    await writeFileAtomic(file, JSON.stringify({ version: state.version, items: sortedItems(state) }));
    const info = await stat(file);
    this.#seen.set(this.key(platform, workspaceId), `${info.size}:${info.mtimeMs}`);
  }
}
