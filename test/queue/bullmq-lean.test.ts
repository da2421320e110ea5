import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { BullMQDriver } from '../../queue/bullmq.ts';
import { redisOptionsFromUrl } from '../../queue/bullmq-ids.ts';
import { LAST_WAITING_FIELD, LeanWorker, leanScripts, useLeanScripts } from '../../queue/bullmq-lean.ts';
import { deletePrefix, randomPrefix, REDIS_URL, testLogger, waitFor } from './fixtures.ts';

describe('lean fetching (BullMQ fetches that wake workers only while jobs wait)', () => {
  it('GIVEN the pinned BullMQ THEN each fetching script takes both edits', () => {
    const scripts = leanScripts(); // throws when a statement to edit is not there exactly once
    expect(scripts.map((s) => s.name).sort()).toEqual(['moveToActive', 'moveToDelayed', 'moveToFinished']);
    for (const script of scripts) {
      expect(script.content).toContain('if stillWaiting then addBaseMarkerIfNeeded(markerKey, false) end');
      expect(script.content).toContain(LAST_WAITING_FIELD);
    }
  });

  describe('against Redis', () => {
    const prefixes: string[] = [];
    const closing: Array<() => Promise<unknown>> = [];
    afterEach(async () => {
      for (const close of closing.splice(0)) await close();
      for (const prefix of prefixes.splice(0)) await deletePrefix(REDIS_URL, prefix);
    });

    /**
     * Queue "q" under a fresh prefix and a worker on it (LeanWorker with the lean scripts, or BullMQ's as shipped),
     * not running yet; both closed and the keys deleted after the test.
     */
    async function queueAndWorker(lean: boolean, processor: ((job: Job) => Promise<unknown>) | null = null) {
      const prefix = randomPrefix('lean');
      prefixes.push(prefix);
      const connection = redisOptionsFromUrl(REDIS_URL);
      const queue = new Queue('q', { connection, prefix });
      const options = { connection, prefix, autorun: false, concurrency: 8 };
      const worker = lean ? new LeanWorker('q', processor, options) : new Worker('q', processor, options);
      closing.push(
        () => worker.close(),
        () => queue.close(),
      );
      await worker.waitUntilReady();
      if (lean) useLeanScripts(await worker.client);
      return { prefix, queue, worker };
    }

    /** A queue and a worker that fetches by hand (no run loop), with or without the lean scripts. */
    async function fetcher(lean: boolean) {
      const { prefix, queue, worker } = await queueAndWorker(lean);
      const redis = new Redis(REDIS_URL);
      closing.push(async () => redis.disconnect());
      const markers = () => redis.zcard(`${prefix}:q:marker`);
      /** What a blocked worker does when a marker wakes it: pop the marker (BZPOPMIN), then fetch. */
      const popMarker = () => redis.zpopmin(`${prefix}:q:marker`);
      const wakeAndFetch = async (token: string) => {
        await popMarker();
        return worker.getNextJob(token, { block: false });
      };
      return { queue, markers, popMarker, wakeAndFetch };
    }

    it('GIVEN two jobs THEN the marker stays while one waits and is gone once the last is taken', async () => {
      const { queue, markers, wakeAndFetch } = await fetcher(true);
      await queue.add('a', {});
      await queue.add('b', {});
      expect(await markers()).toBe(1); // what add() puts there
      await expect(wakeAndFetch('t1')).resolves.toBeDefined();
      expect(await markers()).toBe(1); // b waits: another blocked worker must wake up
      await expect(wakeAndFetch('t2')).resolves.toBeDefined();
      expect(await markers()).toBe(0); // nothing waits: no worker is woken for nothing
      await expect(wakeAndFetch('t3')).resolves.toBeUndefined();
    });

    it("GIVEN BullMQ's own scripts THEN the last job taken leaves a marker behind (the wake-up this saves)", async () => {
      const { queue, markers, wakeAndFetch } = await fetcher(false);
      await queue.add('a', {});
      await expect(wakeAndFetch('t1')).resolves.toBeDefined();
      expect(await markers()).toBe(1); // a blocked worker wakes up and finds nothing
    });

    it('GIVEN a finish that takes the next job THEN the marker follows what still waits', async () => {
      const { queue, markers, popMarker, wakeAndFetch } = await fetcher(true);
      await queue.add('a', {});
      await queue.add('b', {});
      await queue.add('c', {});
      const first = await wakeAndFetch('t1');
      await popMarker(); // the one the fetch put back (b and c wait)
      // moveToCompleted with fetchNext runs the finish script, which takes b; c still waits.
      const next = (await first!.moveToCompleted('ok', 't1', true)) as unknown[];
      expect(Array.isArray(next) && next[1]).toBeTruthy();
      expect(await markers()).toBe(1);
      await expect(wakeAndFetch('t2')).resolves.toBeDefined(); // c, the last
      expect(await markers()).toBe(0);
    });

    /** moveToActive calls per job when each job arrives at an idle worker (its loop blocked on the marker). */
    async function fetchesPerLoneJob(lean: boolean): Promise<number> {
      let done = 0;
      const { queue, worker } = await queueAndWorker(lean, async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        done += 1;
      });
      const client = await worker.client;
      let fetches = 0;
      const run = client.runCommand.bind(client);
      client.runCommand = (name: string, args: unknown[]) => {
        if (name.startsWith('moveToActive:')) fetches += 1;
        return run(name, args);
      };
      void worker.run();
      await new Promise((resolve) => setTimeout(resolve, 200)); // its first fetch finds nothing; it blocks
      const before = fetches;
      const jobs = 8;
      for (let i = 0; i < jobs; i++) {
        await queue.add('a', {});
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
      await waitFor(() => done === jobs, 10_000);
      return (fetches - before) / jobs;
    }

    it('GIVEN a delayed job and a lone job taken while the worker waits for it THEN the delayed one still runs on time', async () => {
      // The fetch that takes the last waiting job must tell LeanWorker when the next delayed job is due, as the empty
      // fetch it saves would have: the delayed job's marker was popped already, and without it the worker would block
      // for its whole drain delay (5 s) past the due time.
      const ranAt = new Map<string, number>();
      const { queue, worker } = await queueAndWorker(true, async (job) => ranAt.set(job.name, Date.now()));
      void worker.run();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const addedAt = Date.now();
      await queue.add('delayed', {}, { delay: 800 });
      await new Promise((resolve) => setTimeout(resolve, 150)); // the worker now waits for the delayed job's time
      await queue.add('lone', {});
      await waitFor(() => ranAt.has('delayed'), 10_000, 'the delayed job');
      expect(ranAt.get('lone')! - addedAt).toBeLessThan(800);
      expect(ranAt.get('delayed')! - addedAt).toBeLessThan(800 + 1_500);
    });

    it('GIVEN jobs that arrive one at a time THEN each costs one fetch, where BullMQ as shipped spends three', async () => {
      // Three each when every job finds the worker idle; a slow machine that overlaps two jobs saves one or two.
      expect(await fetchesPerLoneJob(false)).toBeGreaterThan(2);
      expect(await fetchesPerLoneJob(true)).toBe(1);
    });
  });

  it('GIVEN two consumers blocked on one queue and a burst of jobs THEN both take part and every job runs', async () => {
    const prefix = randomPrefix('marker2');
    const drivers = [0, 1].map(() => new BullMQDriver({ url: REDIS_URL, prefix, logger: testLogger() }));
    try {
      const seen = [new Set<string>(), new Set<string>()];
      for (const [i, driver] of drivers.entries()) {
        await driver.start();
        await driver.consumeOutbound(
          'slack',
          async (action) => {
            seen[i]!.add(action.key);
            await new Promise((resolve) => setTimeout(resolve, 5));
          },
          { concurrency: 2 },
        );
      }
      // Both consumers are idle, blocked on the marker; one bulk add leaves one marker for the two of them.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const actions = Array.from({ length: 60 }, (_, i) => ({ kind: 'tag', key: `k${i}` }));
      await drivers[0]!.enqueueOutbound('slack', actions as never);
      await waitFor(() => seen[0]!.size + seen[1]!.size >= actions.length, 10_000, 'every job');
      expect(seen[0]!.size + seen[1]!.size).toBe(actions.length);
      expect(seen[0]!.size).toBeGreaterThan(0);
      expect(seen[1]!.size).toBeGreaterThan(0);
    } finally {
      for (const driver of drivers) await driver.stop();
      await deletePrefix(REDIS_URL, prefix);
    }
  });
});
