import type { WordWeight } from './analysis.ts';
import type { Platform } from './message.ts';

export type FlagStatus = 'open' | 'dismissed' | 'actioned';

/** Actor id of flag-history entries that Steward itself wrote (alert posted, auto-hide …), not a person. */
export const STEWARD_ACTOR = 'steward';

/** One earlier message of a flagged message's reply chain, as the flag log keeps it. */
export interface FlagContextTurn {
  authorId: string;
  authorName?: string;
  text: string;
  fromBot: boolean;
}

/** Turns of the reply chain kept with a flag, and the characters kept of each. */
export const FLAG_CONTEXT_TURNS = 3;
export const FLAG_CONTEXT_CHARS = 300;

/** One moderation flag: what was flagged, and who did what about it. */
export interface FlagRecord {
  id: string;
  platform: Platform;
  workspaceId: string;
  channelId: string;
  messageId: string;
  authorId: string;
  authorName: string;
  excerpt: string;
  /**
   * The reply chain the message answered, oldest first (at most FLAG_CONTEXT_TURNS, texts clipped), so that a
   * moderator sees what it replied to. Redacted like the excerpt on forget-me and expiry.
   */
  context?: FlagContextTurn[];
  flagged: string[];
  scores: Record<string, number>;
  reasons: Record<string, string[]>;
  /**
   * Per label, the model's words with their attribution weights (0..1, relative to the label's strongest word), for
   * the dashboard's heat-map. Absent on flags written before weights were kept and when the model gave none; rule
   * reasons have none. Blanked with the reasons on forget-me and expiry.
   */
  attributionWeights?: Record<string, WordWeight[]>;
  createdAt: number;
  status: FlagStatus;
  /** Moderator actions in order: dismiss, delete, timeout, auto-hide… */
  history: Array<{ at: number; actorId: string; actorName?: string; action: string; note?: string }>;
  /** Platform id of the alert message, so buttons can update it. */
  alertMessageId?: string;
  /** The flagged member's appeal against what was done (one per flag). */
  appeal?: Appeal;
}

export type AppealStatus = 'pending' | 'upheld' | 'reversed';

/** A member's appeal against a moderation action on their message, and the moderator's decision on it. */
export interface Appeal {
  /** The flagged member (only they may appeal). */
  memberId: string;
  note: string;
  at: number;
  status: AppealStatus;
  decidedAt?: number;
  decidedById?: string;
  decidedByName?: string;
  /** Platform id of the appeal's post in the moderators' channel (`<channel>/<message>`), so it can be updated. */
  postId?: string;
}

/** What a moderator action (or Steward itself) does to a flag: the new status and one history entry. */
export interface FlagChange {
  status: FlagStatus;
  actorId: string;
  actorName?: string;
  action: string;
  note?: string;
  alertMessageId?: string;
  /** Apply only while the flag has this status; otherwise the update throws FlagConflictError (first action wins). */
  expectStatus?: FlagStatus;
  /** The flag's appeal after the change (filed, decided, or posted). */
  appeal?: Appeal;
  /** Apply only while the appeal is in this state ('none': not filed yet); otherwise FlagConflictError. */
  expectAppeal?: 'none' | AppealStatus;
}
