import { LRUCache } from 'lru-cache';
import type { Platform } from '../domain/message.ts';
import type { WorkspaceSettings } from '../domain/settings.ts';
import type { SettingsReader, Store } from './types.ts';

/** Workspaces whose settings are kept; the least recently read go first. */
const MAX_WORKSPACES = 10_000;

interface Key {
  platform: Platform;
  workspaceId: string;
}

/**
 * Workspace settings read through a short cache (lru-cache): a burst of messages from one workspace costs one
 * store read, and an admin's change applies within `ttlMs` (0: read on every call). When a refresh fails, the
 * last good copy is served and the next call tries the store again.
 */
export class SettingsCache implements SettingsReader {
  readonly #cache: LRUCache<string, WorkspaceSettings, Key>;
  readonly #forceRefresh: boolean;

  constructor(store: Pick<Store, 'getSettings'>, ttlMs = 2_000, now: () => number = Date.now) {
    this.#forceRefresh = ttlMs <= 0;
    this.#cache = new LRUCache<string, WorkspaceSettings, Key>({
      max: MAX_WORKSPACES,
      // lru-cache calls an entry stale once its age exceeds `ttl`, and takes a start time of 0 for "no TTL";
      // ours is stale once its age reaches ttlMs, on any clock (tests start theirs at 0): hence the two 1s.
      ttl: Math.max(1, ttlMs - 1),
      perf: { now: () => now() + 1 },
      ttlResolution: 0,
      fetchMethod: (_key, _stale, { context }) => store.getSettings(context.platform, context.workspaceId),
      // A store hiccup should not stall moderation: keep using the last copy, and retry on the next call.
      allowStaleOnFetchRejection: true,
    });
  }

  async get(platform: Platform, workspaceId: string): Promise<WorkspaceSettings> {
    const status: LRUCache.Status<string, WorkspaceSettings, Key> = {};
    const settings = await this.#cache.fetch(`${platform}\u0000${workspaceId}`, {
      context: { platform, workspaceId },
      forceRefresh: this.#forceRefresh,
      status,
    });
    // No last good copy to fall back on: the store's error surfaces (and nothing is cached).
    if (settings === undefined) {
      throw status.fetchError ?? new Error(`settings of ${platform}/${workspaceId} were not read`);
    }
    return settings;
  }
}
