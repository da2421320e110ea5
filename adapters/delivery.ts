import { RetryLaterError } from '../src/errors.ts';
import type { Store } from '../src/store/types.ts';

export interface DeliverOnceOptions {
  /** How long a claim holds while the post is in flight (a crashed poster's claim lapses after this). */
  leaseMs: number;
  /** How long a confirmed delivery is remembered, so late retries see it. */
  retainMs: number;
  /** When another consumer holds the claim: try again after this long. */
  inProgressRetryMs: number;
  /** Turns a platform error into the error the queue acts on (retry, delay, or fail for good). */
  toError: (error: unknown) => Error;
  onReleaseError: (error: unknown) => void;
  /**
   * For platforms without a server-side idempotency key (Slack): finds what an earlier attempt of this key already
   * posted (by a marker the post carries), or null. Asked only when an earlier attempt began and never confirmed
   * — its confirm failed (Redis away for a moment) or it crashed mid-post — so the common path costs no lookup.
   */
  findEarlier?: () => Promise<string | null>;
}

/** Marks that an attempt of a key began; kept only while unconfirmed (deleted once the confirm succeeds). */
const attemptKey = (key: string) => `${key}~attempt`;

/**
 * Runs `post` once per idempotency key across retries and processes: claim → post → confirm, releasing the
 * claim when the post fails so a retry can claim it again. Returns the post's result, or the earlier one.
 */
export async function deliverOnce(
  store: Store,
  key: string,
  what: string,
  post: () => Promise<string>,
  options: DeliverOnceOptions,
): Promise<string> {
  if (!(await store.claimDelivery(key, options.leaseMs))) {
    const done = await store.deliveryResult(key);
    if (done !== null) return done;
    throw new RetryLaterError(`${what}: delivery ${key} is in progress elsewhere`, options.inProgressRetryMs);
  }
  let result: string;
  try {
    const earlier = options.findEarlier ? await earlierAttempt(store, key, options) : null;
    result = earlier ?? (await post());
  } catch (error) {
    await store.releaseDelivery(key).catch(options.onReleaseError);
    throw options.toError(error);
  }
  await store.confirmDelivery(key, options.retainMs, result);
  if (options.findEarlier) await store.releaseDelivery(attemptKey(key)).catch(options.onReleaseError);
  return result;
}

/** What an unconfirmed earlier attempt posted, or null when this is the first attempt (or it posted nothing). */
async function earlierAttempt(
  store: Store,
  key: string,
  options: DeliverOnceOptions,
): Promise<string | null> {
  // The marker outlives the claim's lease: a lapsed claim must not look like a first attempt.
  if (await store.claimDelivery(attemptKey(key), options.retainMs)) return null;
  // A failed lookup throws: retrying later is better than posting what may already be there.
  return options.findEarlier!();
}
