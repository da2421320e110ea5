import { RedisStore } from '../../src/store/redis.ts';
import { deletePrefix, randomPrefix, REDIS_URL } from '../queue/fixtures.ts';
import { libraryContract } from './library-contract.ts';

libraryContract('redis', () => {
  const prefix = randomPrefix('library');
  return {
    open: () => new RedisStore({ url: REDIS_URL, prefix }),
    cleanup: () => deletePrefix(REDIS_URL, prefix).then(() => {}),
  };
});
