import type { Platform } from '../domain/message.ts';
import type { WorkspaceSettings } from '../domain/settings.ts';
import type { LibraryStore } from './library.ts';
import type { MemberStore } from './members.ts';
import type { SentimentStore } from './sentiment.ts';

export type { FlagChange, FlagRecord, FlagStatus } from '../domain/flag.ts';
export { STEWARD_ACTOR } from '../domain/flag.ts';
import type { FlagChange, FlagRecord, FlagStatus } from '../domain/flag.ts';

/**
 * Settings, the flag log, the community library, member profiles and the daily sentiment summary; Redis
 * (distributed) or files under ./data (local).
 */
export interface Store extends LibraryStore, MemberStore, SentimentStore {
  start(): Promise<void>;
  stop(): Promise<void>;
  getSettings(platform: Platform, workspaceId: string): Promise<WorkspaceSettings>;
  /** Read-modify-write of one workspace's settings; returns the new settings (version bumped). */
  updateSettings(
    platform: Platform,
    workspaceId: string,
    update: (current: WorkspaceSettings) => WorkspaceSettings,
  ): Promise<WorkspaceSettings>;
  /** Records a flag; recording the same id twice keeps the first record. Returns false when it existed. */
  recordFlag(flag: FlagRecord): Promise<boolean>;
  getFlag(id: string): Promise<FlagRecord | null>;
  /** Appends a history entry and sets the status; returns the updated record, or null when unknown. */
  updateFlag(id: string, change: FlagChange): Promise<FlagRecord | null>;
  listFlags(
    platform: Platform,
    workspaceId: string,
    options?: { status?: FlagStatus; limit?: number },
  ): Promise<FlagRecord[]>;
  /**
   * Idempotency of outbound actions: claim before posting (false = already done or in progress elsewhere),
   * confirm after success (kept for `retainMs`), release after a failure so a retry can claim again.
   */
  claimDelivery(key: string, leaseMs: number): Promise<boolean>;
  confirmDelivery(key: string, retainMs: number, result?: string): Promise<void>;
  releaseDelivery(key: string): Promise<void>;
  /** Result recorded at confirm time (e.g. the posted message id), or null. */
  deliveryResult(key: string): Promise<string | null>;
  /** Workers announce themselves (id, models loaded, last error) with a time-to-live; status lists the live ones. */
  heartbeat(worker: WorkerHeartbeat, ttlMs: number): Promise<void>;
  listWorkers(): Promise<WorkerHeartbeat[]>;
}

export interface WorkerHeartbeat {
  id: string;
  host: string;
  pid: number;
  startedAt: number;
  at: number;
  device: string;
  models: Array<{ role: string; source: string; version: string; dtype: string }>;
  processed: number;
  /** Messages the moderation model did not review, per language it cannot read. */
  skipped?: Record<string, number>;
  /** Moderation labels of the worker's models: `steward bot` refuses thresholds for any other label. */
  labels?: string[];
  lastError?: { at: number; message: string };
}

/** Reads a workspace's settings (a cache in front of the store, injected by the composition root). */
export interface SettingsReader {
  get(platform: Platform, workspaceId: string): Promise<WorkspaceSettings>;
}
