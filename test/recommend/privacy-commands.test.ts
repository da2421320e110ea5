import { describe, expect, it } from 'vitest';
import { executeCommand } from '../../src/commands/run.ts';
import { foldMessage } from '../../src/domain/profile.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { EXPIRED } from '../../src/store/members.ts';
import { flag } from '../store/contract.ts';

const member = { id: 'u1', name: 'Una', isAdmin: false };
const admin = { id: 'a1', name: 'Ada', isAdmin: true };

async function setup() {
  const store = new MemoryStore();
  await store.start();
  const run = (text: string, actor = member) =>
    executeCommand(text, { platform: 'discord', workspaceId: 'g1', actor, store });
  return { store, run };
}

describe('/steward recommend and privacy', () => {
  it('GIVEN a member with stored recommendations THEN recommend shows items and channels with the reason, privately', async () => {
    const { store, run } = await setup();
    expect((await run('recommend')).text).toMatch(/does not know your interests yet/);
    const profile = foldMessage(
      null,
      { platform: 'discord', workspaceId: 'g1', userId: 'u1' },
      [1],
      ['hockey'],
      0,
    );
    const why = 'you talked about hockey';
    profile.recommendations = {
      at: 1,
      items: [
        {
          id: 'nhl',
          title: 'NHL tonight',
          kind: 'event',
          score: 0.8,
          why,
          matched: { profile: ['hockey'], request: [] },
        },
        {
          id: 'c',
          title: '#hockey',
          kind: 'channel',
          score: 0.7,
          why,
          matched: { profile: ['hockey'], request: [] },
        },
      ],
    };
    await store.putProfile(profile);
    const reply = await run('recommend');
    expect(reply).toMatchObject({ ok: true, ephemeral: true });
    expect(reply.fields?.map((f) => f.name)).toEqual(['For you', 'Channels']);
    expect(reply.text).toContain('*NHL tonight* — you talked about hockey');
  });

  it('GIVEN opt-out THEN the profile is gone, none is written, and opt-in allows it again', async () => {
    const { store, run } = await setup();
    const who = { platform: 'discord' as const, workspaceId: 'g1', userId: 'u1' };
    await store.putProfile(foldMessage(null, who, [1], ['x'], 0));
    expect((await run('privacy opt-out')).text).toMatch(/opted out/);
    expect(await store.getProfile('discord', 'g1', 'u1')).toBeNull();
    expect(await store.putProfile(foldMessage(null, who, [1], ['x'], 0))).toBe(false);
    expect((await run('recommend')).text).toMatch(/You opted out/);
    await run('privacy opt-in');
    expect(await store.putProfile(foldMessage(null, who, [1], ['x'], 0))).toBe(true);
  });

  it('GIVEN config retention THEN only admins may set it, and older excerpts are blanked at once', async () => {
    const { store, run } = await setup();
    expect((await run('config retention 30')).ok).toBe(false);
    expect((await run('config retention soon', admin)).text).toMatch(/not a number of days/);
    await store.recordFlag(flag('old', { workspaceId: 'g1', createdAt: Date.now() - 40 * 86_400_000 }));
    const reply = await run('config retention 30', admin);
    expect(reply.text).toMatch(/older than 30 days.*1 excerpt/);
    expect((await store.getFlag('old'))?.excerpt).toBe(EXPIRED);
    expect((await store.getSettings('discord', 'g1')).retentionDays).toBe(30);
    expect((await run('config show', admin)).text).toContain('retention: 30 days');
    await run('config retention off', admin);
    expect((await store.getSettings('discord', 'g1')).retentionDays).toBeNull();
  });

  it('GIVEN the structured (Discord) form THEN privacy forget-me parses and runs too', async () => {
    const { run: _run, store } = await setup();
    const reply = await executeCommand(
      { group: 'privacy', sub: 'forget-me' },
      { platform: 'discord', workspaceId: 'g1', actor: member, store },
    );
    expect(reply).toMatchObject({ ok: true, title: 'Forgotten' });
    expect(await store.isOptedOut('discord', 'g1', 'u1')).toBe(true);
  });
});
