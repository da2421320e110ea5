import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Action } from '../../src/domain/action.ts';
import { flag, grantA, type Harness, signIn, startDashboard } from './fixtures.ts';

let h: Harness;
beforeEach(async () => {
  h = await startDashboard();
});
afterEach(async () => {
  await h.close();
});

type FlagView = {
  id: string;
  status: string;
  excerpt: string;
  scores: Record<string, number>;
  highlights: Record<string, Array<{ word: string; weight: number }>>;
  history: Array<{ actorId: string; actorName?: string; action: string }>;
};
const flagsOf = async (res: Response) => ((await res.json()) as { flags: FlagView[] }).flags;
const ws = 'platform=discord&workspace=guild-a';

describe('flags API', () => {
  it('lists each flag with every label score and the words behind each label, strongest weighted highest', async () => {
    const f = flag();
    await h.store.recordFlag(f);
    const c = await signIn(h, [grantA]);
    const [view] = await flagsOf(await c.get(`/api/flags?${ws}`));
    expect(view?.scores).toEqual({ offensive: 0.97, insult: 0.81, hate: 0.12 });
    expect(view?.highlights.offensive).toEqual([
      { word: 'idiot', weight: 1 },
      { word: 'moron', weight: 0.35 },
    ]);
    expect(view?.highlights.insult).toEqual([{ word: 'idiot', weight: 1 }]);
  });

  it('GIVEN a flag with the model’s attribution weights THEN the heat-map shows them; a rule reason falls back to its rank', async () => {
    const f = flag({
      reasons: { offensive: ['rule “moron”', 'idiot', 'moron'], insult: ['idiot'] },
      attributionWeights: {
        offensive: [
          { word: 'idiot', weight: 1 },
          { word: 'moron', weight: 0.12 },
        ],
        insult: [{ word: 'idiot', weight: 1 }],
      },
    });
    await h.store.recordFlag(f);
    const c = await signIn(h, [grantA]);
    const [view] = await flagsOf(await c.get(`/api/flags?${ws}`));
    expect(view?.highlights.offensive).toEqual([
      { word: 'rule “moron”', weight: 1 },
      { word: 'idiot', weight: 1 },
      { word: 'moron', weight: 0.12 },
    ]);
    expect(view?.highlights.insult).toEqual([{ word: 'idiot', weight: 1 }]);
  });

  it('filters by label, status, channel, member and date', async () => {
    const a = flag({ channelId: 'general', authorId: 'u-1', authorName: 'mallory', flagged: ['offensive'] });
    const b = flag({
      channelId: 'random',
      authorId: 'u-2',
      authorName: 'trent',
      flagged: ['hate'],
      createdAt: Date.parse('2026-11-25T12:00:00Z'),
    });
    const d = flag({ status: 'dismissed', createdAt: Date.parse('2026-11-26T12:00:00Z') });
    for (const f of [a, b, d]) await h.store.recordFlag(f);
    const c = await signIn(h, [grantA]);
    const ids = async (q: string) =>
      (await flagsOf(await c.get(`/api/flags?${ws}&${q}`))).map((f) => f.id).sort();
    expect(await ids('label=hate')).toEqual([b.id]);
    expect(await ids('status=dismissed')).toEqual([d.id]);
    expect(await ids('status=open')).toEqual([a.id, b.id].sort());
    expect(await ids('channel=general')).toEqual([a.id]);
    expect(await ids('member=trent')).toEqual([b.id]);
    expect(await ids('member=u-1&status=open')).toEqual([a.id]);
    expect(await ids('from=2026-11-25&to=2026-11-25')).toEqual([b.id]);
    expect(await ids('from=2026-11-21')).toEqual([b.id, d.id].sort());
    expect((await c.get(`/api/flags?${ws}&from=yesterday`)).status).toBe(400);
    expect((await c.get(`/api/flags?${ws}&status=bogus`)).status).toBe(400);
  });

  it('returns script-bearing and oversized text as JSON data, byte for byte, never as markup', async () => {
    const nasty = `<script>alert(1)</script><img src=x onerror=alert(2)> ${'x'.repeat(39_000)}`;
    const f = flag({ excerpt: nasty });
    await h.store.recordFlag(f);
    const c = await signIn(h, [grantA]);
    const res = await c.get(`/api/flags/${encodeURIComponent(f.id)}`);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(((await res.json()) as { flag: FlagView }).flag.excerpt).toBe(nasty);
  });
});

describe('moderator actions from the dashboard', () => {
  it('dismiss records who did it in the flag log', async () => {
    const f = flag();
    await h.store.recordFlag(f);
    const c = await signIn(h, [grantA], { id: 'mod-7', name: 'Alice' });
    const res = await c.post(`/api/flags/${encodeURIComponent(f.id)}/actions`, { action: 'dismiss' });
    expect(res.status).toBe(200);
    const stored = await h.store.getFlag(f.id);
    expect(stored?.status).toBe('dismissed');
    expect(stored?.history.at(-1)).toMatchObject({ actorId: 'mod-7', actorName: 'Alice', action: 'dismiss' });
  });

  it('delete goes through the outbound queue as the platform adapter consumes it, and is logged', async () => {
    const f = flag();
    await h.store.recordFlag(f);
    const delivered: Action[] = [];
    const consumer = await h.queue.consumeOutbound('discord', async (a) => void delivered.push(a), {
      concurrency: 1,
    });
    const c = await signIn(h, [grantA], { id: 'mod-7', name: 'Alice' });
    const res = await c.post(`/api/flags/${encodeURIComponent(f.id)}/actions`, { action: 'delete' });
    expect(res.status).toBe(200);
    for (let i = 0; i < 50 && delivered.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    await consumer.close();
    // The delete itself, then the update of the chat alert that says who did it.
    expect(delivered).toEqual([
      expect.objectContaining({
        kind: 'hide',
        flagId: f.id,
        target: expect.objectContaining({ channelId: f.channelId, messageId: f.messageId }),
      }),
      expect.objectContaining({
        kind: 'alert-update',
        flagId: f.id,
        done: 'delete',
        actorName: 'Alice',
        settled: true,
      }),
    ]);
    const stored = await h.store.getFlag(f.id);
    expect(stored?.status).toBe('actioned');
    expect(stored?.history.at(-1)).toMatchObject({ actorId: 'mod-7', action: 'delete' });
  });

  it('GIVEN two moderators acting on one flag at once THEN the first wins and the second is told who was faster', async () => {
    const f = flag();
    await h.store.recordFlag(f);
    const alice = await signIn(h, [grantA], { id: 'mod-a', name: 'Alice' });
    const bob = await signIn(h, [grantA], { id: 'mod-b', name: 'Bob' });
    const path = `/api/flags/${encodeURIComponent(f.id)}/actions`;
    const [ra, rb] = await Promise.all([
      alice.post(path, { action: 'dismiss' }),
      bob.post(path, { action: 'delete' }),
    ]);
    const statuses = [ra.status, rb.status].sort();
    expect(statuses).toEqual([200, 409]);
    const loser = ra.status === 409 ? ra : rb;
    const winner = ra.status === 409 ? 'Bob' : 'Alice';
    const body = (await loser.json()) as { error: string };
    expect(body.error).toContain(`by ${winner}`);
    const stored = await h.store.getFlag(f.id);
    expect(stored?.history.filter((e) => e.actorId.startsWith('mod-'))).toHaveLength(1);
    // The loser's delete must not have reached the platform either.
    // (Only the alert update for Alice's dismissal is waiting.)
    if (winner === 'Alice') expect((await h.queue.counts('outbound-discord')).waiting).toBe(1);
  });

  it('a timeout may follow a delete but not a dismissal (the shared moderation-action rules)', async () => {
    const deleted = flag();
    const dismissed = flag();
    await h.store.recordFlag(deleted);
    await h.store.recordFlag(dismissed);
    const c = await signIn(h, [grantA]);
    const act = (f: { id: string }, action: string) =>
      c.post(`/api/flags/${encodeURIComponent(f.id)}/actions`, { action });
    expect((await act(deleted, 'delete')).status).toBe(200);
    expect((await act(deleted, 'timeout')).status).toBe(200);
    expect((await h.store.getFlag(deleted.id))?.history.map((e) => e.action).slice(-2)).toEqual([
      'delete',
      'timeout',
    ]);
    expect((await act(dismissed, 'dismiss')).status).toBe(200);
    expect((await act(dismissed, 'timeout')).status).toBe(409);
    expect((await act(dismissed, 'warn')).status).toBe(400); // Slack's action, not Discord's
  });

  it('refuses unknown actions', async () => {
    const f = flag();
    await h.store.recordFlag(f);
    const c = await signIn(h, [grantA]);
    expect((await c.post(`/api/flags/${encodeURIComponent(f.id)}/actions`, { action: 'ban' })).status).toBe(
      400,
    );
    expect((await h.store.getFlag(f.id))?.status).toBe('open');
  });
});
