/**
 * Work no member is waiting for (the author's interest profile, the daily counts, a reaction's profile update) yields to work someone is
 * waiting for (a message between its arrival and its outbound tags and alerts). On 2 cores the worker's main
 * thread is busy 60–90 % at half its capacity, and a profile update (read, fold, write: about 0.6 ms of main
 * thread) interleaved with a burst of messages delays their tags; here it waits until no message is on the way to
 * its actions, or `maxDeferMs` at most, so a worker that is never idle still does it. A deferred task is not
 * skipped: its job completes only when the task has run.
 */
export interface BackgroundLaneOptions {
  /** The longest a task waits for the critical path to clear before it runs anyway. */
  maxDeferMs: number;
  /** Tasks running at once (each is mostly Redis round trips). */
  concurrency: number;
}

/**
 * 10 ms, not longer: at half capacity a message is almost always on the critical path, so a task nearly always waits
 * its full deferral, and each job (its data, analysis and profile objects) lives that much longer: more of it
 * survives the young-generation GC, the old generation fills faster, and the longer in-flight set makes each stall
 * cost more. Interleaved runs on 2026-12-04 (`STEWARD_BACKGROUND_DEFER_MS=50` vs `=10`, inherited by the bench's worker
 * process): `npx tsx bench/queue-latency.ts --rate 350`, 8 pairs, p99 median 92 ms at 50 ms vs 72 ms at 10 ms (lower in
 * 7 of 8 pairs); at the bench's own rate (half the measured capacity), 3 pairs, 103 / 75 / 107 ms vs 97 / 75 / 69 ms.
 * 0 ms (no deferral) gave 320, 72 and 45 ms in 3 runs.
 */
export const DefaultBackgroundLane = Object.freeze({
  maxDeferMs: 10,
  concurrency: 8,
}) satisfies BackgroundLaneOptions;

interface Waiting {
  since: number;
  start: () => void;
}

export class BackgroundLane {
  readonly #o: BackgroundLaneOptions;
  #critical = 0;
  #running = 0;
  #waiting: Waiting[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: Partial<BackgroundLaneOptions> = {}) {
    this.#o = { ...DefaultBackgroundLane, ...options };
  }

  /** Tasks waiting and running (for tests and status). */
  get pending(): number {
    return this.#waiting.length - this.#head + this.#running;
  }

  /**
   * Marks one message as on the critical path; the returned function takes it off (calling it again does
   * nothing). Background tasks wait while any message is on it.
   */
  enter(): () => void {
    this.#critical += 1;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#critical -= 1;
      if (this.#critical === 0) this.#pump();
    };
  }

  /** Runs `task` when the critical path is clear (or after maxDeferMs); settles as the task does. */
  run<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#waiting.push({
        since: performance.now(),
        start: () => {
          this.#running += 1;
          void Promise.resolve()
            .then(task)
            .then(resolve, reject)
            .finally(() => {
              this.#running -= 1;
              this.#pump();
            });
        },
      });
      this.#pump();
    });
  }

  #pump(): void {
    const now = performance.now();
    while (this.#head < this.#waiting.length && this.#running < this.#o.concurrency) {
      const next = this.#waiting[this.#head]!;
      if (this.#critical > 0 && now - next.since < this.#o.maxDeferMs) break;
      this.#head += 1;
      next.start();
    }
    if (this.#head === this.#waiting.length) {
      this.#waiting = [];
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
    // The oldest waiting task's deadline: it runs then even if messages are still on the way.
    if (this.#timer === null && this.#head < this.#waiting.length && this.#running < this.#o.concurrency) {
      const wait = Math.max(0, this.#o.maxDeferMs - (now - this.#waiting[this.#head]!.since));
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#pump();
      }, wait);
      this.#timer.unref();
    }
  }
}
