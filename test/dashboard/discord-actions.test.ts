import { afterEach, describe, expect, it } from 'vitest';
import { DashboardServer } from '../../dashboard/server.ts';
import { startMemoryHarness } from '../emulators/discord/harness.ts';
import { flag, signIn } from './fixtures.ts';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

describe('moderator actions from the dashboard reach Discord', () => {
  it('reaches Discord (the emulator) through the outbound queue the real adapter consumes, once', async () => {
    const hx = await startMemoryHarness();
    stops.push(() => hx.stop());
    const server = new DashboardServer({
      store: hx.store,
      queue: hx.queue,
      logger: hx.logger,
      port: 0,
      host: '127.0.0.1',
    });
    await server.start();
    stops.push(() => server.stop());
    const { community, emulator } = hx;
    const message = emulator.state.storeMessage({
      channelId: community.general,
      author: community.users.member,
      content: 'you absolute idiot',
    });
    const f = flag({
      workspaceId: community.guildId,
      channelId: community.general,
      messageId: message.id,
      authorId: community.users.member.id,
      excerpt: 'you absolute idiot',
    });
    await hx.store.recordFlag(f);
    const grant = { platform: 'discord' as const, workspaceId: community.guildId, name: 'g', isAdmin: true };
    const h = { server, base: server.url.replace(/\/$/, '') } as Parameters<typeof signIn>[0];
    const c = await signIn(h, [grant], { id: community.users.moderator.id, name: 'mod' });

    const res = await c.post(`/api/flags/${encodeURIComponent(f.id)}/actions`, { action: 'delete' });
    expect(res.status).toBe(200);
    await emulator.waitFor('the message deleted', () => emulator.state.deleted.has(message.id), 10_000);
    expect(emulator.find('DELETE', new RegExp(`/messages/${message.id}$`))).toHaveLength(1);
    const stored = await hx.store.getFlag(f.id);
    expect(stored?.status).toBe('actioned');
    expect(stored?.history.at(-1)).toMatchObject({ actorId: community.users.moderator.id, action: 'delete' });

    // A second press is told, and Discord sees no second DELETE.
    expect(
      (await c.post(`/api/flags/${encodeURIComponent(f.id)}/actions`, { action: 'delete' })).status,
    ).toBe(409);
    expect(emulator.find('DELETE', new RegExp(`/messages/${message.id}$`))).toHaveLength(1);
  });

  it('Timeout times the author out on Discord (emulator); Warn is refused there', async () => {
    const hx = await startMemoryHarness();
    stops.push(() => hx.stop());
    const server = new DashboardServer({
      store: hx.store,
      queue: hx.queue,
      logger: hx.logger,
      port: 0,
      host: '127.0.0.1',
    });
    await server.start();
    stops.push(() => server.stop());
    const { community, emulator } = hx;
    const f = flag({
      workspaceId: community.guildId,
      channelId: community.general,
      authorId: community.users.member.id,
    });
    const g = flag({
      workspaceId: community.guildId,
      channelId: community.general,
      authorId: community.users.member.id,
    });
    await hx.store.recordFlag(f);
    await hx.store.recordFlag(g);
    const grant = { platform: 'discord' as const, workspaceId: community.guildId, name: 'g', isAdmin: true };
    const h = { server, base: server.url.replace(/\/$/, '') } as Parameters<typeof signIn>[0];
    const c = await signIn(h, [grant], { id: community.users.moderator.id, name: 'mod' });

    expect((await c.post(`/api/flags/${encodeURIComponent(g.id)}/actions`, { action: 'warn' })).status).toBe(
      400,
    );
    expect((await hx.store.getFlag(g.id))?.status).toBe('open');

    const before = Date.now();
    expect(
      (await c.post(`/api/flags/${encodeURIComponent(f.id)}/actions`, { action: 'timeout' })).status,
    ).toBe(200);
    const until = await emulator.waitFor(
      'the member timed out',
      () =>
        emulator.state.member(community.guildId, community.users.member.id)?.communicationDisabledUntil ??
        undefined,
      10_000,
    );
    expect(Date.parse(until) - before).toBeGreaterThanOrEqual(9 * 60_000);
    expect((await hx.store.getFlag(f.id))?.history.at(-1)).toMatchObject({
      action: 'timeout',
      actorName: 'mod',
    });
  });
});
