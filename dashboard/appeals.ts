import type { AppealDecisionAction } from '../src/domain/action.ts';
import {
  type AppealDecision,
  appealDecisionChange,
  authoriseAppealDecision,
} from '../src/domain/moderation-actions.ts';
import { FlagConflictError } from '../src/errors.ts';
import type { FlagRecord } from '../src/store/types.ts';
import { type ActionDeps, actorScope, view, visibleFlag } from './flags.ts';
import { HttpError } from './http.ts';
import type { Session } from './sessions.ts';

export function isAppealDecision(value: unknown): value is AppealDecision {
  return value === 'uphold' || value === 'reverse';
}

/**
 * A moderator upholds or reverses a member's appeal from the dashboard: recorded with who and when (first decision
 * wins), then handed to the platform's adapter through the outbound queue, which tells the member and, for a
 * reversed Discord timeout, lifts it. The rules are the chat buttons' (src/domain/moderation-actions.ts).
 */
export async function decideAppeal(
  deps: ActionDeps,
  session: Session,
  id: string,
  decision: AppealDecision,
): Promise<FlagRecord> {
  const flag = await visibleFlag(deps.store, session, id);
  const verdict = authoriseAppealDecision(flag, decision, actorScope(session, flag));
  if (!verdict.ok) {
    const status = { unknown_flag: 404, other_workspace: 404, unsupported_action: 400, not_permitted: 403, no_pending_appeal: 409 }[
      verdict.refusal
    ];
    throw new HttpError(status, verdict.message, status === 409 ? { flag: view(flag) } : {});
  }
  let updated: FlagRecord | null;
  try {
    updated = await deps.store.updateFlag(
      flag.id,
      appealDecisionChange(flag, decision, { id: session.actor.id, name: session.actor.name }, Date.now()),
    );
  } catch (error) {
    if (!(error instanceof FlagConflictError)) throw error;
    const current = error.current as FlagRecord;
    const who = current.appeal?.decidedByName ?? current.appeal?.decidedById;
    throw new HttpError(409, `Someone was faster: this appeal was ${current.appeal?.status ?? 'decided'} already${who ? ` by ${who}` : ''}.`, {
      flag: view(current),
    });
  }
  if (!updated) throw new HttpError(404, 'no such flag');
  deps.log.info({ flagId: flag.id, decision, actorId: session.actor.id }, 'appeal decided from the dashboard');
  if (flag.platform === 'local') return updated;
  const action: AppealDecisionAction = {
    kind: 'appeal-decision',
    key: `${flag.id}:dashboard-appeal-${decision}`,
    target: { platform: flag.platform, workspaceId: flag.workspaceId, channelId: flag.channelId, messageId: flag.messageId },
    flagId: flag.id,
    decision,
    userId: flag.authorId,
    liftTimeout: decision === 'reverse' && flag.platform === 'discord' && flag.history.some((h) => h.action === 'timeout'),
    actorName: session.actor.name,
  };
  try {
    await deps.queue.enqueueOutbound(flag.platform, [action]);
  } catch (error) {
    deps.log.warn({ flagId: flag.id, err: (error as Error).message }, 'could not queue the appeal decision');
    throw new HttpError(503, 'The decision is recorded, but the member could not be told yet (the queue is down).', {
      flag: view(updated),
    });
  }
  return updated;
}
