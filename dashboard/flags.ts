import type { QueueDriver } from '../queue/types.ts';
import type { Action, AlertUpdateAction } from '../src/domain/action.ts';
import type { AppealStatus } from '../src/domain/flag.ts';
import { PlatformSchema } from '../src/domain/message.ts';
import {
  authoriseModAction,
  type ModAction,
  type ModCapability,
  PLATFORM_ACTIONS,
  settles,
  statusAfter,
} from '../src/domain/moderation-actions.ts';
import { FlagConflictError } from '../src/errors.ts';
import type { Logger } from '../src/logger.ts';
import type { FlagRecord, FlagStatus, Store } from '../src/store/types.ts';
import { HttpError } from './http.ts';
import { type Grant, grantFor, type Session } from './sessions.ts';

/** What the flags page may filter on; every field optional. */
export interface FlagFilter {
  label?: string;
  status?: FlagStatus;
  channel?: string;
  member?: string;
  /** Flags with an appeal: any, or in one state (pending, upheld, reversed). */
  appeal?: 'any' | AppealStatus;
  /** Epoch ms, inclusive bounds on createdAt. */
  from?: number;
  to?: number;
}

/** How long a timeout from the dashboard lasts (the alert's Timeout button uses the same). */
const TIMEOUT_MS = 10 * 60_000;
/** Dashboard grants come from the commands' admin check, which covers both capabilities the actions need. */
export const ADMIN_CAPABILITIES: ReadonlySet<ModCapability> = new Set(['manage_messages', 'moderate_members']);

/** Flags read per workspace before the filters apply (the store lists by status only). */
const SCAN_LIMIT = 1_000;
const STATUSES: readonly FlagStatus[] = ['open', 'dismissed', 'actioned'];
const APPEAL_FILTERS = ['any', 'pending', 'upheld', 'reversed'] as const;

/** The workspace a request names, refused (403) unless the session was granted it. */
export function workspaceOf(session: Session, platform: unknown, workspaceId: unknown): Grant {
  const parsed = PlatformSchema.safeParse(platform);
  if (!parsed.success || typeof workspaceId !== 'string' || workspaceId === '') {
    throw new HttpError(400, 'name a workspace: platform and workspace');
  }
  const grant = grantFor(session, parsed.data, workspaceId);
  if (!grant) throw new HttpError(403, 'this session has no access to that workspace');
  return grant;
}

export function parseFilter(query: URLSearchParams): FlagFilter {
  const filter: FlagFilter = {};
  const text = (name: string) => {
    const value = query.get(name)?.trim();
    return value ? value.slice(0, 200) : undefined;
  };
  const date = (name: string, endOfDay: boolean) => {
    const value = text(name);
    if (value === undefined) return undefined;
    const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
    if (Number.isNaN(ms)) throw new HttpError(400, `${name} is not a date (YYYY-MM-DD)`);
    return endOfDay && /^\d{4}-\d{2}-\d{2}$/.test(value) ? ms + 86_399_999 : ms;
  };
  const status = text('status');
  if (status !== undefined && status !== 'all') {
    if (!STATUSES.includes(status as FlagStatus)) throw new HttpError(400, 'status is open, dismissed or actioned');
    filter.status = status as FlagStatus;
  }
  const appeal = text('appeal');
  if (appeal !== undefined && appeal !== 'all') {
    if (!APPEAL_FILTERS.includes(appeal as 'any')) throw new HttpError(400, 'appeal is any, pending, upheld or reversed');
    filter.appeal = appeal as FlagFilter['appeal'] & string;
  }
  const label = text('label');
  const channel = text('channel');
  const member = text('member');
  const from = date('from', false);
  const to = date('to', true);
  if (label !== undefined) filter.label = label;
  if (channel !== undefined) filter.channel = channel;
  if (member !== undefined) filter.member = member;
  if (from !== undefined) filter.from = from;
  if (to !== undefined) filter.to = to;
  return filter;
}

export function matches(flag: FlagRecord, filter: FlagFilter): boolean {
  if (filter.label !== undefined && !flag.flagged.includes(filter.label)) return false;
  if (filter.channel !== undefined && flag.channelId !== filter.channel) return false;
  if (filter.appeal !== undefined && (!flag.appeal || (filter.appeal !== 'any' && flag.appeal.status !== filter.appeal)))
    return false;
  if (
    filter.member !== undefined &&
    flag.authorId !== filter.member &&
    flag.authorName.toLowerCase() !== filter.member.toLowerCase()
  )
    return false;
  if (filter.from !== undefined && flag.createdAt < filter.from) return false;
  if (filter.to !== undefined && flag.createdAt > filter.to) return false;
  return true;
}

/**
 * The words that drove each label, with a weight for the heat-map. The flag log keeps the words strongest first and,
 * since weights are kept, the model's attribution of each relative to the label's strongest word: those are shown
 * as they are. Words without one (flags written before, rule reasons) get a weight that falls with the rank: 1 for
 * the strongest, down to 0.35. The reasons stay the list of words, so blanked reasons blank the heat-map too.
 */
export function highlights(flag: FlagRecord): Record<string, Array<{ word: string; weight: number }>> {
  const out: Record<string, Array<{ word: string; weight: number }>> = {};
  for (const [label, words] of Object.entries(flag.reasons)) {
    const stored = new Map((flag.attributionWeights?.[label] ?? []).map((w) => [w.word, w.weight]));
    out[label] = words.map((word, i) => ({
      word,
      weight:
        stored.get(word) ??
        (words.length <= 1 ? 1 : Math.round((1 - (0.65 * i) / (words.length - 1)) * 100) / 100),
    }));
  }
  return out;
}

/** A flag as the dashboard shows it. Text stays text: the client puts it in the page with textContent only. */
export function view(flag: FlagRecord) {
  return { ...flag, highlights: highlights(flag), actions: PLATFORM_ACTIONS[flag.platform] };
}

/** What the platform's adapter must do for an action; dismiss only changes the flag log. */
function outboundFor(flag: FlagRecord, action: ModAction, actorName: string): Action | null {
  const base = {
    key: `${flag.id}:dashboard-${action}`,
    target: {
      platform: flag.platform,
      workspaceId: flag.workspaceId,
      channelId: flag.channelId,
      messageId: flag.messageId,
    },
    flagId: flag.id,
  };
  switch (action) {
    case 'dismiss':
      return null;
    case 'delete':
      return { ...base, kind: 'hide' };
    case 'timeout':
      return { ...base, kind: 'timeout', userId: flag.authorId, durationMs: TIMEOUT_MS, actorName };
    case 'warn':
      return { ...base, kind: 'warn', userId: flag.authorId };
  }
}

export async function listFlags(store: Store, grant: Grant, filter: FlagFilter) {
  const options = filter.status ? { status: filter.status, limit: SCAN_LIMIT } : { limit: SCAN_LIMIT };
  const flags = await store.listFlags(grant.platform, grant.workspaceId, options);
  return flags.filter((f) => matches(f, filter)).map(view);
}

/** A flag the session may see; other workspaces' flags are 404, exactly like flags that do not exist. */
export async function visibleFlag(store: Store, session: Session, id: string): Promise<FlagRecord> {
  const flag = await store.getFlag(id);
  const grant = flag ? grantFor(session, flag.platform, flag.workspaceId) : undefined;
  if (!flag || !grant) throw new HttpError(404, 'no such flag');
  return flag;
}

export interface ActionDeps {
  store: Store;
  queue: QueueDriver;
  log: Logger;
}

/** Where the session's user acts on a flag and what they may do there, as the moderation-action rules take it. */
export function actorScope(session: Session, flag: FlagRecord) {
  const grant = grantFor(session, flag.platform, flag.workspaceId);
  return {
    platform: flag.platform,
    workspaceId: grant?.workspaceId ?? '',
    capabilities: grant?.isAdmin ? ADMIN_CAPABILITIES : new Set<never>(),
  };
}

/**
 * A moderator's action from the dashboard: recorded in the flag log (only while the flag is still open, so the
 * first of two concurrent actions wins) and, for delete, handed to the platform's outbound queue like auto-hide.
 */
export async function act(
  deps: ActionDeps,
  session: Session,
  id: string,
  action: ModAction,
): Promise<FlagRecord> {
  const flag = await visibleFlag(deps.store, session, id);
  const verdict = authoriseModAction(flag, action, actorScope(session, flag));
  if (!verdict.ok) {
    const status = { unknown_flag: 404, other_workspace: 404, unsupported_action: 400, not_permitted: 403 }[verdict.refusal];
    throw new HttpError(status, verdict.refusal === 'unsupported_action' ? `${action} is not available on ${flag.platform}` : verdict.message);
  }
  // Settling actions (dismiss, delete) need the flag still open, so of two at once the first wins; a timeout or
  // warning may follow a delete, like on the alert's buttons, but not a dismissal.
  if (!settles(action) && flag.status === 'dismissed') {
    throw new HttpError(409, 'This flag was dismissed already.', { flag: view(flag) });
  }
  let updated: FlagRecord | null;
  try {
    updated = await deps.store.updateFlag(flag.id, {
      status: statusAfter(action),
      actorId: session.actor.id,
      actorName: session.actor.name,
      action,
      note: 'from the dashboard',
      ...(settles(action) ? { expectStatus: 'open' as const } : {}),
    });
  } catch (error) {
    if (!(error instanceof FlagConflictError)) throw error;
    const last = error.current.history.at(-1);
    const who = last ? ` by ${last.actorName ?? last.actorId} (${last.action})` : '';
    throw new HttpError(409, `Someone was faster: this flag was ${error.current.status} already${who}.`, {
      flag: view(error.current as FlagRecord),
    });
  }
  if (!updated) throw new HttpError(404, 'no such flag');
  deps.log.info({ flagId: flag.id, action, actorId: session.actor.id }, 'dashboard moderator action');
  const outbound = outboundFor(flag, action, session.actor.name);
  if (outbound) {
    try {
      await deps.queue.enqueueOutbound(flag.platform, [outbound]);
    } catch (error) {
      deps.log.warn({ flagId: flag.id, action, err: (error as Error).message }, 'could not queue the action');
      await deps.store.updateFlag(flag.id, {
        status: 'open',
        actorId: session.actor.id,
        actorName: session.actor.name,
        action: `${action}-failed`,
        note: 'the action could not be queued',
      });
      throw new HttpError(503, `The ${action} could not be queued; the flag is open again.`);
    }
  }
  await updateAlert(deps, flag, action, session);
  return updated;
}

/**
 * The alert in the moderators' channel says what was done from the dashboard, as it does after a button press:
 * through the platform's outbound queue, like the action itself. The action stands if this cannot be queued.
 */
async function updateAlert(deps: ActionDeps, flag: FlagRecord, action: ModAction, session: Session): Promise<void> {
  if (flag.platform === 'local') return;
  const update: AlertUpdateAction = {
    kind: 'alert-update',
    key: `${flag.id}:dashboard-${action}:alert`,
    target: { platform: flag.platform, workspaceId: flag.workspaceId, channelId: flag.channelId, messageId: flag.messageId },
    flagId: flag.id,
    done: action,
    actorId: session.actor.id,
    actorName: session.actor.name,
    settled: settles(action),
  };
  try {
    await deps.queue.enqueueOutbound(flag.platform, [update]);
  } catch (error) {
    deps.log.warn({ flagId: flag.id, action, err: (error as Error).message }, 'could not queue the alert update');
  }
}
