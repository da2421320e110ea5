import { describe, expect, it } from 'vitest';
import { BullMQDriver } from '../../queue/bullmq.ts';
import { queueContract, TEST_POLICY } from './contract.ts';
import { forgetContract } from './forget-contract.ts';
import { deletePrefix, randomPrefix, REDIS_URL, testLogger } from './fixtures.ts';

const bullmq = () => {
  const prefix = randomPrefix('qc');
  return {
    async create() {
      const driver = new BullMQDriver({ url: REDIS_URL, prefix, logger: testLogger(), policy: TEST_POLICY });
      await driver.start();
      return driver;
    },
    cleanup: async () => void (await deletePrefix(REDIS_URL, prefix)),
  };
};

queueContract('bullmq', bullmq);
forgetContract('bullmq', bullmq);

describe('BullMQDriver start', () => {
  it('GIVEN an unreachable Redis THEN start fails within the timeout, naming REDIS_URL', async () => {
    const driver = new BullMQDriver({
      url: 'redis://127.0.0.1:1',
      prefix: randomPrefix('down'),
      logger: testLogger(),
      connectTimeoutMs: 500,
    });
    const started = Date.now();
    await expect(driver.start()).rejects.toThrow(/cannot reach Redis at 127.0.0.1:1 \(REDIS_URL\)/);
    expect(Date.now() - started).toBeLessThan(5_000);
    await driver.stop();
  });

  it('GIVEN queues created just before stop THEN stop closes them with no unhandled rejection', async () => {
    // bullmq closing a Queue mid-handshake left "Connection is closed" unhandled (the dashboard's board queues).
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      for (let round = 0; round < 40; round++) {
        const prefix = randomPrefix('close');
        const driver = new BullMQDriver({ url: REDIS_URL, prefix, logger: testLogger() });
        await driver.start();
        driver.queues(['board-a', 'board-b', 'board-c']);
        // The window is the first few milliseconds of the handshake.
        await new Promise((resolve) => setTimeout(resolve, round % 4));
        await driver.stop();
        await deletePrefix(REDIS_URL, prefix);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});
