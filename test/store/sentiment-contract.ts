import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY_MS, type SentimentCount, utcDay } from '../../src/store/sentiment.ts';
import type { Store } from '../../src/store/types.ts';
import type { StoreHarness } from './contract.ts';

const count = (over: Partial<SentimentCount> = {}): SentimentCount => ({
  platform: 'discord',
  workspaceId: 'g1',
  channelId: 'c1',
  label: 'neutral',
  at: Date.now(),
  ...over,
});

/** The daily sentiment summary: the same behaviour from every Store driver. */
export function sentimentContract(name: string, makeHarness: () => StoreHarness): void {
  describe(`${name} store: daily sentiment per channel`, () => {
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

    it('GIVEN messages in two channels over two days THEN counts per channel per day, oldest first, also after a restart', async () => {
      const now = Date.now();
      const yesterday = now - DAY_MS;
      for (const label of ['negative', 'negative', 'positive'] as const)
        await store.countSentiment(count({ label, at: yesterday }), 90);
      await store.countSentiment(count({ channelId: 'c2', label: 'neutral' }), 90);
      await store.countSentiment(count({ label: 'positive' }), 90);
      await store.countSentiment(count({ workspaceId: 'other', label: 'negative' }), 90);
      const expected = [
        { day: utcDay(yesterday), channelId: 'c1', negative: 2, neutral: 0, positive: 1 },
        { day: utcDay(now), channelId: 'c1', negative: 0, neutral: 0, positive: 1 },
        { day: utcDay(now), channelId: 'c2', negative: 0, neutral: 1, positive: 0 },
      ];
      expect(await store.sentimentSummary('discord', 'g1', now - 7 * DAY_MS)).toEqual(expected);
      expect(await store.sentimentSummary('discord', 'g1', now)).toEqual(expected.slice(1));
      expect(await store.sentimentSummary('slack', 'g1', now - 7 * DAY_MS)).toEqual([]);
      await store.stop();
      const again = await open();
      expect(await again.sentimentSummary('discord', 'g1', now - 7 * DAY_MS)).toEqual(expected);
    });

    it('GIVEN a day older than the days to keep THEN it is not kept', async () => {
      const now = Date.now();
      await store.countSentiment(count({ at: now - 10 * DAY_MS }), 5);
      await store.countSentiment(count({ at: now - 3 * DAY_MS }), 5);
      const days = await store.sentimentSummary('discord', 'g1', now - 30 * DAY_MS);
      expect(days.map((d) => d.day)).toEqual([utcDay(now - 3 * DAY_MS)]);
    });

    it('GIVEN a retention shortened since THEN the days it no longer covers are dropped at the next count', async () => {
      const now = Date.now();
      await store.countSentiment(count({ at: now - 20 * DAY_MS }), 90);
      await store.countSentiment(count({ at: now - 2 * DAY_MS }), 90);
      expect(await store.sentimentSummary('discord', 'g1', now - 30 * DAY_MS)).toHaveLength(2);
      await store.countSentiment(count({ at: now }), 7);
      const days = await store.sentimentSummary('discord', 'g1', now - 30 * DAY_MS);
      expect(days.map((d) => d.day)).toEqual([utcDay(now - 2 * DAY_MS), utcDay(now)]);
    });
  });
}
