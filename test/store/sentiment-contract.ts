import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY_MS, type DailyCount, utcDay } from '../../src/store/sentiment.ts';
import type { Store } from '../../src/store/types.ts';
import type { StoreHarness } from './contract.ts';

const count = (over: Partial<DailyCount> = {}): DailyCount => ({
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
        await store.countMessage(count({ label, at: yesterday }), 90);
      await store.countMessage(count({ channelId: 'c2', label: 'neutral' }), 90);
      await store.countMessage(count({ label: 'positive' }), 90);
      await store.countMessage(count({ workspaceId: 'other', label: 'negative' }), 90);
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
      await store.countMessage(count({ at: now - 10 * DAY_MS }), 5);
      await store.countMessage(count({ at: now - 3 * DAY_MS }), 5);
      const days = await store.sentimentSummary('discord', 'g1', now - 30 * DAY_MS);
      expect(days.map((d) => d.day)).toEqual([utcDay(now - 3 * DAY_MS)]);
    });

    it('GIVEN a retention shortened since THEN the days it no longer covers are dropped at the next count', async () => {
      const now = Date.now();
      await store.countMessage(count({ at: now - 20 * DAY_MS }), 90);
      await store.countMessage(count({ at: now - 2 * DAY_MS }), 90);
      expect(await store.sentimentSummary('discord', 'g1', now - 30 * DAY_MS)).toHaveLength(2);
      await store.countMessage(count({ at: now }), 7);
      const days = await store.sentimentSummary('discord', 'g1', now - 30 * DAY_MS);
      expect(days.map((d) => d.day)).toEqual([utcDay(now - 2 * DAY_MS), utcDay(now)]);
    });

    it('GIVEN messages matching topics over two days THEN counts per topic per day, apart from sentiment, also after a restart', async () => {
      const now = Date.now();
      const yesterday = now - DAY_MS;
      const topic = (name: string, at: number, workspaceId = 'g1') =>
        store.countMessage({ platform: 'discord', workspaceId, channelId: 'c1', topic: name, at }, 90);
      await topic('releases', yesterday);
      await topic('releases', yesterday);
      await topic('help: setup', now);
      await topic('releases', now);
      await topic('releases', now, 'other');
      await store.countMessage(count({ label: 'negative' }), 90);
      const expected = [
        { day: utcDay(yesterday), topic: 'releases', count: 2 },
        { day: utcDay(now), topic: 'help: setup', count: 1 },
        { day: utcDay(now), topic: 'releases', count: 1 },
      ];
      expect(await store.topicSummary('discord', 'g1', now - 7 * DAY_MS)).toEqual(expected);
      expect(await store.topicSummary('discord', 'g1', now)).toEqual(expected.slice(1));
      expect(await store.topicSummary('slack', 'g1', now - 7 * DAY_MS)).toEqual([]);
      // The topic counts do not show up as channels of the sentiment summary.
      expect(await store.sentimentSummary('discord', 'g1', now - 7 * DAY_MS)).toEqual([
        { day: utcDay(now), channelId: 'c1', negative: 1, neutral: 0, positive: 0 },
      ]);
      await store.stop();
      const again = await open();
      expect(await again.topicSummary('discord', 'g1', now - 7 * DAY_MS)).toEqual(expected);
    });

    it('GIVEN one message with a sentiment and a topic THEN one count adds to both summaries; with neither THEN nothing', async () => {
      const now = Date.now();
      await store.countMessage(count({ label: 'positive', topic: 'releases', at: now }), 90);
      await store.countMessage({ platform: 'discord', workspaceId: 'g1', channelId: 'c9', at: now }, 90);
      expect(await store.sentimentSummary('discord', 'g1', now)).toEqual([
        { day: utcDay(now), channelId: 'c1', negative: 0, neutral: 0, positive: 1 },
      ]);
      expect(await store.topicSummary('discord', 'g1', now)).toEqual([
        { day: utcDay(now), topic: 'releases', count: 1 },
      ]);
    });

    it('GIVEN topic counts THEN they are kept like sentiment: not past the days to keep, dropped when retention shortens', async () => {
      const now = Date.now();
      const topic = (at: number, keepDays: number, workspaceId = 'g1') =>
        store.countMessage(
          { platform: 'discord', workspaceId, channelId: 'c1', topic: 'releases', at },
          keepDays,
        );
      const days = async (workspaceId = 'g1') =>
        (await store.topicSummary('discord', workspaceId, now - 30 * DAY_MS)).map((d) => d.day);
      await topic(now - 10 * DAY_MS, 5, 'g2');
      await topic(now - 3 * DAY_MS, 5, 'g2');
      expect(await days('g2')).toEqual([utcDay(now - 3 * DAY_MS)]);
      await topic(now - 20 * DAY_MS, 90);
      await topic(now - 3 * DAY_MS, 90);
      expect(await days()).toEqual([utcDay(now - 20 * DAY_MS), utcDay(now - 3 * DAY_MS)]);
      // A shortened retention set since, applied by the next count of either kind.
      await store.countMessage(count({ at: now }), 7);
      expect(await days()).toEqual([utcDay(now - 3 * DAY_MS)]);
    });
  });
}
