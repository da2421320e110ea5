import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../src/store/file.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { deletePrefix, randomPrefix, REDIS_URL } from '../queue/fixtures.ts';
import { membersContract } from './members-contract.ts';

membersContract('file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steward-members-'));
  return { open: () => new FileStore({ dir }), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

membersContract('redis', () => {
  const prefix = randomPrefix('members');
  return {
    open: () => new RedisStore({ url: REDIS_URL, prefix }),
    cleanup: () => deletePrefix(REDIS_URL, prefix).then(() => {}),
  };
});
