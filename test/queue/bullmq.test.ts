import { BullMQDriver } from '../../queue/bullmq.ts';
import { queueContract, TEST_POLICY } from './contract.ts';
import { deletePrefix, randomPrefix, REDIS_URL, testLogger } from './fixtures.ts';

queueContract('bullmq', () => {
  const prefix = randomPrefix('qc');
  return {
    async create() {
      const driver = new BullMQDriver({ url: REDIS_URL, prefix, logger: testLogger(), policy: TEST_POLICY });
      await driver.start();
      return driver;
    },
    cleanup: async () => void (await deletePrefix(REDIS_URL, prefix)),
  };
});
