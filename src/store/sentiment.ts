import { SENTIMENT_LABELS, type SentimentLabel } from '../domain/analysis.ts';
import type { Platform } from '../domain/message.ts';

/** How long daily sentiment counts are kept when the workspace sets no shorter retention. */
export const SENTIMENT_RETENTION_DAYS = 90;
export const DAY_MS = 86_400_000;

/** Messages per sentiment in one channel on one UTC day: no text, no authors, only counts. */
export interface SentimentDay {
  /** YYYY-MM-DD, UTC. */
  day: string;
  channelId: string;
  negative: number;
  neutral: number;
  positive: number;
}

/** Messages that matched one configured topic (best match) in a workspace on one UTC day: only the count. */
export interface TopicDay {
  /** YYYY-MM-DD, UTC. */
  day: string;
  topic: string;
  count: number;
}

/**
 * One message in the daily summary: its sentiment in its channel (`label`, with `channelId`) and/or the configured
 * topic it matched best (`topic`); counted on the UTC day of `at`.
 */
export interface DailyCount {
  platform: Platform;
  workspaceId: string;
  channelId: string;
  at: number;
  label?: SentimentLabel;
  topic?: string;
}

/**
 * The daily summary part of the Store: sentiment per channel and best-matching topic per workspace, written by the
 * worker, read by the dashboard. Both share a day's retention.
 */
export interface SentimentStore {
  /**
   * Adds one message to its day's counts (its channel's sentiment, its topic) in one write; the day is kept
   * `keepDays` days after it ends.
   */
  countMessage(count: DailyCount, keepDays: number): Promise<void>;
  /** The workspace's daily counts per channel for the UTC days from `since` (epoch ms) on, oldest day first. */
  sentimentSummary(platform: Platform, workspaceId: string, since: number): Promise<SentimentDay[]>;
  /** The workspace's daily counts per topic for the UTC days from `since` on, oldest day first, then by topic. */
  topicSummary(platform: Platform, workspaceId: string, since: number): Promise<TopicDay[]>;
}

/** Days to keep: the workspace's retention when it is shorter than the default. */
export function sentimentKeepDays(retentionDays: number | null | undefined): number {
  return Math.max(1, Math.min(SENTIMENT_RETENTION_DAYS, retentionDays ?? SENTIMENT_RETENTION_DAYS));
}

export const utcDay = (at: number): string => new Date(at).toISOString().slice(0, 10);
export const dayStart = (at: number): number => Math.floor(at / DAY_MS) * DAY_MS;
/** When a day's counts may be dropped: `keepDays` whole days after the day ended. */
export const dayExpiresAt = (at: number, keepDays: number): number => dayStart(at) + (keepDays + 1) * DAY_MS;

const workspaceKey = (platform: Platform, workspaceId: string) => `${platform}:${workspaceId}`;

interface DayEntry {
  expiresAt: number;
  channels: Record<string, Record<SentimentLabel, number>>;
  /** Messages per best-matching topic (absent in files written before topics were counted). */
  topics?: Record<string, number>;
}

/** Daily counts in process memory (MemoryStore); the file store persists them through `persist`. */
export class MemorySentiment implements SentimentStore {
  /** workspace key → day → counts. */
  readonly #days = new Map<string, Map<string, DayEntry>>();

  constructor(
    private readonly persist: () => Promise<void> = async () => {},
    private readonly now: () => number = Date.now,
  ) {}

  async countMessage(count: DailyCount, keepDays: number): Promise<void> {
    if (count.label === undefined && count.topic === undefined) return;
    const entry = this.#entry(count.platform, count.workspaceId, count.at, keepDays);
    if (count.label !== undefined) {
      entry.channels[count.channelId] ??= { negative: 0, neutral: 0, positive: 0 };
      entry.channels[count.channelId]![count.label] += 1;
    }
    if (count.topic !== undefined) {
      entry.topics ??= {};
      entry.topics[count.topic] = (entry.topics[count.topic] ?? 0) + 1;
    }
    this.#written();
  }

  /** The day's entry to add to, its expiry extended; drops the workspace's days a shortened retention no longer covers. */
  #entry(platform: Platform, workspaceId: string, at: number, keepDays: number): DayEntry {
    const key = workspaceKey(platform, workspaceId);
    let days = this.#days.get(key);
    if (!days) {
      days = new Map();
      this.#days.set(key, days);
    }
    const day = utcDay(at);
    const entry = days.get(day) ?? { expiresAt: 0, channels: {} };
    entry.expiresAt = Math.max(entry.expiresAt, dayExpiresAt(at, keepDays));
    days.set(day, entry);
    // A shorter retention set since applies to the workspace's older days at once.
    const cutoff = utcDay(this.now() - keepDays * DAY_MS);
    for (const old of days.keys()) if (old < cutoff) days.delete(old);
    return entry;
  }

  #written(): void {
    this.#sweep();
    // Not awaited, like profiles: derived counts; a crash loses at most the last coalesced write.
    void this.persist().catch(() => {});
  }

  async sentimentSummary(platform: Platform, workspaceId: string, since: number): Promise<SentimentDay[]> {
    const from = utcDay(since);
    const now = this.now();
    const out: SentimentDay[] = [];
    for (const [day, entry] of this.#days.get(workspaceKey(platform, workspaceId)) ?? []) {
      if (day < from || entry.expiresAt <= now) continue;
      for (const [channelId, counts] of Object.entries(entry.channels))
        out.push({ day, channelId, ...counts });
    }
    return out.sort((a, b) => a.day.localeCompare(b.day) || a.channelId.localeCompare(b.channelId));
  }

  async topicSummary(platform: Platform, workspaceId: string, since: number): Promise<TopicDay[]> {
    const from = utcDay(since);
    const now = this.now();
    const out: TopicDay[] = [];
    for (const [day, entry] of this.#days.get(workspaceKey(platform, workspaceId)) ?? []) {
      if (day < from || entry.expiresAt <= now) continue;
      for (const [topic, count] of Object.entries(entry.topics ?? {})) out.push({ day, topic, count });
    }
    return out.sort((a, b) => a.day.localeCompare(b.day) || a.topic.localeCompare(b.topic));
  }

  #sweep(): void {
    const now = this.now();
    for (const [key, days] of this.#days) {
      for (const [day, entry] of days) if (entry.expiresAt <= now) days.delete(day);
      if (days.size === 0) this.#days.delete(key);
    }
  }

  /** The JSON the file store keeps in sentiment.json. */
  serialise(): string {
    const out: Record<string, Record<string, DayEntry>> = {};
    for (const [key, days] of this.#days) out[key] = Object.fromEntries(days);
    return JSON.stringify(out);
  }

  restore(text: string): void {
    const parsed = JSON.parse(text) as Record<string, Record<string, DayEntry>>;
    for (const [key, days] of Object.entries(parsed)) {
      const map = new Map<string, DayEntry>();
      for (const [day, entry] of Object.entries(days)) {
        const channels: DayEntry['channels'] = {};
        for (const [channelId, counts] of Object.entries(entry.channels ?? {})) {
          channels[channelId] = Object.fromEntries(
            SENTIMENT_LABELS.map((label) => [label, Number(counts[label]) || 0]),
          ) as Record<SentimentLabel, number>;
        }
        const topics = Object.fromEntries(
          Object.entries(entry.topics ?? {}).map(([topic, n]) => [topic, Number(n) || 0]),
        );
        map.set(day, { expiresAt: Number(entry.expiresAt) || 0, channels, topics });
      }
      this.#days.set(key, map);
    }
    this.#sweep();
  }
}
