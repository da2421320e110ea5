import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { grantA, type Harness, signIn, startDashboard } from './fixtures.ts';

let h: Harness;
beforeEach(async () => {
  h = await startDashboard();
});
afterEach(async () => {
  await h.close();
});

const change = (sub: string, options: Record<string, string>, group = 'config') => ({
  platform: 'discord',
  workspace: 'guild-a',
  group,
  sub,
  options,
});

describe('settings from the dashboard go through the slash-command code', () => {
  it('an admin changes mode, threshold and topics; the store holds them', async () => {
    const c = await signIn(h, [grantA]);
    expect((await c.post('/api/settings', change('mode', { mode: 'auto-hide' }))).status).toBe(200);
    expect(
      (await c.post('/api/settings', change('threshold', { label: 'insult', value: '0.4' }))).status,
    ).toBe(200);
    const topic = await c.post(
      '/api/settings',
      change('add', { name: 'movies', description: 'Films' }, 'topics'),
    );
    expect(((await topic.json()) as { text: string }).text).toBe('Added topic `movies`: Films');
    const s = await h.store.getSettings('discord', 'guild-a');
    expect(s.moderationMode).toBe('auto-hide');
    expect(s.thresholds).toEqual({ insult: 0.4 });
    expect(s.topics).toEqual([{ name: 'movies', description: 'Films' }]);
  });

  it('bad values get the commands’ own refusal and change nothing', async () => {
    const c = await signIn(h, [grantA]);
    const res = await c.post('/api/settings', change('threshold', { label: 'insult', value: '7' }));
    expect(res.status).toBe(400);
    const unknownLabel = await c.post('/api/settings', change('threshold', { label: 'spam', value: '0.5' }));
    expect(((await unknownLabel.json()) as { text: string }).text).toContain('is not a moderation label');
    expect((await c.post('/api/settings', change('mode', { mode: 'nuke' }))).status).toBe(400);
    expect((await c.post('/api/settings', { ...change('status', {}), group: null })).status).toBe(400);
    expect((await h.store.getSettings('discord', 'guild-a')).version).toBe(0);
  });

  it('a member without the admin permission is refused, like the slash command refuses them', async () => {
    const c = await signIn(h, [{ ...grantA, isAdmin: false }]);
    const res = await c.post('/api/settings', change('mode', { mode: 'auto-hide' }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { text: string }).text).toContain('Only members with Manage Server');
    expect((await h.store.getSettings('discord', 'guild-a')).moderationMode).toBe('suggest');
  });
});
