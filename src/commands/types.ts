import type { ModelInfo } from '../engine.ts';
import type { Platform } from '../domain/message.ts';
import type { ModerationMode, ReplyMode, SentimentTags } from '../domain/settings.ts';
import type { FlagStatus, Store } from '../store/types.ts';
import type { LibraryCommand } from './library-spec.ts';
import type { PrivacyCommand } from './privacy-spec.ts';

/** A channel or role named in a command, after platform mention syntax has been stripped. */
export interface Target {
  type: 'channel' | 'role';
  id: string;
}

/** One parsed slash command; the text form and the structured (Discord options) form both end here. */
export type Command =
  | { kind: 'topics.add'; name: string; description: string }
  | { kind: 'topics.remove'; name: string }
  | { kind: 'topics.list' }
  | { kind: 'config.moderation-channel'; channelId: string | null }
  | { kind: 'config.threshold'; label: string; value: number | null }
  | { kind: 'config.mode'; mode: ModerationMode }
  | { kind: 'config.replies'; mode: ReplyMode }
  | { kind: 'config.sentiment-tags'; value: SentimentTags }
  | { kind: 'config.exempt'; target: Target }
  | { kind: 'config.unexempt'; target: Target }
  | { kind: 'config.show' }
  | { kind: 'rules.list' }
  | { kind: 'rules.add'; label: string; value: string }
  | { kind: 'rules.remove'; id: string }
  | { kind: 'rules.disable'; id: string }
  | { kind: 'rules.enable'; id: string }
  | { kind: 'rules.test'; text: string }
  | { kind: 'rules.sync' }
  | { kind: 'status' }
  | { kind: 'flags'; status: FlagStatus | 'all' }
  | { kind: 'help' }
  | LibraryCommand
  | PrivacyCommand;

/** What Discord hands an adapter for `/steward <group> <sub> option:value…` (group absent for top-level subs). */
export interface StructuredCommand {
  group?: string | null;
  sub: string;
  options?: Record<string, string | number | boolean | null | undefined>;
}

/** What `status` shows; the adapter (or local mode) supplies it, see collectStatus(). */
export interface StatusInfo {
  queues: Array<{ name: string; waiting: number; active: number; delayed: number; failed: number }>;
  workersAlive: number;
  models: ModelInfo[];
  lastErrors: Array<{ at: number; source: string; message: string }>;
  /** Messages not reviewed by the moderation model because it cannot read their language, per language. */
  skipped?: Record<string, number>;
}

export interface CommandActor {
  id: string;
  name: string;
  /** Decided by the adapter: Manage Server (Discord), workspace admin or allow-list (Slack). */
  isAdmin: boolean;
}

/**
 * Where a member's words sit besides the store: the queues' finished jobs (kept a while to recognise redelivered
 * events, failed ones until trimmed). The queue drivers implement it; forget-me scrubs them through it.
 */
export interface MemberJobs {
  /** Removes the member's text, id and name from the finished jobs of their workspace; returns how many changed. */
  forgetMember(platform: Platform, workspaceId: string, userId: string): Promise<number>;
}

export interface CommandContext {
  platform: Platform;
  workspaceId: string;
  actor: CommandActor;
  store: Store;
  /** The queue, for forget-me. Without it forget-me reaches the store only (fine where no queue keeps jobs). */
  jobs?: MemberJobs;
  status?: () => Promise<StatusInfo>;
  /** Moderation labels of the loaded models; when given, thresholds for other labels are refused. */
  labels?: readonly string[];
  /** The platform's own keyword filter (Discord AutoMod), when the adapter offers one: `rules sync`. */
  automod?: AutoModSync;
}

/** A reply for the adapter to show privately (ephemeral on Discord and Slack). */
export interface CommandReply {
  /** False when the command was refused or its arguments were wrong; nothing was changed then. */
  ok: boolean;
  /** Plain text with light markdown (`code`, *bold*), readable on every platform and in a terminal. */
  text: string;
  title?: string;
  /** Optional name/value pairs an adapter may render as embed fields or Block Kit sections. */
  fields?: Array<{ name: string; value: string }>;
  /** Always true: command replies are never posted publicly. */
  ephemeral: true;
}

/** Mirrors keyword rules into a platform's native filter: one Steward-managed rule, created or updated in place. */
export interface AutoModSync {
  /** Returns what was done, for the admin ("updated AutoMod rule … with 12 keywords"). */
  sync(keywords: readonly string[], allowed?: readonly string[]): Promise<string>;
}
