import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../app/cli/main.ts';
import { foldMessage } from '../../src/domain/profile.ts';
import { FileStore } from '../../src/store/file.ts';
import { SOMEONE_ELSE } from '../../src/store/members.ts';
import { RedisStore } from '../../src/store/redis.ts';
import type { Store } from '../../src/store/types.ts';
import { deletePrefix, randomPrefix, REDIS_URL } from '../queue/fixtures.ts';
import { flag } from '../store/contract.ts';
import { memoryIo } from './io.ts';

const WS = { platform: 'discord' as const, workspaceId: 'g1' };
const ME = { id: 'u-export-me', name: 'Petra Export' };
const OTHER = { id: 'u-other-77', name: 'Otto Other' };

/**
 * The member's data and another member's, side by side in one workspace, plus the member's profile in another
 * workspace: a profile with recommendations, a flag they wrote, a flag on the other member's message that they
 * acted on as a moderator, and the other member's own flag and profile.
 */
async function seed(store: Store) {
  const mine = foldMessage(null, { ...WS, userId: ME.id }, [0.6, 0.8], ['glacier', 'hiking'], 1_000);
  mine.recommendations = {
    at: 2_000,
    items: [
      {
        id: 'iceland',
        title: 'Iceland',
        kind: 'place',
        score: 0.7,
        why: 'you talked about glacier',
        matched: { profile: ['glacier'], request: [] },
      },
    ],
  };
  await store.putProfile(mine);
  await store.putProfile(foldMessage(null, { ...WS, userId: OTHER.id }, [1, 0], ['othersecretterm'], 1_000));
  await store.putProfile(
    foldMessage(
      null,
      { platform: 'discord', workspaceId: 'g2', userId: ME.id },
      [0, 1],
      ['elsewhereterm'],
      1_000,
    ),
  );
  await store.recordFlag(
    flag('mine', {
      authorId: ME.id,
      authorName: ME.name,
      excerpt: 'my own flagged words',
      reasons: { offensive: ['flagged'] },
    }),
  );
  await store.updateFlag('mine', {
    status: 'dismissed',
    actorId: 'mod-9',
    actorName: 'Mona Mod',
    action: 'dismiss',
    note: 'fine',
  });
  await store.recordFlag(
    flag('acted', {
      authorId: OTHER.id,
      authorName: OTHER.name,
      excerpt: 'other member secret words',
      reasons: { offensive: ['secret'] },
    }),
  );
  await store.updateFlag('acted', {
    status: 'actioned',
    actorId: ME.id,
    actorName: ME.name,
    action: 'delete',
    note: 'removed',
  });
  await store.recordFlag(
    flag('theirs', { authorId: OTHER.id, authorName: OTHER.name, excerpt: 'another private line' }),
  );
  await store.setOptOut('discord', 'g1', OTHER.id, true);
}

async function exportOf(env: NodeJS.ProcessEnv, user: string) {
  const io = memoryIo(env);
  const code = await main(
    ['privacy', 'export', '--user', user, '--platform', 'discord', '--workspace', 'g1'],
    io,
  );
  expect(io.err()).toBe('');
  expect(code).toBe(0);
  return { text: io.out(), data: JSON.parse(io.out()) };
}

/** One member's export: their profile, texts, flags and opt-out, and nothing of anyone else. */
async function checkExport(env: NodeJS.ProcessEnv) {
  const { text, data } = await exportOf(env, ME.id);
  expect(data).toMatchObject({ user: ME.id, platform: 'discord', workspace: 'g1', optedOut: false });
  expect(data.profile).toMatchObject({
    messages: 1,
    terms: { glacier: 1, hiking: 1 },
    vector: [0.6, 0.8],
    recommendations: [{ id: 'iceland', why: 'you talked about glacier' }],
  });
  const byId = Object.fromEntries(data.flags.map((f: { id: string }) => [f.id, f]));
  expect(Object.keys(byId).sort()).toEqual(['acted', 'mine']);
  // Their stored text (the flag excerpt and its attribution words) and what moderators did with it.
  expect(byId.mine).toMatchObject({ authorId: ME.id, excerpt: 'my own flagged words', status: 'dismissed' });
  expect(byId.mine.reasons).toEqual({ offensive: ['flagged'] });
  expect(byId.mine.history).toEqual([expect.objectContaining({ action: 'dismiss', actorId: SOMEONE_ELSE })]);
  // Their own moderator action on another member's message, without that member's words or identity.
  expect(byId.acted.history).toEqual([
    expect.objectContaining({ actorId: ME.id, action: 'delete', note: 'removed' }),
  ]);
  expect(byId.acted).toMatchObject({
    authorId: SOMEONE_ELSE,
    authorName: SOMEONE_ELSE,
    excerpt: SOMEONE_ELSE,
  });
  for (const secret of [
    OTHER.id,
    OTHER.name,
    'other member secret words',
    'secret',
    'another private line',
    'othersecretterm',
    'elsewhereterm',
    'mod-9',
    'Mona Mod',
  ])
    expect(text, `"${secret}" belongs to someone else or elsewhere`).not.toContain(secret);

  // The other member opted out: the export says so, and holds no profile.
  const other = await exportOf(env, OTHER.id);
  expect(other.data).toMatchObject({ optedOut: true, profile: null });
  expect(other.data.flags.map((f: { id: string }) => f.id).sort()).toEqual(['acted', 'theirs']);
  expect(other.text).not.toContain(ME.name);
}

describe('steward privacy export', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('GIVEN the file store THEN the member’s profile, texts, flags and opt-out, and nothing of other members', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steward-export-'));
    dirs.push(dir);
    const store = new FileStore({ dir });
    await store.start();
    await seed(store);
    await store.stop();
    await checkExport({ STEWARD_DATA_DIR: dir });
  });

  it('GIVEN the Redis store THEN the same', async () => {
    const prefix = randomPrefix('export');
    const store = new RedisStore({ url: REDIS_URL, prefix });
    await store.start();
    try {
      await seed(store);
      await checkExport({ REDIS_URL, STEWARD_PREFIX: prefix, STEWARD_DATA_DIR: tmpdir() });
    } finally {
      await store.stop();
      await deletePrefix(REDIS_URL, prefix);
    }
  });
});
