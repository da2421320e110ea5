import { describe, expect, it } from 'vitest';
import { recordAppealPosted } from '../../adapters/flag-log.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import type { Store } from '../../src/store/types.ts';
import { flag } from '../store/contract.ts';

const pending = { memberId: 'u1', note: 'it was a joke', at: 1, status: 'pending' as const };

/** A store whose next updateFlag first lets `meanwhile` run: a decision landing between the read and the write. */
function racing(store: Store, meanwhile: () => Promise<void>): Pick<Store, 'getFlag' | 'updateFlag'> {
  let raced = false;
  return {
    getFlag: (id) => store.getFlag(id),
    updateFlag: async (id, change) => {
      if (!raced) {
        raced = true;
        await meanwhile();
      }
      return store.updateFlag(id, change);
    },
  };
}

describe('recordAppealPosted: where the appeal was posted, never over a decision', () => {
  it('GIVEN a pending appeal THEN the post id is recorded', async () => {
    const store = new MemoryStore();
    await store.start();
    await store.recordFlag(flag('f1', { status: 'actioned', appeal: pending }));
    await recordAppealPosted(store, 'f1', 'post-1');
    expect((await store.getFlag('f1'))?.appeal).toMatchObject({ status: 'pending', postId: 'post-1' });
    await store.stop();
  });

  it('GIVEN a moderator decides the appeal between the read and the write THEN the decision stands (the stale write is dropped)', async () => {
    const store = new MemoryStore();
    await store.start();
    await store.recordFlag(flag('f1', { status: 'actioned', appeal: pending }));
    const decide = async () => {
      await store.updateFlag('f1', {
        status: 'dismissed',
        actorId: 'mod',
        action: 'appeal-reversed',
        appeal: { ...pending, status: 'reversed', decidedById: 'mod', decidedAt: 2 },
        expectAppeal: 'pending',
      });
    };
    await expect(recordAppealPosted(racing(store, decide), 'f1', 'post-1')).resolves.toBeUndefined();
    const after = await store.getFlag('f1');
    expect(after?.status).toBe('dismissed');
    expect(after?.appeal).toMatchObject({ status: 'reversed', decidedById: 'mod' });
    expect(after?.history.map((h) => h.action)).toEqual(['appeal-reversed']);
    await store.stop();
  });

  it('GIVEN an appeal already decided THEN nothing is written', async () => {
    const store = new MemoryStore();
    await store.start();
    const decided = { ...pending, status: 'upheld' as const, decidedById: 'mod', decidedAt: 2 };
    await store.recordFlag(flag('f1', { status: 'actioned', appeal: decided }));
    await recordAppealPosted(store, 'f1', 'post-1');
    expect((await store.getFlag('f1'))?.appeal).toEqual(decided);
    await store.stop();
  });
});
