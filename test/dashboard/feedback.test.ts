import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labelFeedback } from '../../dashboard/feedback.ts';
import type { FlagRecord } from '../../src/store/types.ts';
import { flag, grantA, type Harness, signIn, startDashboard } from './fixtures.ts';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const decided = (status: 'dismissed' | 'actioned', insult: number, daysAgo = 1): FlagRecord =>
  flag({
    status,
    flagged: ['insult'],
    scores: { insult },
    createdAt: NOW - daysAgo * 86_400_000,
    history: [{ at: NOW, actorId: 'mod', action: status === 'dismissed' ? 'dismiss' : 'delete' }],
  });

describe('feedback per label', () => {
  it('GIVEN dismissals dominate THEN it suggests the lowest acted-on score as the threshold', () => {
    const flags = [
      decided('dismissed', 0.55),
      decided('dismissed', 0.6),
      decided('dismissed', 0.62),
      decided('dismissed', 0.7),
      decided('actioned', 0.83),
      decided('actioned', 0.91),
    ];
    expect(labelFeedback(flags, NOW)).toEqual([
      { label: 'insult', dismissed: 4, actioned: 2, open: 0, suggestedThreshold: 0.83 },
    ]);
  });

  it('GIVEN nothing was acted on THEN it suggests just above the highest dismissed score', () => {
    const flags = [0.5, 0.52, 0.58, 0.6, 0.61].map((s) => decided('dismissed', s));
    expect(labelFeedback(flags, NOW)[0]?.suggestedThreshold).toBe(0.62);
  });

  it('GIVEN moderators mostly act, too few decisions, or old flags THEN no suggestion', () => {
    const acted = [0.6, 0.7, 0.8].map((s) => decided('actioned', s));
    expect(
      labelFeedback([...acted, decided('dismissed', 0.5), decided('dismissed', 0.55)], NOW)[0]
        ?.suggestedThreshold,
    ).toBeNull();
    expect(labelFeedback([decided('dismissed', 0.5)], NOW)[0]?.suggestedThreshold).toBeNull();
    const old = [0.5, 0.52, 0.58, 0.6, 0.61].map((s) => decided('dismissed', s, 40));
    expect(labelFeedback(old, NOW)).toEqual([]);
  });

  it('counts open alerts and auto-hides (Steward, not a moderator) as undecided', () => {
    const autoHidden = flag({
      status: 'actioned',
      flagged: ['insult'],
      createdAt: NOW - 1000,
      history: [{ at: NOW, actorId: 'steward', action: 'auto-hide' }],
    });
    expect(
      labelFeedback([autoHidden, flag({ flagged: ['insult'], createdAt: NOW - 1000 })], NOW)[0],
    ).toMatchObject({
      actioned: 0,
      open: 2,
    });
  });
});

describe('GET /api/feedback', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startDashboard();
  });
  afterEach(async () => {
    await h.close();
  });

  it('reports the workspace’s labels; the suggestion applies through the threshold command and can be undone', async () => {
    const now = Date.now();
    for (const s of [0.5, 0.52, 0.58, 0.6, 0.61]) {
      await h.store.recordFlag({ ...decided('dismissed', s), createdAt: now - 1000 });
    }
    const c = await signIn(h, [grantA]);
    const res = await c.get('/api/feedback?platform=discord&workspace=guild-a');
    const body = (await res.json()) as { labels: Array<{ label: string; suggestedThreshold: number }> };
    expect(body.labels).toEqual([
      expect.objectContaining({ label: 'insult', dismissed: 5, suggestedThreshold: 0.62 }),
    ]);
    const change = (value: string) =>
      c.post('/api/settings', {
        platform: 'discord',
        workspace: 'guild-a',
        group: 'config',
        sub: 'threshold',
        options: { label: 'insult', value },
      });
    expect((await change('0.62')).status).toBe(200);
    expect((await h.store.getSettings('discord', 'guild-a')).thresholds).toEqual({ insult: 0.62 });
    expect((await change('default')).status).toBe(200);
    expect((await h.store.getSettings('discord', 'guild-a')).thresholds).toEqual({});
    expect((await c.get('/api/feedback?platform=discord&workspace=guild-b')).status).toBe(403);
  });
});
