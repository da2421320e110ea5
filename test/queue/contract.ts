import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INBOUND_QUEUE, outboundQueueName, type QueueDriver } from '../../queue/types.ts';
import type { JobPolicy } from '../../queue/jobs.ts';
import type { ReactAction } from '../../src/domain/action.ts';
import { type InboundMessage, inboundJobId, MAX_TEXT_LENGTH } from '../../src/domain/message.ts';
import { MalformedInputError, PlatformRejectedError, RetryLaterError } from '../../src/errors.ts';
import { inbound, sleep, waitFor } from './fixtures.ts';

/** Short delays so retries happen within a test; the semantics are the production ones. */
export const TEST_POLICY: Partial<JobPolicy> = { attempts: 3, backoffMs: 40 };

export interface DriverFactory {
  create(): Promise<QueueDriver>;
  cleanup(): Promise<void>;
}

function react(key: string): ReactAction {
  return {
    kind: 'react',
    key,
    target: { platform: 'slack', workspaceId: 'T1', channelId: 'C1', messageId: '1.2' },
    sentiment: 'positive',
    emoji: '😊',
  };
}

/** The behaviour every QueueDriver promises; run once per driver. */
export function queueContract(name: string, factory: () => DriverFactory): void {
  describe(`QueueDriver contract: ${name}`, () => {
    let f: DriverFactory;
    let driver: QueueDriver;

    beforeEach(async () => {
      f = factory();
      driver = await f.create();
    });
    afterEach(async () => {
      await driver.stop();
      await f.cleanup();
    });

    it('GIVEN a valid message WHEN enqueued THEN a consumer gets it parsed, under its inbound job id', async () => {
      const input = inbound({ threadId: 't-1' });
      const result = await driver.enqueueInbound(input);
      expect(result).toEqual({ jobId: inboundJobId(input), duplicate: false });
      const seen: Array<{ message: InboundMessage; id: string }> = [];
      await driver.consumeInbound(async (message, job) => void seen.push({ message, id: job.id }), {
        concurrency: 2,
      });
      await waitFor(() => seen.length === 1, 10_000, 'the message');
      expect(await driver.workersAlive()).toBe(1);
      expect(seen[0]!.id).toBe(result.jobId);
      expect(seen[0]!.message).toMatchObject({ ...input, context: [], direct: false });
      await waitFor(async () => (await driver.counts(INBOUND_QUEUE)).completed === 1);
    });

    it('GIVEN the same platform event twice WHEN enqueued THEN it is one job, processed once', async () => {
      const input = inbound();
      expect((await driver.enqueueInbound(input)).duplicate).toBe(false);
      expect((await driver.enqueueInbound({ ...input })).duplicate).toBe(true);
      let calls = 0;
      await driver.consumeInbound(
        async () => {
          calls += 1;
        },
        { concurrency: 4 },
      );
      await waitFor(async () => (await driver.counts(INBOUND_QUEUE)).completed === 1);
      // A late redelivery, after the job completed, is still recognised while the job is retained.
      expect((await driver.enqueueInbound(input)).duplicate).toBe(true);
      await sleep(150);
      expect(calls).toBe(1);
    });

    it('GIVEN malformed payloads WHEN enqueued THEN they land in the failed set with the reason, unprocessed', async () => {
      const garbage = await driver.enqueueInbound({ hello: 'world' });
      const tooLong = inbound({ text: 'x'.repeat(MAX_TEXT_LENGTH + 1) });
      const long = await driver.enqueueInbound(tooLong);
      expect(garbage.jobId).toMatch(/^malformed:/);
      expect(long.jobId).toBe(inboundJobId(tooLong));
      let calls = 0;
      await driver.consumeInbound(
        async () => {
          calls += 1;
        },
        { concurrency: 2 },
      );
      await waitFor(async () => (await driver.counts(INBOUND_QUEUE)).failed === 2, 10_000, 'two failures');
      const failed = await driver.failedJobs(INBOUND_QUEUE, 10);
      const byId = new Map(failed.map((j) => [j.id, j]));
      expect(byId.get(garbage.jobId)!.reason).toMatch(/malformed_job.*platform/);
      expect(byId.get(garbage.jobId)!.data).toEqual({ hello: 'world' });
      expect(byId.get(long.jobId)!.reason).toMatch(/message_too_large/);
      expect(byId.get(long.jobId)!.attemptsMade).toBe(1);
      expect(calls).toBe(0);
    });

    it('GIVEN a transient error WHEN the handler throws THEN the job is retried with backoff and succeeds', async () => {
      const calls: Array<{ at: number; attemptsMade: number }> = [];
      await driver.consumeInbound(
        async (_message, job) => {
          calls.push({ at: Date.now(), attemptsMade: job.attemptsMade });
          if (calls.length < 3) throw new Error('connection reset');
        },
        { concurrency: 1 },
      );
      await driver.enqueueInbound(inbound());
      await waitFor(async () => (await driver.counts(INBOUND_QUEUE)).completed === 1, 10_000, 'completion');
      expect(calls.map((c) => c.attemptsMade)).toEqual([0, 1, 2]);
      // Exponential: the second wait is about twice the first (40 ms, 80 ms).
      expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(35);
      expect(calls[2]!.at - calls[1]!.at).toBeGreaterThanOrEqual(75);
      expect((await driver.counts(INBOUND_QUEUE)).failed).toBe(0);
    });

    it('GIVEN an error that keeps happening WHEN attempts run out THEN the job fails with the last reason', async () => {
      let calls = 0;
      await driver.consumeInbound(
        async () => {
          calls += 1;
          throw new Error(`still down ${calls}`);
        },
        { concurrency: 1 },
      );
      const { jobId } = await driver.enqueueInbound(inbound());
      await waitFor(async () => (await driver.counts(INBOUND_QUEUE)).failed === 1, 10_000, 'the failure');
      expect(calls).toBe(3);
      const [failed] = await driver.failedJobs(INBOUND_QUEUE, 5);
      expect(failed).toMatchObject({
        id: jobId,
        queue: INBOUND_QUEUE,
        reason: 'still down 3',
        attemptsMade: 3,
      });
      expect(failed!.failedAt).toBeGreaterThan(0);
    });

    it('GIVEN an unrecoverable error WHEN the handler throws THEN the job fails at once, not retried', async () => {
      let calls = 0;
      await driver.consumeInbound(
        async () => {
          calls += 1;
          throw new MalformedInputError('no such channel');
        },
        { concurrency: 1 },
      );
      await driver.enqueueInbound(inbound());
      await waitFor(async () => (await driver.counts(INBOUND_QUEUE)).failed === 1);
      await sleep(150);
      expect(calls).toBe(1);
      const [failed] = await driver.failedJobs(INBOUND_QUEUE, 1);
      expect(failed!.reason).toContain('no such channel');
      expect(failed!.reason).toContain('steward.queue.malformed_job');
    });

    it('GIVEN a platform 429 WHEN the handler throws RetryLaterError THEN the job waits that long without using an attempt', async () => {
      const calls: Array<{ at: number; attemptsMade: number }> = [];
      await driver.consumeOutbound(
        'slack',
        async (_action, job) => {
          calls.push({ at: Date.now(), attemptsMade: job.attemptsMade });
          if (calls.length <= 3) throw new RetryLaterError('rate limited', 250);
        },
        { concurrency: 1 },
      );
      await driver.enqueueOutbound('slack', [react('k-429')]);
      await waitFor(() => calls.length === 4, 10_000, 'four calls');
      // Three delays did not use up the three attempts, and each honoured retry-after.
      expect(calls.map((c) => c.attemptsMade)).toEqual([0, 0, 0, 0]);
      for (let i = 1; i < 4; i++) expect(calls[i]!.at - calls[i - 1]!.at).toBeGreaterThanOrEqual(240);
      await waitFor(async () => (await driver.counts(outboundQueueName('slack'))).completed === 1);
    });

    it('GIVEN a platform rejection WHEN delivering THEN the action fails once with the reason', async () => {
      let calls = 0;
      await driver.consumeOutbound(
        'slack',
        async () => {
          calls += 1;
          throw new PlatformRejectedError('missing_scope');
        },
        { concurrency: 1 },
      );
      await driver.enqueueOutbound('slack', [react('k-rejected')]);
      const queue = outboundQueueName('slack');
      await waitFor(async () => (await driver.counts(queue)).failed === 1);
      const [failed] = await driver.failedJobs(queue, 1);
      expect(failed).toMatchObject({ id: 'k-rejected', attemptsMade: 1 });
      expect(failed!.reason).toContain('missing_scope');
      expect((failed!.data as ReactAction).key).toBe('k-rejected');
      expect(calls).toBe(1);
    });

    it('GIVEN the same action key twice WHEN enqueued THEN it is delivered once, per platform queue', async () => {
      const delivered: string[] = [];
      await driver.enqueueOutbound('slack', [react('k-1'), react('k-2'), react('k-1')]);
      await driver.enqueueOutbound('slack', [react('k-2')]);
      await driver.consumeOutbound('slack', async (action) => void delivered.push(action.key), {
        concurrency: 4,
      });
      await waitFor(() => delivered.length === 2);
      await driver.enqueueOutbound('slack', [react('k-1')]);
      await sleep(150);
      expect(delivered.sort()).toEqual(['k-1', 'k-2']);
      expect((await driver.counts(outboundQueueName('discord'))).waiting).toBe(0);
    });

    it('GIVEN jobs in flight WHEN the consumer closes THEN they finish, and later jobs wait for the next consumer', async () => {
      let started = 0;
      let finished = 0;
      const consumer = await driver.consumeInbound(
        async () => {
          started += 1;
          await sleep(300);
          finished += 1;
        },
        { concurrency: 3 },
      );
      for (let i = 0; i < 3; i++) await driver.enqueueInbound(inbound());
      await waitFor(() => started === 3, 10_000, 'three started');
      const closing = consumer.close();
      expect(consumer.close()).toBe(closing);
      await driver.enqueueInbound(inbound());
      await closing;
      expect(finished).toBe(3);
      await sleep(100);
      expect(started).toBe(3);
      const counts = await driver.counts(INBOUND_QUEUE);
      expect(counts).toMatchObject({ completed: 3, waiting: 1, active: 0, failed: 0 });
      expect(await driver.workersAlive()).toBe(0);
    });

    it('GIVEN jobs waiting THEN oldestWaiting is when the first was added; null once none waits', async () => {
      expect(await driver.oldestWaiting(INBOUND_QUEUE)).toBeNull();
      const before = Date.now();
      await driver.enqueueInbound(inbound());
      await sleep(30);
      await driver.enqueueInbound(inbound());
      const oldest = await driver.oldestWaiting(INBOUND_QUEUE);
      expect(oldest).not.toBeNull();
      expect(oldest!).toBeGreaterThanOrEqual(before - 5);
      expect(oldest!).toBeLessThan(before + 25);
      await driver.consumeInbound(async () => {}, { concurrency: 2 });
      await waitFor(async () => (await driver.counts(INBOUND_QUEUE)).completed === 2, 10_000, 'both done');
      expect(await driver.oldestWaiting(INBOUND_QUEUE)).toBeNull();
    });

    it('GIVEN a stopped driver WHEN used THEN it says so, and stop is idempotent', async () => {
      const first = driver.stop();
      expect(driver.stop()).toBe(first);
      await first;
      await expect(driver.enqueueInbound(inbound())).rejects.toThrow(/stopped/);
    });
  });
}
