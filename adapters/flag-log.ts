import { FlagConflictError } from '../src/errors.ts';
import { type FlagStatus, STEWARD_ACTOR, type Store } from '../src/store/types.ts';

/**
 * What an adapter's outbound side writes into the flag log: where the alert was posted (so buttons and the
 * dashboard can update it) and a failed auto-hide. One place for both platforms; each write is skipped when the
 * log already says it, so a retried job adds no second entry.
 */
export async function recordAlertPosted(
  store: Pick<Store, 'getFlag' | 'updateFlag'>,
  flagId: string,
  alertMessageId: string,
): Promise<void> {
  const flag = await store.getFlag(flagId);
  if (!flag || flag.alertMessageId === alertMessageId) return;
  await store.updateFlag(flagId, {
    status: flag.status,
    actorId: STEWARD_ACTOR,
    action: 'alert-posted',
    alertMessageId,
  });
}

/** Auto-hide did not happen: the flag goes back to open, with the platform's refusal as the note. */
export async function recordHideFailure(
  store: Pick<Store, 'getFlag' | 'updateFlag'>,
  flagId: string,
  refusal: string,
): Promise<void> {
  const flag = await store.getFlag(flagId);
  if (!flag || flag.history.some((h) => h.action === 'auto-hide-failed')) return;
  const status: FlagStatus = 'open';
  await store.updateFlag(flagId, {
    status,
    actorId: STEWARD_ACTOR,
    action: 'auto-hide-failed',
    note: refusal,
  });
}

/**
 * Where a member's appeal was posted in the moderators' channel. Read fresh and written only while the appeal is
 * still pending: a moderator may decide it the moment the post appears, and a write from an older read would put
 * the appeal back to pending and erase who decided it. When the decision came first, the post id is not needed.
 */
export async function recordAppealPosted(
  store: Pick<Store, 'getFlag' | 'updateFlag'>,
  flagId: string,
  postId: string,
): Promise<void> {
  const flag = await store.getFlag(flagId);
  const appeal = flag?.appeal;
  if (!flag || appeal?.status !== 'pending' || appeal.postId === postId) return;
  try {
    await store.updateFlag(flagId, {
      status: flag.status,
      actorId: STEWARD_ACTOR,
      action: 'appeal-posted',
      appeal: { ...appeal, postId },
      expectAppeal: 'pending',
    });
  } catch (error) {
    if (!(error instanceof FlagConflictError)) throw error;
  }
}
