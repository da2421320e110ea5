import type { Platform } from '../domain/message.ts';
import type { WorkspaceSettings } from '../domain/settings.ts';
import type { SettingsReader, Store } from './types.ts';

interface Entry {
  at: number;
  value: Promise<WorkspaceSettings>;
  /** Last successfully read copy, used when a refresh fails. */
  last: WorkspaceSettings | null;
}

/**
 * Workspace settings read through a short cache: a burst of messages from one workspace costs one store read,
 * and an admin's change applies within `ttlMs`.
 */
export class SettingsCache implements SettingsReader {
  readonly #store: Pick<Store, 'getSettings'>;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;

  constructor(store: Pick<Store, 'getSettings'>, ttlMs = 2_000, now: () => number = Date.now) {
    this.#store = store;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  get(platform: Platform, workspaceId: string): Promise<WorkspaceSettings> {
    const key = `${platform}\u0000${workspaceId}`;
    const now = this.#now();
    const entry = this.#entries.get(key);
    if (entry && now - entry.at < this.#ttlMs) return entry.value;
    const last = entry?.last ?? null;
    const fresh: Entry = { at: now, last, value: Promise.resolve(null as unknown as WorkspaceSettings) };
    fresh.value = this.#store.getSettings(platform, workspaceId).then(
      (settings) => {
        fresh.last = settings;
        return settings;
      },
      (error: unknown) => {
        // A store hiccup should not stall moderation: keep using the last copy, and retry on the next call.
        if (last === null) {
          this.#entries.delete(key);
          throw error;
        }
        this.#entries.set(key, { at: 0, last, value: Promise.resolve(last) });
        return last;
      },
    );
    this.#entries.set(key, fresh);
    if (this.#entries.size > 10_000) this.#entries.delete(this.#entries.keys().next().value!);
    return fresh.value;
  }
}
