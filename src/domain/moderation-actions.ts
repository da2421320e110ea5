import type { FlagRecord, FlagStatus } from './flag.ts';
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
