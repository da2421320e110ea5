import type { LibrarySource } from './library.ts';
import type { SentimentLabel } from './analysis.ts';
import type { MessageRef } from './message.ts';

interface ActionBase {
  /** Idempotency key: the same action for the same message always has the same key. */
  key: string;
  target: MessageRef;
}

/** A sentiment tag, shown as a reaction. */
export interface ReactAction extends ActionBase {
  kind: 'react';
  sentiment: SentimentLabel;
  emoji: string;
}

/** A reply to the message (in its thread where the platform has threads). */
export interface ReplyAction extends ActionBase {
  kind: 'reply';
  text: string;
  reason: 'mention' | 'topic' | 'direct';
  topic?: string;
  /** Library items the reply answered from and cites (its text names them too). */
  sources?: LibrarySource[];
}

/** A moderator alert, posted to the workspace's moderation channel. */
export interface AlertAction extends ActionBase {
  kind: 'alert';
  flagId: string;
  moderationChannelId: string;
  author: { id: string; name: string };
  /** The flagged text, for moderators' eyes only. */
  excerpt: string;
  scores: Record<string, number>;
  flagged: string[];
  reasons: Record<string, string[]>;
  /**
   * Flagged labels a rule raised (built-in or the workspace's): flagged whatever the model scored, so their entry in
   * `scores` is the model's opinion, not why they were flagged. Absent when no rule matched (older jobs too).
   */
  ruleLabels?: string[];
  /** True when the workspace runs in auto-hide mode and a hide action accompanies the alert. */
  autoHidden: boolean;
}

/** Remove the message (auto-hide mode). */
export interface HideAction extends ActionBase {
  kind: 'hide';
  flagId: string;
}

/** A moderator timed the author out (Discord's communication timeout), from the dashboard. */
export interface TimeoutAction extends ActionBase {
  kind: 'timeout';
  flagId: string;
  /** The member to time out: the flagged message's author. */
  userId: string;
  durationMs: number;
  /** Who asked for it, for the platform's audit log. */
  actorName: string;
}

/** A moderator had Steward warn the author privately (Slack has no timeout for members), from the dashboard. */
export interface WarnAction extends ActionBase {
  kind: 'warn';
  flagId: string;
  userId: string;
}

/** A moderator acted from the dashboard: the alert in the moderators' channel says so, as after a button press. */
export interface AlertUpdateAction extends ActionBase {
  kind: 'alert-update';
  flagId: string;
  /** What was done (a ModAction: dismiss, delete, timeout, warn). */
  done: 'dismiss' | 'delete' | 'timeout' | 'warn';
  actorId: string;
  actorName: string;
  /** The flag takes no more actions: the alert's buttons are disabled or removed. */
  settled: boolean;
}

/** A moderator decided a member's appeal from the dashboard: tell the member, undo a timeout when reversed. */
export interface AppealDecisionAction extends ActionBase {
  kind: 'appeal-decision';
  flagId: string;
  decision: 'uphold' | 'reverse';
  /** The member who appealed (the flagged message's author). */
  userId: string;
  /** Lift the member's timeout (a reversed appeal of a flag that timed them out, on Discord). */
  liftTimeout: boolean;
  actorName: string;
}

export type Action =
  | ReactAction
  | ReplyAction
  | AlertAction
  | HideAction
  | TimeoutAction
  | WarnAction
  | AlertUpdateAction
  | AppealDecisionAction;
export type ActionKind = Action['kind'];

export const SENTIMENT_EMOJI: Record<SentimentLabel, string> = {
  negative: '😟',
  neutral: '😐',
  positive: '😊',
};

/**
 * A flagged label's figure in readable output: the model's score, or "rule" when a rule raised the label (then the
 * model's score, often low, is not why it was flagged: "rule, model 0.09").
 */
export function scoreShown(
  score: number | undefined,
  byRule = false,
  format = (x: number) => x.toFixed(2),
): string {
  if (score === undefined) return 'rule';
  return byRule ? `rule, model ${format(score)}` : format(score);
}
