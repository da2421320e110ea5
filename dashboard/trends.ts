import { SENTIMENT_LABELS, type SentimentLabel } from '../src/domain/analysis.ts';
import type { Platform } from '../src/domain/message.ts';
import { DAY_MS, type SentimentDay, sentimentKeepDays, type TopicDay } from '../src/store/sentiment.ts';
import type { FlagRecord, Store, WorkerHeartbeat } from '../src/store/types.ts';

/** Days the trend charts cover. */
export const TREND_DAYS = 30;
/** Topics the "topics coming up" chart draws: the most matched over the days shown. */
export const TREND_TOPICS = 8;

/**
 * GET /api/trends for one workspace: flags per label per day (flag log), messages not reviewed per language (worker
 * heartbeats), and messages per sentiment per channel per day and per best-matching topic per day (the daily summary),
 * over TREND_DAYS, or fewer days of the summary when the workspace keeps less (a retention shortened since hides the
 * older days at once).
 */
export async function trends(store: Store, grant: { platform: Platform; workspaceId: string }, now: number) {
  const { platform, workspaceId } = grant;
  const flags = await store.listFlags(platform, workspaceId, { limit: 5_000 });
  const { retentionDays } = await store.getSettings(platform, workspaceId);
  const sentimentDays = Math.min(TREND_DAYS, sentimentKeepDays(retentionDays) + 1);
  const since = now - (sentimentDays - 1) * DAY_MS;
  const sentiment = await store.sentimentSummary(platform, workspaceId, since);
  const topics = await store.topicSummary(platform, workspaceId, since);
  return {
    flagsPerDay: flagsPerLabelPerDay(flags, now, TREND_DAYS),
    skippedByLanguage: skippedByLanguage(await store.listWorkers()),
    sentimentPerDay: sentimentPerChannelPerDay(sentiment, now, TREND_DAYS),
    topicsPerDay: topicsPerDay(topics, now, TREND_DAYS),
  };
}

/** Flags per label per UTC day over the last `days` days, oldest first (x: day starts in epoch seconds, for uPlot). */
export function flagsPerLabelPerDay(flags: readonly FlagRecord[], now: number, days = 30) {
  const first = Math.floor(now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS;
  const x = Array.from({ length: days }, (_, i) => (first + i * DAY_MS) / 1000);
  const series: Record<string, number[]> = {};
  for (const flag of flags) {
    const index = Math.floor((flag.createdAt - first) / DAY_MS);
    if (index < 0 || index >= days) continue;
    for (const label of flag.flagged) {
      series[label] ??= new Array<number>(days).fill(0);
      series[label]![index]! += 1;
    }
  }
  return { x, series };
}

/** Messages the moderation model did not review, per language, summed over the live workers (since they started). */
export function skippedByLanguage(workers: readonly WorkerHeartbeat[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const worker of workers)
    for (const [language, n] of Object.entries(worker.skipped ?? {})) out[language] = (out[language] ?? 0) + n;
  return out;
}

/**
 * Messages per sentiment per channel per UTC day over the last `days` days, oldest first (x as for the flags chart);
 * days with no message count 0.
 */
export function sentimentPerChannelPerDay(summary: readonly SentimentDay[], now: number, days = 30) {
  const first = Math.floor(now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS;
  const x = Array.from({ length: days }, (_, i) => (first + i * DAY_MS) / 1000);
  const channels: Record<string, Record<SentimentLabel, number[]>> = {};
  for (const entry of summary) {
    const index = Math.floor((Date.parse(`${entry.day}T00:00:00Z`) - first) / DAY_MS);
    if (index < 0 || index >= days) continue;
    channels[entry.channelId] ??= {
      negative: new Array<number>(days).fill(0),
      neutral: new Array<number>(days).fill(0),
      positive: new Array<number>(days).fill(0),
    };
    for (const label of SENTIMENT_LABELS) channels[entry.channelId]![label][index]! += entry[label];
  }
  return { x, channels };
}

/**
 * Messages per best-matching topic per UTC day over the last `days` days, oldest first (x as for the flags chart):
 * the `max` topics with the most messages over those days (ties by name), days with no message count 0.
 */
export function topicsPerDay(summary: readonly TopicDay[], now: number, days = 30, max = TREND_TOPICS) {
  const first = Math.floor(now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS;
  const x = Array.from({ length: days }, (_, i) => (first + i * DAY_MS) / 1000);
  const all: Record<string, number[]> = {};
  for (const entry of summary) {
    const index = Math.floor((Date.parse(`${entry.day}T00:00:00Z`) - first) / DAY_MS);
    if (index < 0 || index >= days) continue;
    all[entry.topic] ??= new Array<number>(days).fill(0);
    all[entry.topic]![index]! += entry.count;
  }
  const total = (counts: number[]) => counts.reduce((a, b) => a + b, 0);
  const top = Object.entries(all)
    .sort(([a, ca], [b, cb]) => total(cb) - total(ca) || a.localeCompare(b))
    .slice(0, max);
  return { x, series: Object.fromEntries(top) };
}
