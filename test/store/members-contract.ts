import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { foldMessage, type InterestProfile } from '../../src/domain/profile.ts';
import { EXPIRED, FORGOTTEN } from '../../src/store/members.ts';
import type { Store } from '../../src/store/types.ts';
import { flag, type StoreHarness } from './contract.ts';

const who = { platform: 'discord' as const, workspaceId: 'g1', userId: 'u1' };
const profile = (at: number, over: Partial<InterestProfile> = {}): InterestProfile => ({
  ...foldMessage(null, who, [1, 0, 0], ['hockey', 'goalie'], at),
  ...over,
});

/** Profiles, opt-out, forget-me and retention: the same behaviour from every Store driver. */
export function membersContract(name: string, makeHarness: () => StoreHarness): void {
  describe(`${name} store: member profiles and privacy`, () => {
    let harness: StoreHarness;
    let store: Store;
    const opened: Store[] = [];
    const open = async () => {
      const s = harness.open();
      await s.start();
      opened.push(s);
      return s;
    };
    beforeEach(async () => {
      harness = makeHarness();
      store = await open();
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.stop().catch(() => {});
      await harness.cleanup();
    });

    it('GIVEN a written profile THEN it reads back, also after a restart', async () => {
      expect(await store.putProfile(profile(1_000))).toBe(true);
      expect((await store.getProfile('discord', 'g1', 'u1'))?.terms).toEqual({ hockey: 1, goalie: 1 });
      await store.stop();
      const again = await open();
      expect((await again.getProfile('discord', 'g1', 'u1'))?.vector).toEqual([1, 0, 0]);
      expect(await again.getProfile('discord', 'g2', 'u1')).toBeNull();
    });

    it('GIVEN a profile folded from 256-dimension embeddings THEN every field reads back exactly', async () => {
      const embedding = (seed: number) =>
        Float32Array.from({ length: 256 }, (_, i) => Math.sin(seed * 31 + i) / 16);
      let folded = foldMessage(null, who, embedding(1), ['hockey', 'goalie'], 1_000);
      for (let k = 2; k < 30; k++)
        folded = foldMessage(folded, who, embedding(k), [`w${k}`, 'hockey'], k * 3_600_000);
      await store.putProfile(folded);
      expect(await store.getProfile('discord', 'g1', 'u1')).toEqual(folded);
    });

    it('GIVEN a member who opted out THEN their profile is deleted and no new one is written until opt-in', async () => {
      await store.putProfile(profile(1_000));
      await store.setOptOut('discord', 'g1', 'u1', true);
      expect(await store.isOptedOut('discord', 'g1', 'u1')).toBe(true);
      expect(await store.getProfile('discord', 'g1', 'u1')).toBeNull();
      expect(await store.putProfile(profile(2_000))).toBe(false);
      expect(await store.getProfile('discord', 'g1', 'u1')).toBeNull();
      expect(await store.isOptedOut('discord', 'g2', 'u1')).toBe(false);
      await store.setOptOut('discord', 'g1', 'u1', false);
      expect(await store.putProfile(profile(3_000))).toBe(true);
    });

    it('GIVEN forget-me THEN the profile is gone and the member is erased from flags they wrote or acted on', async () => {
      await store.putProfile(profile(1_000));
      await store.recordFlag(flag('f1', { authorId: 'u1', authorName: 'Una', excerpt: 'secret words' }));
      await store.recordFlag(flag('f2', { authorId: 'u2', authorName: 'Bo', excerpt: 'other text' }));
      await store.updateFlag('f2', {
        status: 'dismissed',
        actorId: 'u1',
        actorName: 'Una',
        action: 'dismiss',
      });
      const result = await store.forgetMember('discord', 'g1', 'u1');
      expect(result).toEqual({ profiles: 1, flags: 2 });
      expect(await store.getProfile('discord', 'g1', 'u1')).toBeNull();
      const f1 = await store.getFlag('f1');
      expect([f1?.authorId, f1?.authorName, f1?.excerpt]).toEqual([FORGOTTEN, FORGOTTEN, FORGOTTEN]);
      expect(f1?.reasons).toEqual({ offensive: [] });
      const f2 = await store.getFlag('f2');
      expect(f2?.excerpt).toBe('other text');
      expect(f2?.history[0]).toMatchObject({ actorId: FORGOTTEN, action: 'dismiss' });
      expect(JSON.stringify(f2)).not.toContain('Una');
      await store.stop();
      const again = await open();
      expect(JSON.stringify(await again.listFlags('discord', 'g1', { limit: 10 }))).not.toMatch(
        /Una|secret words|"u1"/,
      );
    });

    it('GIVEN a retention limit THEN older profiles are deleted and older excerpts blanked, newer ones kept', async () => {
      await store.putProfile(profile(1_000));
      await store.putProfile({ ...profile(5_000), userId: 'u2' });
      await store.recordFlag(flag('old', { createdAt: 1_000, excerpt: 'old words' }));
      await store.recordFlag(flag('new', { createdAt: 5_000, excerpt: 'new words' }));
      expect(await store.applyRetention('discord', 'g1', 3_000)).toEqual({ profiles: 1, excerpts: 1 });
      expect(await store.getProfile('discord', 'g1', 'u1')).toBeNull();
      expect(await store.getProfile('discord', 'g1', 'u2')).not.toBeNull();
      expect((await store.getFlag('old'))?.excerpt).toBe(EXPIRED);
      expect((await store.getFlag('new'))?.excerpt).toBe('new words');
      expect(await store.applyRetention('discord', 'g1', 3_000)).toEqual({ profiles: 0, excerpts: 0 });
    });
  });
}
