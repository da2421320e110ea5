import { afterEach, describe, expect, it } from 'vitest';
import { FlagConflictError } from '../../src/errors.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { RedisStore } from '../../src/store/redis.ts';
import type { Store } from '../../src/store/types.ts';
import { deletePrefix, REDIS_URL, randomPrefix } from '../queue/fixtures.ts';
import { flag } from './fixtures.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function stores(): Promise<Array<[string, Store]>> {
  const memory = new MemoryStore();
  const prefix = randomPrefix('dashboard');
  const redis = new RedisStore({ url: REDIS_URL, prefix });
  await memory.start();
  await redis.start();
  cleanups.push(
    () => memory.stop(),
    () => deletePrefix(REDIS_URL, prefix),
    () => redis.stop(),
  );
  return [
    ['memory', memory],
    ['redis', redis],
  ];
}

describe('flag updates that expect a status (first moderator action wins)', () => {
  it('GIVEN concurrent updates expecting "open" THEN exactly one applies, on every driver', async () => {
    for (const [name, store] of await stores()) {
      const f = flag();
      await store.recordFlag(f);
      const results = await Promise.allSettled(
        ['a', 'b', 'c', 'd'].map((actorId) =>
          store.updateFlag(f.id, { status: 'dismissed', actorId, action: 'dismiss', expectStatus: 'open' }),
        ),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won, name).toHaveLength(1);
      expect(lost, name).toHaveLength(3);
      for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(FlagConflictError);
      const stored = await store.getFlag(f.id);
      expect(
        stored?.history.filter((e) => e.action === 'dismiss'),
        name,
      ).toHaveLength(1);
    }
  });

  it('GIVEN no expected status THEN updates apply as before (the chat buttons)', async () => {
    for (const [name, store] of await stores()) {
      const f = flag({ status: 'dismissed' });
      await store.recordFlag(f);
      const updated = await store.updateFlag(f.id, { status: 'actioned', actorId: 'x', action: 'delete' });
      expect(updated?.status, name).toBe('actioned');
    }
  });
});
