import { localSettingsDefaults } from '../../src/store/defaults.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { deletePrefix, randomPrefix, REDIS_URL } from '../queue/fixtures.ts';
import { storeContract } from './contract.ts';

const url = REDIS_URL;

storeContract('redis', () => {
  const prefix = randomPrefix('store');
  return {
    open: (options) =>
      new RedisStore({ url, prefix, ...(options?.localDefaults ? { defaults: localSettingsDefaults } : {}) }),
    cleanup: async () => {
      await deletePrefix(url, prefix);
    },
  };
});
