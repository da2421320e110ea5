import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flag, grantA, grantB, type Harness, signIn, startDashboard } from './fixtures.ts';

let h: Harness;
beforeEach(async () => {
  h = await startDashboard();
});
afterEach(async () => {
  await h.close();
});

describe('dashboard access', () => {
  it('GIVEN no session WHEN any /api/ route is asked THEN 401', async () => {
    for (const path of [
      '/api/session',
      '/api/flags?platform=discord&workspace=guild-a',
      '/api/settings',
      '/api/x',
    ]) {
      expect((await fetch(`${h.base}${path}`)).status, path).toBe(401);
    }
    const post = await fetch(`${h.base}/api/flags/x/actions`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(401);
  });

  it('answers /healthz and serves the page and its assets from this process (no CDN)', async () => {
    expect((await fetch(`${h.base}/healthz`)).status).toBe(200);
    const page = await (await fetch(`${h.base}/`)).text();
    expect(page).toContain('/assets/app.js');
    expect(page).not.toMatch(/https?:\/\//);
    expect((await fetch(`${h.base}/assets/app.js`)).status).toBe(200);
    expect((await fetch(`${h.base}/assets/app.css`)).status).toBe(200);
  });

  it('GIVEN a sign-in link WHEN used twice THEN the second use is refused; the cookie is HttpOnly, Secure, SameSite', async () => {
    const link = h.server.signInLink({ id: 'a', name: 'A' }, [grantA]);
    const first = await fetch(link, { redirect: 'manual' });
    expect(first.status).toBe(303);
    const setCookie = first.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/Secure/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const replay = await fetch(link, { redirect: 'manual' });
    expect(replay.status).toBe(403);
    expect(replay.headers.get('set-cookie')).toBeNull();
    expect((await fetch(`${h.base}/signin?token=made-up`, { redirect: 'manual' })).status).toBe(403);
  });

  it('GIVEN a forged session cookie THEN 401', async () => {
    const res = await fetch(`${h.base}/api/session`, { headers: { cookie: 'steward_session=forged-value' } });
    expect(res.status).toBe(401);
  });

  it('GIVEN a session WHEN a state change comes without the CSRF token, with a wrong one, or cross-origin THEN 403 and nothing changes', async () => {
    const f = flag();
    await h.store.recordFlag(f);
    const c = await signIn(h, [grantA]);
    const path = `/api/flags/${encodeURIComponent(f.id)}/actions`;
    const none = await fetch(`${h.base}${path}`, {
      method: 'POST',
      headers: { cookie: c.cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'dismiss' }),
    });
    expect(none.status).toBe(403);
    expect((await c.post(path, { action: 'dismiss' }, { 'x-csrf-token': 'wrong' })).status).toBe(403);
    expect((await c.post(path, { action: 'dismiss' }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await h.store.getFlag(f.id))?.status).toBe('open');
  });

  it('GIVEN a session for workspace A WHEN it reads or acts on workspace B THEN it is refused and B is untouched', async () => {
    const mine = flag();
    const theirs = flag({ workspaceId: 'guild-b', excerpt: 'secret of guild b' });
    const otherPlatform = flag({ platform: 'slack', workspaceId: 'guild-a' });
    for (const f of [mine, theirs, otherPlatform]) await h.store.recordFlag(f);
    const c = await signIn(h, [grantA]);

    expect((await c.get('/api/flags?platform=discord&workspace=guild-b')).status).toBe(403);
    expect((await c.get('/api/flags?platform=slack&workspace=guild-a')).status).toBe(403);
    expect((await c.get('/api/settings?platform=discord&workspace=guild-b')).status).toBe(403);
    const read = await c.get(`/api/flags/${encodeURIComponent(theirs.id)}`);
    expect(read.status).toBe(404);
    expect(await read.text()).not.toContain('secret');
    const acted = await c.post(`/api/flags/${encodeURIComponent(theirs.id)}/actions`, { action: 'dismiss' });
    expect(acted.status).toBe(404);
    expect(
      (await c.post(`/api/flags/${encodeURIComponent(otherPlatform.id)}/actions`, { action: 'delete' }))
        .status,
    ).toBe(404);
    const settings = await c.post('/api/settings', {
      platform: 'discord',
      workspace: 'guild-b',
      group: 'config',
      sub: 'mode',
      options: { mode: 'auto-hide' },
    });
    expect(settings.status).toBe(403);

    expect((await h.store.getFlag(theirs.id))?.status).toBe('open');
    expect((await h.store.getFlag(otherPlatform.id))?.status).toBe('open');
    expect((await h.store.getSettings('discord', 'guild-b')).moderationMode).toBe('suggest');
    expect(await h.queue.counts('outbound-slack')).toMatchObject({ waiting: 0 });

    const list = (await (await c.get('/api/flags?platform=discord&workspace=guild-a&status=all')).json()) as {
      flags: Array<{ id: string }>;
    };
    expect(list.flags.map((f) => f.id)).toEqual([mine.id]);
  });

  it('GIVEN a session granted A and B THEN it reads both', async () => {
    await h.store.recordFlag(flag({ workspaceId: 'guild-b' }));
    const c = await signIn(h, [grantA, grantB]);
    const res = await c.get('/api/flags?platform=discord&workspace=guild-b');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { flags: unknown[] }).flags).toHaveLength(1);
  });

  it('sign-out ends the session', async () => {
    const c = await signIn(h, [grantA]);
    expect((await c.post('/api/signout', {})).status).toBe(204);
    expect((await c.get('/api/session')).status).toBe(401);
  });
});
