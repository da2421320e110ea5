import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../src/store/file.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { deletePrefix, randomPrefix, REDIS_URL } from '../queue/fixtures.ts';
import { describe, expect, it } from 'vitest';
import { foldMessage } from '../../src/domain/profile.ts';
import { decodeProfile, encodeProfile } from '../../src/store/members-redis.ts';
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

describe('Redis profile encoding', () => {
  const who = { platform: 'discord' as const, workspaceId: 'g1', userId: 'u1' };
  const profile = foldMessage(null, who, [0.12345, -0.5, 0, 1], ['hockey'], 1_000);

  it('GIVEN a profile THEN its vector is stored as float32 bytes, and it decodes to the same profile', () => {
    const raw = encodeProfile(profile);
    expect(JSON.parse(raw).vector).toMatch(/^f32:[A-Za-z0-9+/]+=*$/);
    expect(decodeProfile(raw)).toEqual(profile);
  });

  it('GIVEN a profile written before (the vector as a JSON array) THEN it still reads', () => {
    expect(decodeProfile(JSON.stringify(profile))).toEqual(profile);
  });
});
