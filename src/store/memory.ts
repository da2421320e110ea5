import type { LibraryItem } from '../domain/library.ts';
import type { Platform } from '../domain/message.ts';
import type { InterestProfile } from '../domain/profile.ts';
import type { WorkspaceSettings } from '../domain/settings.ts';
import {
  applyFlagChange,
  DEFAULT_FLAG_LIMIT,
  type DeliveryState,
  ExpiringMap,
  initialSettings,
  Lifecycle,
  nextSettings,
  type SettingsDefaults,
  settingsKey,
} from './state.ts';
import { MemoryLibrary } from './library.ts';
import { type ForgetResult, MemoryMembers, type RetentionResult } from './members.ts';
import { MemorySentiment, type DailyCount, type SentimentDay, type TopicDay } from './sentiment.ts';
import type { FlagChange, FlagRecord, FlagStatus, Store, WorkerHeartbeat } from './types.ts';

export interface MemoryStoreOptions {
  defaults?: SettingsDefaults;
}

/** What a change touched, so a persisting subclass writes only that part. */
export type StorePart = 'settings' | 'flags' | 'deliveries' | 'profiles' | 'flag-log' | 'sentiment';

/** The store held in process memory; the file store adds persistence on top (tests use it directly). */
export class MemoryStore implements Store {
  protected readonly lifecycle: Lifecycle;
  protected readonly settings = new Map<string, WorkspaceSettings>();
  protected readonly flags = new Map<string, FlagRecord>();
  protected readonly deliveries = new ExpiringMap<DeliveryState>();
  protected readonly workers = new ExpiringMap<WorkerHeartbeat>();
  readonly #defaults: SettingsDefaults | undefined;
  readonly #library: MemoryLibrary;
  /** Profiles and opt-outs (issue 11); their flag redactions go through `persist('flag-log')`. */
  protected readonly members = new MemoryMembers(
    {
      all: () => this.flags.values(),
      replace: async (flags) => {
        for (const f of flags) this.flags.set(f.id, f);
        if (flags.length > 0) await this.persist('flag-log');
      },
    },
    () => this.persist('profiles'),
  );
  /** Daily sentiment counts per channel (the dashboard's trend). */
  protected readonly sentiment = new MemorySentiment(() => this.persist('sentiment'));

  constructor(options: MemoryStoreOptions = {}, name = 'MemoryStore', library = new MemoryLibrary()) {
    this.#defaults = options.defaults;
    this.lifecycle = new Lifecycle(name);
    this.#library = library;
  }

  async listLibrary(platform: Platform, workspaceId: string): Promise<LibraryItem[]> {
    this.lifecycle.assertStarted();
    return this.#library.listLibrary(platform, workspaceId);
  }

  async putLibraryItems(platform: Platform, workspaceId: string, items: LibraryItem[]): Promise<number> {
    this.lifecycle.assertStarted();
    return this.#library.putLibraryItems(platform, workspaceId, items);
  }

  async removeLibraryItems(platform: Platform, workspaceId: string, ids: string[]): Promise<number> {
    this.lifecycle.assertStarted();
    return this.#library.removeLibraryItems(platform, workspaceId, ids);
  }

  async libraryVersion(platform: Platform, workspaceId: string): Promise<number> {
    this.lifecycle.assertStarted();
    return this.#library.libraryVersion(platform, workspaceId);
  }

  async getProfile(platform: Platform, workspaceId: string, userId: string): Promise<InterestProfile | null> {
    this.lifecycle.assertStarted();
    return this.members.getProfile(platform, workspaceId, userId);
  }

  async putProfile(profile: InterestProfile): Promise<boolean> {
    this.lifecycle.assertStarted();
    return this.members.putProfile(profile);
  }

  async setOptOut(platform: Platform, workspaceId: string, userId: string, optedOut: boolean): Promise<void> {
    this.lifecycle.assertStarted();
    return this.members.setOptOut(platform, workspaceId, userId, optedOut);
  }

  async isOptedOut(platform: Platform, workspaceId: string, userId: string): Promise<boolean> {
    this.lifecycle.assertStarted();
    return this.members.isOptedOut(platform, workspaceId, userId);
  }

  async forgetMember(platform: Platform, workspaceId: string, userId: string): Promise<ForgetResult> {
    this.lifecycle.assertStarted();
    return this.members.forgetMember(platform, workspaceId, userId);
  }

  async applyRetention(platform: Platform, workspaceId: string, before: number): Promise<RetentionResult> {
    this.lifecycle.assertStarted();
    return this.members.applyRetention(platform, workspaceId, before);
  }

  async countMessage(count: DailyCount, keepDays: number): Promise<void> {
    this.lifecycle.assertStarted();
    return this.sentiment.countMessage(count, keepDays);
  }

  async sentimentSummary(platform: Platform, workspaceId: string, since: number): Promise<SentimentDay[]> {
    this.lifecycle.assertStarted();
    return this.sentiment.sentimentSummary(platform, workspaceId, since);
  }

  async topicSummary(platform: Platform, workspaceId: string, since: number): Promise<TopicDay[]> {
    this.lifecycle.assertStarted();
    return this.sentiment.topicSummary(platform, workspaceId, since);
  }

  async start(): Promise<void> {
    this.lifecycle.begin();
  }

  stop(): Promise<void> {
    return this.lifecycle.end(async () => {});
  }

  /** Called after every change; the file store writes the part to disk before the caller's promise resolves. */
  protected async persist(_part: StorePart, _flag?: FlagRecord): Promise<void> {}

  async getSettings(platform: Platform, workspaceId: string): Promise<WorkspaceSettings> {
    this.lifecycle.assertStarted();
    return structuredClone(
      this.settings.get(settingsKey(platform, workspaceId)) ??
        initialSettings(this.#defaults, platform, workspaceId),
    );
  }

  async updateSettings(
    platform: Platform,
    workspaceId: string,
    update: (current: WorkspaceSettings) => WorkspaceSettings,
  ): Promise<WorkspaceSettings> {
    this.lifecycle.assertStarted();
    const key = settingsKey(platform, workspaceId);
    // Read, update and write happen in one synchronous step, so concurrent updates cannot interleave.
    const current = this.settings.get(key) ?? initialSettings(this.#defaults, platform, workspaceId);
    const next = nextSettings(current, update(structuredClone(current)));
    this.settings.set(key, next);
    await this.persist('settings');
    return structuredClone(next);
  }

  async recordFlag(flag: FlagRecord): Promise<boolean> {
    this.lifecycle.assertStarted();
    if (this.flags.has(flag.id)) return false;
    const copy = structuredClone(flag);
    this.flags.set(flag.id, copy);
    await this.persist('flags', copy);
    return true;
  }

  async getFlag(id: string): Promise<FlagRecord | null> {
    this.lifecycle.assertStarted();
    const flag = this.flags.get(id);
    return flag ? structuredClone(flag) : null;
  }

  async updateFlag(id: string, change: FlagChange): Promise<FlagRecord | null> {
    this.lifecycle.assertStarted();
    const flag = this.flags.get(id);
    if (!flag) return null;
    const next = applyFlagChange(flag, change, Date.now());
    this.flags.set(id, next);
    await this.persist('flags', next);
    return structuredClone(next);
  }

  async listFlags(
    platform: Platform,
    workspaceId: string,
    options: { status?: FlagStatus; limit?: number } = {},
  ): Promise<FlagRecord[]> {
    this.lifecycle.assertStarted();
    const limit = options.limit ?? DEFAULT_FLAG_LIMIT;
    return [...this.flags.values()]
      .filter((f) => f.platform === platform && f.workspaceId === workspaceId)
      .filter((f) => options.status === undefined || f.status === options.status)
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, limit)
      .map((f) => structuredClone(f));
  }

  async claimDelivery(key: string, leaseMs: number): Promise<boolean> {
    this.lifecycle.assertStarted();
    if (this.deliveries.get(key)) return false;
    // Pending claims are not persisted: after a crash the lease would have run out anyway.
    this.deliveries.set(key, { state: 'pending' }, leaseMs);
    return true;
  }

  async confirmDelivery(key: string, retainMs: number, result?: string): Promise<void> {
    this.lifecycle.assertStarted();
    this.deliveries.set(key, { state: 'done', result: result ?? null }, retainMs);
    await this.persist('deliveries');
  }

  async releaseDelivery(key: string): Promise<void> {
    this.lifecycle.assertStarted();
    if (this.deliveries.get(key)?.state === 'pending') this.deliveries.delete(key);
  }

  async deliveryResult(key: string): Promise<string | null> {
    this.lifecycle.assertStarted();
    const entry = this.deliveries.get(key);
    return entry?.state === 'done' ? entry.result : null;
  }

  async heartbeat(worker: WorkerHeartbeat, ttlMs: number): Promise<void> {
    this.lifecycle.assertStarted();
    this.workers.set(worker.id, structuredClone(worker), ttlMs);
  }

  async listWorkers(): Promise<WorkerHeartbeat[]> {
    this.lifecycle.assertStarted();
    return this.workers
      .entries()
      .map(([, hb]) => structuredClone(hb))
      .sort((a, b) => a.id.localeCompare(b.id));
  }
}
