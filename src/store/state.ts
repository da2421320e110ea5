import type { Platform } from '../domain/message.ts';
import { type WorkspaceSettings, WorkspaceSettingsSchema } from '../domain/settings.ts';
import { StewardError, ErrorCode, FlagConflictError, LifecycleError } from '../errors.ts';
import { localSettingsDefaults, type SettingsDefaults } from './defaults.ts';

export type { SettingsDefaults };
import type { FlagChange, FlagRecord } from './types.ts';

export const settingsKey = (platform: Platform, workspaceId: string): string => `${platform}:${workspaceId}`;

export const DEFAULT_FLAG_LIMIT = 50;

/** Validates an updated settings object and bumps its version; shared by every driver. */
export function nextSettings(current: WorkspaceSettings, updated: WorkspaceSettings): WorkspaceSettings {
  const result = WorkspaceSettingsSchema.safeParse({ ...updated, version: current.version + 1 });
  if (!result.success) {
    throw new StewardError(
      ErrorCode.Store,
      `settings update is invalid: ${result.error.issues[0]?.message ?? 'unknown'}`,
      {
        unrecoverable: true,
      },
    );
  }
  return result.data;
}

export function initialSettings(
  defaults: SettingsDefaults | undefined,
  platform: Platform,
  workspaceId: string,
) {
  // Every driver applies the local workspace's defaults unless told otherwise, so all processes agree on them.
  return WorkspaceSettingsSchema.parse((defaults ?? localSettingsDefaults)(platform, workspaceId));
}

export function applyFlagChange(flag: FlagRecord, change: FlagChange, at: number): FlagRecord {
  if (change.expectStatus !== undefined && flag.status !== change.expectStatus) {
    throw new FlagConflictError(`flag ${flag.id} is ${flag.status} already`, flag);
  }
  if (change.expectAppeal !== undefined && (flag.appeal?.status ?? 'none') !== change.expectAppeal) {
    const state = flag.appeal ? `${flag.appeal.status} already` : 'not appealed';
    throw new FlagConflictError(`the appeal on flag ${flag.id} is ${state}`, flag);
  }
  const entry: FlagRecord['history'][number] = { at, actorId: change.actorId, action: change.action };
  if (change.actorName !== undefined) entry.actorName = change.actorName;
  if (change.note !== undefined) entry.note = change.note;
  const next: FlagRecord = { ...flag, status: change.status, history: [...flag.history, entry] };
  if (change.alertMessageId !== undefined) next.alertMessageId = change.alertMessageId;
  if (change.appeal !== undefined) next.appeal = change.appeal;
  return next;
}

/** start/stop bookkeeping: start once, stop idempotent, nothing before start. */
export class Lifecycle {
  #state: 'new' | 'started' | 'stopped' = 'new';
  #stopping: Promise<void> | null = null;
  constructor(private readonly name: string) {}

  begin(): void {
    if (this.#state !== 'new') throw new LifecycleError(`${this.name}.start() was already called`);
    this.#state = 'started';
  }

  assertStarted(): void {
    if (this.#state !== 'started')
      throw new LifecycleError(`${this.name} is ${this.#state === 'new' ? 'not started' : 'stopped'}`);
  }

  /** Runs `close` once; later calls get the same promise. */
  end(close: () => Promise<void>): Promise<void> {
    if (this.#state === 'new')
      return Promise.reject(new LifecycleError(`${this.name}.stop() before start()`));
    if (!this.#stopping) {
      this.#state = 'stopped';
      this.#stopping = close();
    }
    return this.#stopping;
  }
}

/** Delivery claims and heartbeats held in process memory, with expiry checked on read. */
export class ExpiringMap<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();

  get(key: string, now = Date.now()): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, ttlMs: number, now = Date.now()): void {
    this.#entries.set(key, { value, expiresAt: now + ttlMs });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  entries(now = Date.now()): Array<[string, V, number]> {
    const out: Array<[string, V, number]> = [];
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) this.#entries.delete(key);
      else out.push([key, entry.value, entry.expiresAt]);
    }
    return out;
  }

  /** Restores an entry with its absolute expiry (file store reload). */
  restore(key: string, value: V, expiresAt: number): void {
    if (expiresAt > Date.now()) this.#entries.set(key, { value, expiresAt });
  }
}

export type DeliveryState = { state: 'pending' } | { state: 'done'; result: string | null };
