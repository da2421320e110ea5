import type { Redis } from 'ioredis';
import type { LibraryItem } from '../domain/library.ts';
import type { Platform } from '../domain/message.ts';
import { type LibraryStore, validItems } from './library.ts';

const CHUNK = 1_000;

/**
 * The library in Redis: a hash of item JSON by id per workspace, and a version counter bumped in the same
 * MULTI as every change, so a worker that reads the version and then the items never misses a change.
 */
export class RedisLibrary implements LibraryStore {
  readonly #db: () => Redis;
  readonly #k: string;

  /** `db` returns the started connection; `keyBase` is `<prefix>:store`. */
  constructor(db: () => Redis, keyBase: string) {
    this.#db = db;
    this.#k = keyBase;
  }

  #items(platform: Platform, workspaceId: string): string {
    return `${this.#k}:library:${platform}:${workspaceId}`;
  }

  #version(platform: Platform, workspaceId: string): string {
    return `${this.#k}:library-version:${platform}:${workspaceId}`;
  }

  async listLibrary(platform: Platform, workspaceId: string): Promise<LibraryItem[]> {
    const all = await this.#db().hgetall(this.#items(platform, workspaceId));
    return Object.keys(all)
      .sort()
      .map((id) => JSON.parse(all[id]!) as LibraryItem);
  }

  async putLibraryItems(platform: Platform, workspaceId: string, items: LibraryItem[]): Promise<number> {
    const valid = validItems(items);
    const multi = this.#db().multi();
    for (let i = 0; i < valid.length; i += CHUNK) {
      const pairs = valid.slice(i, i + CHUNK).flatMap((item) => [item.id, JSON.stringify(item)]);
      multi.hset(this.#items(platform, workspaceId), ...pairs);
    }
    multi.incr(this.#version(platform, workspaceId));
    const results = (await multi.exec()) ?? [];
    return Number(results.at(-1)?.[1] ?? 0);
  }

  async removeLibraryItems(platform: Platform, workspaceId: string, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const results = await this.#db()
      .multi()
      .hdel(this.#items(platform, workspaceId), ...ids)
      .incr(this.#version(platform, workspaceId))
      .exec();
    return Number(results?.[0]?.[1] ?? 0);
  }

  async libraryVersion(platform: Platform, workspaceId: string): Promise<number> {
    return Number((await this.#db().get(this.#version(platform, workspaceId))) ?? 0);
  }
}
