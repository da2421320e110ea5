import type { Redis } from 'ioredis';
import { SENTIMENT_LABELS, type SentimentLabel } from '../domain/analysis.ts';
import type { Platform } from '../domain/message.ts';
import {
  DAY_MS,
  dayExpiresAt,
  dayStart,
  SENTIMENT_RETENTION_DAYS,
  type DailyCount,
  type SentimentDay,
  type SentimentStore,
  type TopicDay,
  utcDay,
} from './sentiment.ts';

/** How often a workspace's days beyond a shortened retention are deleted (they expire on their own otherwise). */
const TRIM_EVERY_MS = 3_600_000;

/** Field prefix of a topic's count in a day's hash (no sentiment label is called that). */
const TOPIC_FIELD = 'topic:';

/**
 * One message's counts in its day's hash and the day's expiry, atomically. A script, not a MULTI: it is one
 * command, so the store client's auto-pipelining sends it in the same write as the other store commands of that
 * event-loop turn (a MULTI always goes out as a write of its own, and builds a pipeline object per message).
 * KEYS[1] the day's hash; ARGV: the label field or '', the topic field or '', the expiry (ms since the epoch).
 */
const COUNT_MESSAGE = `
if ARGV[1] ~= '' then redis.call('HINCRBY', KEYS[1], ARGV[1], 1) end
if ARGV[2] ~= '' then redis.call('HINCRBY', KEYS[1], ARGV[2], 1) end
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1`;

/**
 * Daily counts in Redis, beside the store's keys (`<prefix>:store:`): one hash per workspace and UTC day,
 * `sentiment:<platform>:<ws>:<YYYY-MM-DD>`, field `<label>:<channelId>` → count and `topic:<topic>` → count,
 * expiring `keepDays` after the day.
 */
export class RedisSentiment implements SentimentStore {
  readonly #trimmed = new Map<string, number>();

  constructor(
    private readonly db: () => Redis,
    private readonly k: string,
    private readonly now: () => number = Date.now,
  ) {}

  #day(platform: Platform, workspaceId: string, day: string) {
    return `${this.k}:sentiment:${platform}:${workspaceId}:${day}`;
  }

  /** One script call per message: its sentiment and topic fields of the day's hash, and the day's expiry. */
  async countMessage(count: DailyCount, keepDays: number): Promise<void> {
    if (count.label === undefined && count.topic === undefined) return;
    const { platform, workspaceId } = count;
    const key = this.#day(platform, workspaceId, utcDay(count.at));
    const counted = this.db().eval(
      COUNT_MESSAGE,
      1,
      key,
      count.label !== undefined ? `${count.label}:${count.channelId}` : '',
      count.topic !== undefined ? `${TOPIC_FIELD}${count.topic}` : '',
      dayExpiresAt(count.at, keepDays),
    );
    // A retention shortened since: the days it no longer covers go now, not when their longer expiry runs out.
    const workspace = `${platform}:${workspaceId}`;
    const now = this.now();
    if (keepDays < SENTIMENT_RETENTION_DAYS && now - (this.#trimmed.get(workspace) ?? 0) >= TRIM_EVERY_MS) {
      this.#trimmed.set(workspace, now);
      const today = dayStart(now);
      const stale: string[] = [];
      for (let back = keepDays + 1; back <= SENTIMENT_RETENTION_DAYS + 1; back++)
        stale.push(this.#day(platform, workspaceId, utcDay(today - back * DAY_MS)));
      await Promise.all([counted, this.db().del(...stale)]);
      return;
    }
    await counted;
  }

  /** Each kept day's hash from `since` on, oldest first. */
  async #days(platform: Platform, workspaceId: string, since: number) {
    const today = dayStart(this.now());
    const first = Math.max(dayStart(since), today - SENTIMENT_RETENTION_DAYS * DAY_MS);
    const days: string[] = [];
    for (let at = first; at <= today; at += DAY_MS) days.push(utcDay(at));
    if (days.length === 0) return [];
    const pipeline = this.db().pipeline();
    for (const day of days) pipeline.hgetall(this.#day(platform, workspaceId, day));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, value], i) => {
      if (error) throw error;
      return { day: days[i]!, fields: value as Record<string, string> };
    });
  }

  async topicSummary(platform: Platform, workspaceId: string, since: number): Promise<TopicDay[]> {
    const out: TopicDay[] = [];
    for (const { day, fields } of await this.#days(platform, workspaceId, since)) {
      const topics: TopicDay[] = [];
      for (const [field, n] of Object.entries(fields))
        if (field.startsWith(TOPIC_FIELD))
          topics.push({ day, topic: field.slice(TOPIC_FIELD.length), count: Number(n) });
      out.push(...topics.sort((a, b) => a.topic.localeCompare(b.topic)));
    }
    return out;
  }

  async sentimentSummary(platform: Platform, workspaceId: string, since: number): Promise<SentimentDay[]> {
    const out: SentimentDay[] = [];
    for (const { day, fields } of await this.#days(platform, workspaceId, since)) {
      const perChannel = new Map<string, SentimentDay>();
      for (const [field, n] of Object.entries(fields)) {
        const colon = field.indexOf(':');
        const label = field.slice(0, colon) as SentimentLabel;
        if (!SENTIMENT_LABELS.includes(label)) continue;
        const channelId = field.slice(colon + 1);
        let entry = perChannel.get(channelId);
        if (!entry) {
          entry = { day, channelId, negative: 0, neutral: 0, positive: 0 };
          perChannel.set(channelId, entry);
        }
        entry[label] = Number(n);
      }
      out.push(...[...perChannel.values()].sort((a, b) => a.channelId.localeCompare(b.channelId)));
    }
    return out;
  }
}
