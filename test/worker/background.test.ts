import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { BackgroundLane } from '../../worker/background.ts';

describe('BackgroundLane', () => {
  it('runs a task at once when no message is on the critical path', async () => {
    const lane = new BackgroundLane({ maxDeferMs: 10_000 });
    await expect(lane.run(async () => 7)).resolves.toBe(7);
    expect(lane.pending).toBe(0);
  });

  it('holds tasks while a message is on the way to its actions, and runs them when it leaves', async () => {
    const lane = new BackgroundLane({ maxDeferMs: 10_000 });
    const order: string[] = [];
    const leave = lane.enter();
    const done = lane.run(async () => {
      order.push('background');
    });
    await sleep(20);
    order.push('critical done');
    expect(lane.pending).toBe(1);
    leave();
    leave(); // a second call changes nothing
    await done;
    expect(order).toEqual(['critical done', 'background']);
    // The count did not go below zero: a new message holds tasks again.
    const again = lane.enter();
    let ran = false;
    const next = lane.run(async () => {
      ran = true;
    });
    await sleep(10);
    expect(ran).toBe(false);
    again();
    await next;
    expect(ran).toBe(true);
  });

  it('runs a task after maxDeferMs even if the critical path never clears', async () => {
    const lane = new BackgroundLane({ maxDeferMs: 30 });
    lane.enter(); // never left
    const started = performance.now();
    await lane.run(async () => {});
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('keeps at most `concurrency` tasks running and passes failures to the caller', async () => {
    const lane = new BackgroundLane({ maxDeferMs: 0, concurrency: 2 });
    let running = 0;
    let most = 0;
    const task = async () => {
      running += 1;
      most = Math.max(most, running);
      await sleep(5);
      running -= 1;
    };
    await Promise.all(Array.from({ length: 10 }, () => lane.run(task)));
    expect(most).toBe(2);
    await expect(
      lane.run(async () => {
        throw new Error('store away');
      }),
    ).rejects.toThrow('store away');
    await expect(
      lane.run(() => {
        throw new Error('thrown before any await');
      }),
    ).rejects.toThrow('thrown before any await');
    expect(lane.pending).toBe(0);
  });
});
