import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalEngine } from '../../models/runtime/local-engine.ts';
import { executeCommand } from '../../src/commands/run.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { LibraryIndexes } from '../../worker/library/sync.ts';
import { deletePrefix, randomPrefix, REDIS_URL, waitFor } from '../queue/fixtures.ts';
import { LIBRARY, libraryEngine, modelsPresent } from './fixtures.ts';

/**
 * Two workers (each its own Redis connection and index) and an adapter writing through `/steward library`:
 * the admin's change is searchable on both workers within seconds, and a restarted worker rebuilds from Redis.
 */
describe.skipIf(!modelsPresent)('library index sync across two workers on Redis', () => {
  const prefix = randomPrefix('libsync');
  const stores: RedisStore[] = [];
  let engine: LocalEngine;
  let admin: RedisStore;
  let workers: LibraryIndexes[];
  const embed = (texts: string[]) => engine.embedSearch(texts);
  const open = async () => {
    const store = new RedisStore({ url: REDIS_URL, prefix });
    await store.start();
    stores.push(store);
    return store;
  };
  const ctx = () => ({
    platform: 'discord' as const,
    workspaceId: 'g1',
    actor: { id: 'a', name: 'Admin', isAdmin: true },
    store: admin,
  });
  const best = async (indexes: LibraryIndexes, text: string) => {
    const [vector] = await embed([text]);
    return (await indexes.search('discord', 'g1', text, vector!, 1))[0]?.item.id ?? null;
  };

  beforeAll(async () => {
    engine = await libraryEngine();
    admin = await open();
    workers = [
      new LibraryIndexes(await open(), embed, { checkMs: 500 }),
      new LibraryIndexes(await open(), embed, { checkMs: 500 }),
    ];
    await admin.putLibraryItems('discord', 'g1', LIBRARY);
  }, 120_000);
  afterAll(async () => {
    for (const s of stores) await s.stop();
    await deletePrefix(REDIS_URL, prefix);
    await engine?.stop();
  });

  it('GIVEN both workers searched once WHEN an admin adds an item THEN both find it within 3 s', async () => {
    const question = 'is there a bake sale fundraiser this weekend?';
    for (const w of workers) expect(await best(w, question)).not.toBe('bake-sale');
    const reply = await executeCommand(
      'library add Bake sale | Bake sale fundraiser this Saturday 10am to 2pm in the town hall.',
      ctx(),
    );
    expect(reply.ok).toBe(true);
    const started = Date.now();
    for (const w of workers)
      await waitFor(async () => (await best(w, question)) === 'bake-sale', 3_000, 'the new item');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('GIVEN an admin removes an item THEN neither worker returns it within 3 s', async () => {
    const question = 'how can I donate to support the server hosting?';
    for (const w of workers) expect(await best(w, question)).toBe('donate');
    expect((await executeCommand('library remove donate', ctx())).ok).toBe(true);
    for (const w of workers)
      await waitFor(async () => (await best(w, question)) !== 'donate', 3_000, 'the removal');
  });

  it('GIVEN a restarted worker THEN it rebuilds the index from Redis', async () => {
    const fresh = new LibraryIndexes(await open(), embed);
    expect(await best(fresh, 'when is the next monthly meetup?')).toBe('meetup');
    expect((await fresh.index('discord', 'g1')).size).toBe(LIBRARY.length);
  });
});
