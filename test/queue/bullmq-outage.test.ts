import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullMQDriver } from '../../queue/bullmq.ts';
import { ErrorCode, QueueUnavailableError } from '../../src/errors.ts';
import { freePort, OwnRedis } from '../chaos/processes.ts';
import { inbound, testLogger } from './fixtures.ts';

const BOUND = 5;

// Issue 13: during a long Redis outage, enqueues must neither pile up in memory nor hang; what cannot be queued is
// refused with a clear error, so the adapter hands the message back to the platform.
describe('BullMQ driver while Redis is away', () => {
  let dir: string;
  let redis: OwnRedis; // its own redis-server: stopping the shared one would break other tests
  let driver: BullMQDriver;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'steward-outage-'));
    redis = new OwnRedis(await freePort(), dir);
    await redis.start();
    driver = new BullMQDriver({
      url: redis.url,
      prefix: 'outage',
      logger: testLogger(),
      maxPendingEnqueues: BOUND,
    });
    await driver.start();
  });
  afterAll(async () => {
    await redis?.start().catch(() => {}); // so that the driver closes promptly
    await driver?.stop();
    await redis?.stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('GIVEN Redis stopped WHEN more than the bound enqueue THEN the excess is refused at once, the rest fails within seconds, and enqueues work again when Redis is back', async () => {
    expect((await driver.enqueueInbound(inbound({ text: 'before' }))).duplicate).toBe(false);
    await redis.stop('SIGTERM');

    const waiting = Array.from({ length: BOUND }, (_, i) =>
      driver.enqueueInbound(inbound({ text: `during ${i}` })),
    );
    for (const w of waiting) w.catch(() => {});
    expect(driver.pendingEnqueues).toBe(BOUND);

    const started = Date.now();
    const refused = await driver.enqueueInbound(inbound({ text: 'one too many' })).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(QueueUnavailableError);
    expect((refused as QueueUnavailableError).code).toBe(ErrorCode.QueueUnavailable);
    expect((refused as Error).message).toMatch(/already wait for Redis \(the bound is 5\)/);
    expect(Date.now() - started).toBeLessThan(100);
    // Outbound actions share the bound.
    await expect(driver.enqueueOutbound('slack', [reply('x')])).rejects.toThrow(/the bound is 5/);

    // The waiting ones are not held for minutes: a couple of reconnect attempts, then a clear error.
    const settled = await Promise.allSettled(waiting);
    expect(Date.now() - started).toBeLessThan(15_000);
    for (const result of settled) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason as Error;
      expect(reason).toBeInstanceOf(QueueUnavailableError);
      expect(reason.message).toMatch(/Redis did not take it/);
    }
    expect(driver.pendingEnqueues).toBe(0);

    await redis.start();
    const deadline = Date.now() + 20_000;
    let result: Awaited<ReturnType<BullMQDriver['enqueueInbound']>> | undefined;
    while (!result && Date.now() < deadline) {
      result = await driver.enqueueInbound(inbound({ text: 'after' })).catch(() => undefined);
    }
    expect(result?.duplicate).toBe(false);
  }, 60_000);
});

function reply(key: string) {
  return {
    kind: 'reply' as const,
    key,
    target: { platform: 'slack' as const, workspaceId: 'T', channelId: 'C', messageId: '1.0' },
    text: 'hi',
    reason: 'mention' as const,
  };
}
