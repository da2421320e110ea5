import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { localSettingsDefaults } from '../../src/store/defaults.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { storeContract } from './contract.ts';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

storeContract('redis', () => {
  const prefix = `test-store-${randomBytes(6).toString('hex')}`;
  return {
    open: (options) =>
      new RedisStore({ url, prefix, ...(options?.localDefaults ? { defaults: localSettingsDefaults } : {}) }),
    cleanup: async () => {
      const redis = new Redis(url);
      try {
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length > 0) await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    },
  };
});
