import type { Appeal, FlagChange, FlagRecord, FlagStatus } from './flag.ts';
import type { Platform } from './message.ts';

/**
 * The moderator-action rules, written once for every surface that acts on a flag (Discord and Slack buttons,
 * the dashboard, any future API): which actions exist on which platform, which flag status each one sets,
 * what the actor must be allowed to do, and whether the flag belongs to the actor's workspace at all.
 */
export type ModAction = 'dismiss' | 'delete' | 'timeout' | 'warn';

/** What a platform must confirm about the actor before an action runs (each adapter maps it to its own checks). */
export type ModCapability = 'manage_messages' | 'moderate_members';

interface ActionRule {
  status: FlagStatus;
  needs: ModCapability;
  /** Settled flags take no more actions of this kind (a timeout can follow a delete; a second delete cannot). */
  settles: boolean;
}

const RULES: Readonly<Record<ModAction, ActionRule>> = Object.freeze({
  dismiss: { status: 'dismissed', needs: 'manage_messages', settles: true },
  delete: { status: 'actioned', needs: 'manage_messages', settles: true },
  timeout: { status: 'actioned', needs: 'moderate_members', settles: false },
  warn: { status: 'actioned', needs: 'moderate_members', settles: false },
});

/** The actions each platform offers on an alert (Slack has no member timeout: it warns by DM instead). */
export const PLATFORM_ACTIONS: Readonly<Record<Platform, readonly ModAction[]>> = Object.freeze({
  discord: ['dismiss', 'delete', 'timeout'],
  slack: ['dismiss', 'delete', 'warn'],
  local: ['dismiss'],
});

/** The flag status an action sets. */
export function statusAfter(action: ModAction): FlagStatus {
  return RULES[action].status;
}

/** What the actor must be allowed to do on the platform for this action. */
export function capabilityFor(action: ModAction): ModCapability {
  return RULES[action].needs;
}

/** Whether the action closes the flag for further actions (the alert's buttons are disabled). */
export function settles(action: ModAction): boolean {
  return RULES[action].settles;
}

export function isModAction(value: string): value is ModAction {
  return Object.hasOwn(RULES, value);
}

/** Who is acting, where: the workspace and platform the click (or dashboard request) came from. */
export interface ModActor {
  platform: Platform;
  workspaceId: string;
  /** The capabilities the platform confirmed for this actor (adapters check them their own way). */
  capabilities: ReadonlySet<ModCapability>;
}

export type ModActionRefusal = 'unknown_flag' | 'other_workspace' | 'unsupported_action' | 'not_permitted';

export type ModActionVerdict =
  | { ok: true; status: FlagStatus }
  | { ok: false; refusal: ModActionRefusal; message: string };

/**
 * May this actor take this action on this flag? The flag must exist and belong to the actor's platform and
 * workspace — a button id or a dashboard URL names a flag, and nothing else stops it naming another
 * community's — the platform must offer the action, and the actor must hold the capability it needs.
 */
export function authoriseModAction(
  flag: Pick<FlagRecord, 'platform' | 'workspaceId'> | null,
  action: ModAction,
  actor: ModActor,
): ModActionVerdict {
  // Another workspace's flag is answered exactly like a missing one: the id tells the clicker nothing.
  if (!flag || flag.platform !== actor.platform || flag.workspaceId !== actor.workspaceId)
    return {
      ok: false,
      refusal: flag ? 'other_workspace' : 'unknown_flag',
      message: 'This alert’s flag is not in this workspace’s flag log; nothing was changed.',
    };
  if (!PLATFORM_ACTIONS[actor.platform].includes(action))
    return { ok: false, refusal: 'unsupported_action', message: `“${action}” is not available here.` };
  if (!actor.capabilities.has(capabilityFor(action)))
    return { ok: false, refusal: 'not_permitted', message: 'You are not allowed to do that here.' };
  return { ok: true, status: statusAfter(action) };
}

/** What a moderator does with an appeal: keep the action (uphold) or undo it and count the flag as wrong. */
export type AppealDecision = 'uphold' | 'reverse';

/** The flag-history actions a member may appeal: what a moderator or Steward did to them or their message. */
const APPEALABLE = new Set(['delete', 'timeout', 'warn', 'auto-hide']);

/** The longest appeal note kept (Discord's modal text input allows 4,000; Slack's 3,000). */
export const APPEAL_NOTE_MAX = 1_000;

/** The appealable actions taken on a flag, in order (a failed auto-hide did nothing, so it is not one). */
export function appealableActions(flag: Pick<FlagRecord, 'history'>): string[] {
  const failed = flag.history.some((h) => h.action === 'auto-hide-failed');
  const done = flag.history
    .map((h) => h.action)
    .filter((a) => APPEALABLE.has(a) && !(failed && a === 'auto-hide'));
  return [...new Set(done)];
}

/** Who appeals: the member pressing Appeal, on the platform (and, where it says, the workspace) it came from. */
export interface Appellant {
  platform: Platform;
  userId: string;
  /** The workspace the press came from; a Discord DM has none, and the user id alone (global there) decides. */
  workspaceId?: string;
}

export type AppealRefusal = 'unknown_flag' | 'not_yours' | 'nothing_to_appeal' | 'already_appealed';

export type AppealVerdict = { ok: true } | { ok: false; refusal: AppealRefusal; message: string };

/**
 * May this member appeal this flag? Only the flagged member, from the flag's platform and workspace, only after
 * something was done (delete, timeout, warning, auto-hide), and only once. Someone else's flag is answered like
 * a missing one: the button's flag id tells a stranger nothing.
 */
export function authoriseAppeal(
  flag: Pick<FlagRecord, 'platform' | 'workspaceId' | 'authorId' | 'status' | 'history' | 'appeal'> | null,
  member: Appellant,
): AppealVerdict {
  const foreign =
    !flag ||
    flag.platform !== member.platform ||
    (member.workspaceId !== undefined && flag.workspaceId !== member.workspaceId) ||
    flag.authorId !== member.userId;
  if (foreign)
    return {
      ok: false,
      refusal: flag ? 'not_yours' : 'unknown_flag',
      message: 'There is no action on a message of yours to appeal here.',
    };
  if (flag.status === 'dismissed' || appealableActions(flag).length === 0)
    return {
      ok: false,
      refusal: 'nothing_to_appeal',
      message: 'Nothing was done about that message; there is nothing to appeal.',
    };
  if (flag.appeal)
    return {
      ok: false,
      refusal: 'already_appealed',
      message: 'You appealed this already; a moderator will look at it.',
    };
  return { ok: true };
}

/** A new, pending appeal (the note trimmed and clipped). */
export function newAppeal(memberId: string, note: string, at: number): Appeal {
  return { memberId, note: note.trim().slice(0, APPEAL_NOTE_MAX), at, status: 'pending' };
}

export type AppealDecisionVerdict =
  | { ok: true; status: 'upheld' | 'reversed' }
  | { ok: false; refusal: ModActionRefusal | 'no_pending_appeal'; message: string };

/**
 * May this moderator decide this appeal? The flag must be in their workspace (another workspace's answers like a
 * missing one), have a pending appeal, and they must be allowed to delete messages there (the capability behind
 * the action being appealed; reversing a timeout also needs Moderate Members, checked by the caller's platform).
 */
export function authoriseAppealDecision(
  flag: Pick<FlagRecord, 'platform' | 'workspaceId' | 'appeal'> | null,
  decision: AppealDecision,
  actor: ModActor,
): AppealDecisionVerdict {
  if (!flag || flag.platform !== actor.platform || flag.workspaceId !== actor.workspaceId)
    return {
      ok: false,
      refusal: flag ? 'other_workspace' : 'unknown_flag',
      message: 'This appeal’s flag is not in this workspace’s flag log; nothing was changed.',
    };
  if (!actor.capabilities.has('manage_messages'))
    return { ok: false, refusal: 'not_permitted', message: 'You are not allowed to decide appeals here.' };
  if (flag.appeal?.status !== 'pending')
    return {
      ok: false,
      refusal: 'no_pending_appeal',
      message: flag.appeal ? `This appeal was ${flag.appeal.status} already.` : 'This flag has no appeal.',
    };
  return { ok: true, status: decision === 'reverse' ? 'reversed' : 'upheld' };
}

/** The appeal once decided, with who and when. */
export function decidedAppeal(
  appeal: Appeal,
  decision: AppealDecision,
  by: { id: string; name?: string },
  at: number,
): Appeal {
  return {
    ...appeal,
    status: decision === 'reverse' ? 'reversed' : 'upheld',
    decidedAt: at,
    decidedById: by.id,
    ...(by.name !== undefined ? { decidedByName: by.name } : {}),
  };
}

/** The flag status after an appeal decision: reversed means the flag was wrong (dismissed), upheld that it was right. */
export function statusAfterAppeal(decision: AppealDecision): FlagStatus {
  return decision === 'reverse' ? 'dismissed' : 'actioned';
}

/**
 * The flag-log change that records a decision, with who and when; it applies only while the appeal is pending,
 * so of two moderators deciding at once the first wins (the store throws FlagConflictError for the second).
 */
export function appealDecisionChange(
  flag: Pick<FlagRecord, 'appeal'>,
  decision: AppealDecision,
  by: { id: string; name: string },
  at: number,
): FlagChange {
  if (!flag.appeal) throw new Error('appealDecisionChange: the flag has no appeal');
  return {
    status: statusAfterAppeal(decision),
    actorId: by.id,
    actorName: by.name,
    action: decision === 'reverse' ? 'appeal-reversed' : 'appeal-upheld',
    appeal: decidedAppeal(flag.appeal, decision, by, at),
    expectAppeal: 'pending',
  };
}
