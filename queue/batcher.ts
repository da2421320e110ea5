/** Runs one batch; returns one result per item, in input order. */
export type BatchRunner<I, O> = (items: I[]) => Promise<O[]>;

export interface BatcherOptions {
  /** Most items handed to one run. */
  maxSize: number;
}

export interface BatcherStats {
  batches: number;
  items: number;
  largest: number;
}

/**
 * Continuous batching: no fixed wait. When the runner is idle, everything pending (up to maxSize) runs at
 * once; items submitted during a run wait for the next one. Under load batches grow by themselves, and a lone
 * item is not held back. Any number of concurrent callers (a queue consumer's concurrency) can feed it.
 */
export interface Batcher<I, O> {
  submit(item: I): Promise<O>;
  /** Items waiting plus items in the current run. */
  readonly pending: number;
  readonly stats: BatcherStats;
  /** Resolves when nothing is pending or running. */
  idle(): Promise<void>;
}

interface Entry<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (reason: unknown) => void;
}

export function createBatcher<I, O>(run: BatchRunner<I, O>, options: BatcherOptions): Batcher<I, O> {
  const maxSize = Math.max(1, Math.floor(options.maxSize));
  const queue: Array<Entry<I, O>> = [];
  const stats: BatcherStats = { batches: 0, items: 0, largest: 0 };
  let running = 0;
  let scheduled = false;
  let idleWaiters: Array<() => void> = [];

  const schedule = () => {
    if (scheduled || running > 0 || queue.length === 0) {
      if (running === 0 && queue.length === 0 && !scheduled) notifyIdle();
      return;
    }
    scheduled = true;
    // One macrotask of grace so callers resolved in the same turn (a fetch loop handing out many jobs) share a
    // batch; this is not a timer wait.
    setImmediate(() => {
      scheduled = false;
      void runNext();
    });
  };

  const notifyIdle = () => {
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const wake of waiters) wake();
  };

  const runNext = async () => {
    if (running > 0 || queue.length === 0) return schedule();
    const batch = queue.splice(0, maxSize);
    running = batch.length;
    stats.batches += 1;
    stats.items += batch.length;
    stats.largest = Math.max(stats.largest, batch.length);
    try {
      const results = await run(batch.map((entry) => entry.item));
      if (results.length !== batch.length) {
        throw new Error(`batch runner returned ${results.length} results for ${batch.length} items`);
      }
      for (const [i, entry] of batch.entries()) entry.resolve(results[i] as O);
    } catch (error) {
      // Only this batch's callers see the error; the next batch runs as usual.
      for (const entry of batch) entry.reject(error);
    } finally {
      running = 0;
      schedule();
    }
  };

  return {
    submit(item: I): Promise<O> {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        schedule();
      });
    },
    get pending() {
      return queue.length + running;
    },
    stats,
    idle(): Promise<void> {
      if (queue.length === 0 && running === 0 && !scheduled) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}
