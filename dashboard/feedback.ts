import type { FlagRecord } from '../src/store/types.ts';

/** Moderators' decisions on one label's alerts, and a threshold that would have spared the dismissed ones. */
export interface LabelFeedback {
  label: string;
  dismissed: number;
  actioned: number;
  open: number;
  /** Set when dismissals dominate (at least MIN_DECISIONS decisions, more dismissed than acted on). */
  suggestedThreshold: number | null;
}

export const FEEDBACK_WINDOW_MS = 30 * 86_400_000;
const MIN_DECISIONS = 5;

const floor2 = (x: number) => Math.floor(x * 100) / 100;

/**
 * Per label over the window: dismissed vs acted-on alerts. The suggestion is the highest threshold that still
 * flags every message a moderator acted on (the lowest acted-on score), or, when none was acted on, just above
 * the highest dismissed score; it is offered only when it would drop at least one dismissed alert.
 */
export function labelFeedback(flags: FlagRecord[], now: number): LabelFeedback[] {
  const byLabel = new Map<string, { dismissed: number[]; actioned: number[]; open: number }>();
  for (const flag of flags) {
    if (flag.createdAt < now - FEEDBACK_WINDOW_MS) continue;
    // Steward's own auto-hide is not a moderator's decision.
    const decided = flag.history.some((h) => h.actorId !== 'steward');
    for (const label of flag.flagged) {
      const entry = byLabel.get(label) ?? { dismissed: [], actioned: [], open: 0 };
      const score = flag.scores[label] ?? 0;
      // A reversed appeal is a wrong flag whatever the status says.
      if ((flag.status === 'dismissed' && decided) || flag.appeal?.status === 'reversed') entry.dismissed.push(score);
      else if (flag.status === 'actioned' && decided) entry.actioned.push(score);
      else entry.open += 1;
      byLabel.set(label, entry);
    }
  }
  return [...byLabel.entries()]
    .map(([label, e]) => {
      let suggestedThreshold: number | null = null;
      const decisions = e.dismissed.length + e.actioned.length;
      if (decisions >= MIN_DECISIONS && e.dismissed.length > e.actioned.length) {
        const candidate =
          e.actioned.length > 0 ? floor2(Math.min(...e.actioned)) : Math.min(0.99, floor2(Math.max(...e.dismissed)) + 0.01);
        if (e.dismissed.some((s) => s < candidate)) suggestedThreshold = candidate;
      }
      return { label, dismissed: e.dismissed.length, actioned: e.actioned.length, open: e.open, suggestedThreshold };
    })
    .sort((a, b) => a.label.localeCompare(b.label));
}
