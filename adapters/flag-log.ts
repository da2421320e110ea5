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
