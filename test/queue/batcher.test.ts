import { describe, expect, it, vi } from 'vitest';
import { createBatcher } from '../../queue/batcher.ts';
import { sleep } from './fixtures.ts';

/** A runner that records its batches and takes `ms` per run. */
function recorder(ms = 20, fail?: (items: number[]) => boolean) {
  const batches: number[][] = [];
  let concurrent = 0;
  let maxConcurrent = 0;
  const run = async (items: number[]) => {
    batches.push(items);
    concurrent += 1;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    await sleep(ms);
    concurrent -= 1;
    if (fail?.(items)) throw new Error(`batch ${items.join(',')} failed`);
    return items.map((i) => i * 10);
  };
  return { run, batches, maxConcurrent: () => maxConcurrent };
}

describe('createBatcher (continuous batching)', () => {
  it('GIVEN an idle runner WHEN one item arrives THEN it runs right away, alone', async () => {
    const r = recorder(5);
    const batcher = createBatcher(r.run, { maxSize: 8 });
    const started = performance.now();
    expect(await batcher.submit(1)).toBe(10);
    expect(performance.now() - started).toBeLessThan(500); // no timer wait (loose: shared CI machines)
    expect(r.batches).toEqual([[1]]);
  });

  it('GIVEN items arriving in one turn WHEN the runner is idle THEN they share one batch, in order', async () => {
    const r = recorder(5);
    const batcher = createBatcher(r.run, { maxSize: 8 });
    const results = await Promise.all([1, 2, 3, 4].map((i) => batcher.submit(i)));
    expect(results).toEqual([10, 20, 30, 40]);
    expect(r.batches).toEqual([[1, 2, 3, 4]]);
  });

  it('GIVEN items arriving during a run WHEN it ends THEN they run together next, one run at a time', async () => {
    // The runner waits for the test to release it, so "during a run" does not depend on timing.
    const batches: number[][] = [];
    const gates: Array<() => void> = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    const batcher = createBatcher(
      async (items: number[]) => {
        batches.push(items);
        maxConcurrent = Math.max(maxConcurrent, ++concurrent);
        await new Promise<void>((release) => gates.push(release));
        concurrent -= 1;
        return items.map((i) => i * 10);
      },
      { maxSize: 100 },
    );
    const first = batcher.submit(0);
    await vi.waitFor(() => expect(batches).toHaveLength(1));
    const later = [1, 2, 3].map((i) => batcher.submit(i));
    await sleep(5);
    const evenLater = [4, 5].map((i) => batcher.submit(i));
    expect(batcher.pending).toBe(6);
    gates.shift()!();
    await vi.waitFor(() => expect(batches).toHaveLength(2));
    gates.shift()!();
    expect(await Promise.all([first, ...later, ...evenLater])).toEqual([0, 10, 20, 30, 40, 50]);
    expect(batches).toEqual([[0], [1, 2, 3, 4, 5]]);
    expect(maxConcurrent).toBe(1);
  });

  it('GIVEN more pending items than maxSize THEN batches are capped and keep arrival order', async () => {
    const r = recorder(5);
    const batcher = createBatcher(r.run, { maxSize: 3 });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => batcher.submit(i)));
    expect(results).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
    expect(r.batches).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7],
    ]);
    expect(batcher.stats).toEqual({ batches: 3, items: 8, largest: 3 });
  });

  it('GIVEN a batch that throws THEN only its items reject, and the next batch still runs', async () => {
    const r = recorder(5, (items) => items.includes(1));
    const batcher = createBatcher(r.run, { maxSize: 2 });
    const settled = await Promise.allSettled([0, 1, 2, 3].map((i) => batcher.submit(i)));
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'fulfilled', 'fulfilled']);
    expect((settled[0] as PromiseRejectedResult).reason.message).toBe('batch 0,1 failed');
    expect(await batcher.submit(9)).toBe(90);
  });

  it('GIVEN a runner that returns the wrong number of results THEN the batch rejects instead of misassigning', async () => {
    const batcher = createBatcher(async (items: number[]) => items.slice(1), { maxSize: 4 });
    await expect(Promise.all([batcher.submit(1), batcher.submit(2)])).rejects.toThrow(
      /1 results for 2 items/,
    );
  });

  it('GIVEN 128 concurrent callers trickling in THEN no item is lost or answered twice', async () => {
    const r = recorder(3);
    const batcher = createBatcher(r.run, { maxSize: 16 });
    const submissions = Array.from({ length: 500 }, async (_, i) => {
      await sleep((i % 128) / 4);
      return batcher.submit(i);
    });
    const results = await Promise.all(submissions);
    expect(results).toEqual(Array.from({ length: 500 }, (_, i) => i * 10));
    const seen = r.batches.flat().sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(Math.max(...r.batches.map((b) => b.length))).toBeLessThanOrEqual(16);
    expect(r.batches.length).toBeLessThan(500);
    await batcher.idle();
    expect(batcher.pending).toBe(0);
  });
});
