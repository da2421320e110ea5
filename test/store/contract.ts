import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FlagRecord, Store, WorkerHeartbeat } from '../../src/store/types.ts';
import { FlagConflictError } from '../../src/errors.ts';

/** How a driver's test file builds stores: `open` may be called again to simulate a restart on the same data. */
export interface StoreHarness {
  open(options?: { localDefaults?: boolean }): Store;
  cleanup(): Promise<void>;
}

export function flag(id: string, over: Partial<FlagRecord> = {}): FlagRecord {
  return {
    id,
    platform: 'discord',
    workspaceId: 'g1',
    channelId: 'c1',
    messageId: id,
    authorId: 'u1',
    authorName: 'Una',
    excerpt: `text of ${id}`,
    flagged: ['offensive'],
    scores: { offensive: 0.9, threat: 0.1 },
    reasons: { offensive: ['idiot'] },
    createdAt: 1_000,
    status: 'open',
    history: [],
    ...over,
  };
}

const heartbeat = (id: string): WorkerHeartbeat => ({
  id,
  host: 'h',
  pid: 1,
  startedAt: 1,
  at: Date.now(),
  device: 'cpu',
  models: [{ role: 'signals', source: 'models/bundled/signals', version: 'v1', dtype: 'q8' }],
  processed: 3,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The behaviour every Store driver promises; run against Redis and files alike. */
export function storeContract(name: string, makeHarness: () => StoreHarness): void {
  describe(`${name} store contract`, () => {
    let harness: StoreHarness;
    let store: Store;
    const opened: Store[] = [];
    const open = async (options?: { localDefaults?: boolean }) => {
      const s = harness.open(options);
      await s.start();
      opened.push(s);
      return s;
    };

    beforeEach(async () => {
      harness = makeHarness();
      store = await open();
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.stop();
      await harness.cleanup();
    });

    it('GIVEN an unknown workspace THEN default settings at version 0', async () => {
      const settings = await store.getSettings('discord', 'nobody');
      expect(settings.version).toBe(0);
      expect(settings.topics).toEqual([]);
      expect(settings.replyMode).toBe('mention');
    });

    it('GIVEN settings defaults THEN a new workspace starts from them', async () => {
      const local = await open({ localDefaults: true });
      expect((await local.getSettings('local', 'local')).sentimentTags).toBe('all');
    });

    it('GIVEN an update THEN it is visible, the version bumps and other workspaces are untouched', async () => {
      const next = await store.updateSettings('discord', 'g1', (s) => ({ ...s, replyMode: 'topics' }));
      expect(next.version).toBe(1);
      expect((await store.getSettings('discord', 'g1')).replyMode).toBe('topics');
      expect((await store.getSettings('slack', 'g1')).replyMode).toBe('mention');
    });

    it('GIVEN 20 concurrent updates THEN none is lost', async () => {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.updateSettings('discord', 'g1', (s) => ({ ...s, exemptRoles: [...s.exemptRoles, `r${i}`] })),
        ),
      );
      const settings = await store.getSettings('discord', 'g1');
      expect(settings.exemptRoles).toHaveLength(20);
      expect(settings.version).toBe(20);
    });

    it('GIVEN an invalid update THEN it throws and nothing changes', async () => {
      await expect(
        store.updateSettings('discord', 'g1', (s) => ({ ...s, thresholds: { offensive: 7 } })),
      ).rejects.toThrow();
      expect((await store.getSettings('discord', 'g1')).version).toBe(0);
    });

    it('GIVEN a flag recorded twice THEN the first record stays', async () => {
      expect(await store.recordFlag(flag('f1'))).toBe(true);
      expect(await store.recordFlag(flag('f1', { excerpt: 'other' }))).toBe(false);
      expect((await store.getFlag('f1'))?.excerpt).toBe('text of f1');
      expect(await store.getFlag('missing')).toBeNull();
    });

    it('GIVEN moderator actions THEN status and history record who did what, in order', async () => {
      await store.recordFlag(flag('f1'));
      await store.updateFlag('f1', {
        status: 'open',
        actorId: 'bot',
        action: 'alerted',
        alertMessageId: 'm9',
      });
      const done = await store.updateFlag('f1', {
        status: 'actioned',
        actorId: 'mod1',
        actorName: 'Mo',
        action: 'delete',
      });
      expect(done?.status).toBe('actioned');
      expect(done?.alertMessageId).toBe('m9');
      expect(done?.history.map((h) => [h.actorId, h.action])).toEqual([
        ['bot', 'alerted'],
        ['mod1', 'delete'],
      ]);
      expect(
        await store.updateFlag('missing', { status: 'dismissed', actorId: 'x', action: 'dismiss' }),
      ).toBeNull();
    });

    it('GIVEN concurrent flag updates THEN every history entry is kept', async () => {
      await store.recordFlag(flag('f1'));
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.updateFlag('f1', { status: 'open', actorId: `m${i}`, action: 'note' }),
        ),
      );
      expect((await store.getFlag('f1'))?.history).toHaveLength(10);
    });

    it('GIVEN two appeals on one flag at once THEN exactly one is kept, and it survives a restart with its decision', async () => {
      await store.recordFlag(flag('f1', { status: 'actioned' }));
      const appeal = (note: string) => ({ memberId: 'u1', note, at: 1, status: 'pending' as const });
      const results = await Promise.allSettled(
        ['first', 'second'].map((note) =>
          store.updateFlag('f1', {
            status: 'actioned',
            actorId: 'u1',
            action: 'appeal',
            appeal: appeal(note),
            expectAppeal: 'none',
          }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.find((r) => r.status === 'rejected')?.reason).toBeInstanceOf(FlagConflictError);
      const filed = await store.getFlag('f1');
      expect(filed?.history.filter((h) => h.action === 'appeal')).toHaveLength(1);
      const decided = { ...filed!.appeal!, status: 'reversed' as const, decidedById: 'm', decidedAt: 2 };
      await store.updateFlag('f1', {
        status: 'dismissed',
        actorId: 'm',
        action: 'appeal-reversed',
        appeal: decided,
        expectAppeal: 'pending',
      });
      await expect(
        store.updateFlag('f1', {
          status: 'actioned',
          actorId: 'm2',
          action: 'appeal-upheld',
          appeal: decided,
          expectAppeal: 'pending',
        }),
      ).rejects.toBeInstanceOf(FlagConflictError);
      await store.stop();
      opened.splice(opened.indexOf(store), 1);
      const again = await open();
      expect((await again.getFlag('f1'))?.appeal).toMatchObject({ status: 'reversed', decidedById: 'm' });
      expect((await again.getFlag('f1'))?.status).toBe('dismissed');
    });

    it('GIVEN flags in two workspaces THEN listFlags is per workspace, newest first, filtered and limited', async () => {
      await store.recordFlag(flag('a', { createdAt: 1 }));
      await store.recordFlag(flag('b', { createdAt: 3 }));
      await store.recordFlag(flag('c', { createdAt: 2 }));
      await store.recordFlag(flag('other', { workspaceId: 'g2' }));
      await store.updateFlag('b', { status: 'dismissed', actorId: 'm', action: 'dismiss' });
      expect((await store.listFlags('discord', 'g1')).map((f) => f.id)).toEqual(['b', 'c', 'a']);
      expect((await store.listFlags('discord', 'g1', { status: 'open' })).map((f) => f.id)).toEqual([
        'c',
        'a',
      ]);
      expect((await store.listFlags('discord', 'g1', { limit: 1 })).map((f) => f.id)).toEqual(['b']);
    });

    it('GIVEN a delivery claim THEN a second claim fails until released, and confirmed ones stay claimed', async () => {
      expect(await store.claimDelivery('k1', 10_000)).toBe(true);
      expect(await store.claimDelivery('k1', 10_000)).toBe(false);
      await store.releaseDelivery('k1');
      expect(await store.claimDelivery('k1', 10_000)).toBe(true);
      await store.confirmDelivery('k1', 60_000, 'posted-1');
      await store.releaseDelivery('k1'); // a late release must not undo a confirmed delivery
      expect(await store.claimDelivery('k1', 10_000)).toBe(false);
      expect(await store.deliveryResult('k1')).toBe('posted-1');
      expect(await store.deliveryResult('never')).toBeNull();
    });

    it('GIVEN a claim whose lease runs out THEN it can be claimed again', async () => {
      expect(await store.claimDelivery('k2', 50)).toBe(true);
      await sleep(120);
      expect(await store.claimDelivery('k2', 10_000)).toBe(true);
    });

    it('GIVEN heartbeats THEN live workers are listed and expired ones are not', async () => {
      await store.heartbeat(heartbeat('w1'), 10_000);
      await store.heartbeat(heartbeat('w2'), 50);
      await sleep(120);
      expect((await store.listWorkers()).map((w) => w.id)).toEqual(['w1']);
    });

    it('GIVEN a restart THEN settings, flags and confirmed deliveries are still there', async () => {
      await store.updateSettings('discord', 'g1', (s) => ({
        ...s,
        topics: [{ name: 'movies', description: 'films' }],
      }));
      await store.recordFlag(flag('f1'));
      await store.updateFlag('f1', { status: 'dismissed', actorId: 'm', action: 'dismiss' });
      await store.confirmDelivery('k1', 60_000, 'posted');
      await store.stop();
      opened.splice(opened.indexOf(store), 1);
      const again = await open();
      const settings = await again.getSettings('discord', 'g1');
      expect(settings.topics).toEqual([{ name: 'movies', description: 'films' }]);
      expect(settings.version).toBe(1);
      expect((await again.getFlag('f1'))?.status).toBe('dismissed');
      expect((await again.listFlags('discord', 'g1')).map((f) => f.id)).toEqual(['f1']);
      expect(await again.claimDelivery('k1', 1_000)).toBe(false);
      expect(await again.deliveryResult('k1')).toBe('posted');
    });

    it('GIVEN the lifecycle THEN start twice and use before start are clear errors, stop is idempotent', async () => {
      await expect(store.start()).rejects.toThrow(/already/);
      const fresh = harness.open();
      await expect(fresh.getSettings('discord', 'g1')).rejects.toThrow(/not started/);
      await expect(fresh.stop()).rejects.toThrow(/before start/);
      const first = store.stop();
      expect(store.stop()).toBe(first);
      await first;
    });
  });
}
