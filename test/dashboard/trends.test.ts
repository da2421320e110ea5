import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  flagsPerLabelPerDay,
  sentimentPerChannelPerDay,
  skippedByLanguage,
  topicsPerDay,
} from '../../dashboard/trends.ts';
import { DAY_MS } from '../../src/store/sentiment.ts';
import { flag, grantA, type Harness, signIn, startDashboard } from './fixtures.ts';

describe('trends', () => {
  const now = Date.parse('2026-11-20T12:00:00Z');
  it('GIVEN flags on two days THEN counts per label per UTC day, oldest first, older ones left out', () => {
    const flags = [
      flag({ createdAt: Date.parse('2026-11-20T01:00:00Z') }),
      flag({ createdAt: Date.parse('2026-11-19T23:59:00Z'), flagged: ['hate'] }),
      flag({ createdAt: Date.parse('2026-09-01T00:00:00Z') }),
    ];
    const { x, series } = flagsPerLabelPerDay(flags, now, 3);
    expect(x).toEqual([
      Date.parse('2026-11-18T00:00:00Z') / 1000,
      Date.parse('2026-11-19T00:00:00Z') / 1000,
      Date.parse('2026-11-20T00:00:00Z') / 1000,
    ]);
    expect(series).toEqual({ offensive: [0, 0, 1], insult: [0, 0, 1], hate: [0, 1, 0] });
  });

  it('GIVEN two workers THEN skipped messages are summed per language', () => {
    const worker = (skipped: Record<string, number>) => ({
      id: 'w',
      host: 'h',
      pid: 1,
      startedAt: 0,
      at: 0,
      device: 'cpu',
      models: [],
      processed: 0,
      skipped,
    });
    expect(skippedByLanguage([worker({ fr: 2 }), worker({ fr: 1, de: 4 })])).toEqual({ fr: 3, de: 4 });
  });

  it('GIVEN daily sentiment counts THEN series per channel and label over the days, older days left out', () => {
    const summary = [
      { day: '2026-11-20', channelId: 'c1', negative: 2, neutral: 1, positive: 0 },
      { day: '2026-11-18', channelId: 'c1', negative: 0, neutral: 0, positive: 4 },
      { day: '2026-11-01', channelId: 'c2', negative: 9, neutral: 9, positive: 9 },
    ];
    const { x, channels } = sentimentPerChannelPerDay(summary, now, 3);
    expect(x).toHaveLength(3);
    expect(channels).toEqual({ c1: { negative: [0, 0, 2], neutral: [0, 0, 1], positive: [4, 0, 0] } });
  });

  it('GIVEN daily topic counts THEN one series per topic, the most matched first, at most the top ones', () => {
    const summary = [
      { day: '2026-11-20', topic: 'releases', count: 3 },
      { day: '2026-11-19', topic: 'help', count: 1 },
      { day: '2026-11-18', topic: 'help', count: 1 },
      { day: '2026-11-18', topic: 'events', count: 1 },
      { day: '2026-11-01', topic: 'events', count: 9 },
    ];
    const { x, series } = topicsPerDay(summary, now, 3);
    expect(x).toHaveLength(3);
    expect(series).toEqual({ releases: [0, 0, 3], help: [1, 1, 0], events: [1, 0, 0] });
    expect(Object.keys(series)).toEqual(['releases', 'help', 'events']);
    expect(Object.keys(topicsPerDay(summary, now, 3, 2).series)).toEqual(['releases', 'help']);
  });
});

describe('GET /api/trends: sentiment per channel per day', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startDashboard();
  });
  afterEach(async () => {
    await h.close();
  });
  const where = { platform: 'discord' as const, workspaceId: grantA.workspaceId };
  type Trends = { sentimentPerDay: { x: number[]; channels: Record<string, Record<string, number[]>> } };

  it('GIVEN counted messages THEN 30 days of counts per channel and label, today last; another workspace is 403', async () => {
    const now = Date.now();
    await h.store.countMessage({ ...where, channelId: 'c1', label: 'negative', at: now }, 90);
    await h.store.countMessage({ ...where, channelId: 'c1', label: 'negative', at: now }, 90);
    await h.store.countMessage({ ...where, channelId: 'c1', label: 'positive', at: now - 2 * DAY_MS }, 90);
    await h.store.countMessage({ ...where, channelId: 'c2', label: 'neutral', at: now }, 90);
    await h.store.countMessage(
      { ...where, workspaceId: 'guild-b', channelId: 'c9', label: 'neutral', at: now },
      90,
    );
    const c = await signIn(h, [grantA]);
    const res = await c.get('/api/trends?platform=discord&workspace=guild-a');
    expect(res.status).toBe(200);
    const { sentimentPerDay } = (await res.json()) as Trends;
    expect(sentimentPerDay.x).toHaveLength(30);
    expect(sentimentPerDay.x.at(-1)).toBe((Math.floor(now / DAY_MS) * DAY_MS) / 1000);
    expect(Object.keys(sentimentPerDay.channels).sort()).toEqual(['c1', 'c2']);
    const c1 = sentimentPerDay.channels.c1!;
    expect(c1.negative!.at(-1)).toBe(2);
    expect(c1.positive!.at(-3)).toBe(1);
    expect(c1.neutral!.reduce((a, b) => a + b, 0)).toBe(0);
    expect(sentimentPerDay.channels.c2!.neutral!.at(-1)).toBe(1);
    expect((await c.get('/api/trends?platform=discord&workspace=guild-b')).status).toBe(403);
  });

  it('GIVEN the workspace keeps 7 days THEN older days are not shown', async () => {
    const now = Date.now();
    await h.store.countMessage({ ...where, channelId: 'c1', label: 'negative', at: now - 20 * DAY_MS }, 90);
    await h.store.countMessage({ ...where, channelId: 'c1', label: 'negative', at: now - 3 * DAY_MS }, 90);
    await h.store.updateSettings('discord', grantA.workspaceId, (s) => ({ ...s, retentionDays: 7 }));
    const c = await signIn(h, [grantA]);
    const { sentimentPerDay } = (await (
      await c.get('/api/trends?platform=discord&workspace=guild-a')
    ).json()) as Trends;
    expect(sentimentPerDay.channels.c1!.negative!.reduce((a, b) => a + b, 0)).toBe(1);
    expect(sentimentPerDay.channels.c1!.negative!.at(-4)).toBe(1);
  });
});

describe('GET /api/trends: topics coming up', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startDashboard();
  });
  afterEach(async () => {
    await h.close();
  });
  type Trends = { topicsPerDay: { x: number[]; series: Record<string, number[]> } };

  it('GIVEN messages counted per topic THEN 30 days per topic, top 8 by total; older days and other workspaces left out', async () => {
    const now = Date.now();
    const count = (topic: string, at: number, n = 1, workspaceId = grantA.workspaceId) =>
      Promise.all(
        Array.from({ length: n }, () =>
          h.store.countMessage({ platform: 'discord', workspaceId, channelId: 'c1', topic, at }, 90),
        ),
      );
    // Ten topics: t0 the most matched … t9 the least; t8 and t9 fall outside the top 8.
    for (let i = 0; i < 10; i++) await count(`t${i}`, now, 12 - i);
    await count('t0', now - 2 * DAY_MS, 2);
    await count('t9', now - 40 * DAY_MS, 50);
    await count('elsewhere', now, 99, 'guild-b');
    const c = await signIn(h, [grantA]);
    const res = await c.get('/api/trends?platform=discord&workspace=guild-a');
    expect(res.status).toBe(200);
    const { topicsPerDay } = (await res.json()) as Trends;
    expect(topicsPerDay.x).toHaveLength(30);
    expect(topicsPerDay.x.at(-1)).toBe((Math.floor(now / DAY_MS) * DAY_MS) / 1000);
    expect(Object.keys(topicsPerDay.series)).toEqual(['t0', 't1', 't2', 't3', 't4', 't5', 't6', 't7']);
    expect(topicsPerDay.series.t0!.at(-1)).toBe(12);
    expect(topicsPerDay.series.t0!.at(-3)).toBe(2);
    expect(topicsPerDay.series.t7!.reduce((a, b) => a + b, 0)).toBe(5);
  });

  it('GIVEN the workspace keeps 7 days THEN older topic counts are not shown', async () => {
    const now = Date.now();
    const at = (daysAgo: number) => now - daysAgo * DAY_MS;
    await h.store.countMessage(
      { platform: 'discord', workspaceId: grantA.workspaceId, channelId: 'c1', topic: 'a', at: at(20) },
      90,
    );
    await h.store.countMessage(
      { platform: 'discord', workspaceId: grantA.workspaceId, channelId: 'c1', topic: 'a', at: at(3) },
      90,
    );
    await h.store.updateSettings('discord', grantA.workspaceId, (s) => ({ ...s, retentionDays: 7 }));
    const c = await signIn(h, [grantA]);
    const { topicsPerDay } = (await (
      await c.get('/api/trends?platform=discord&workspace=guild-a')
    ).json()) as Trends;
    expect(topicsPerDay.series.a!.reduce((a, b) => a + b, 0)).toBe(1);
    expect(topicsPerDay.series.a!.at(-4)).toBe(1);
  });
});
