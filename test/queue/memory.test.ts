import { MemoryDriver } from '../../queue/memory.ts';
import { queueContract, TEST_POLICY } from './contract.ts';
import { forgetContract } from './forget-contract.ts';
import { testLogger } from './fixtures.ts';

const memory = () => ({
  async create() {
    const driver = new MemoryDriver({ logger: testLogger(), policy: TEST_POLICY });
    await driver.start();
    return driver;
  },
  async cleanup() {},
});

queueContract('memory', memory);
forgetContract('memory', memory);
