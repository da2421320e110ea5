import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../src/store/file.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { deletePrefix, randomPrefix, REDIS_URL } from '../queue/fixtures.ts';
import { sentimentContract } from './sentiment-contract.ts';

sentimentContract('file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steward-sentiment-'));
  return { open: () => new FileStore({ dir }), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

sentimentContract('redis', () => {
  const prefix = randomPrefix('sentiment');
  return {
    open: () => new RedisStore({ url: REDIS_URL, prefix }),
    cleanup: () => deletePrefix(REDIS_URL, prefix).then(() => {}),
  };
});
