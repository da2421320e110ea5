import type { FlagRecord, WorkerHeartbeat } from '../src/store/types.ts';

const DAY_MS = 86_400_000;

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
