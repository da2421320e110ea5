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
}

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
    result = await post();
  } catch (error) {
    await store.releaseDelivery(key).catch(options.onReleaseError);
    throw options.toError(error);
  }
  await store.confirmDelivery(key, options.retainMs, result);
  return result;
}
