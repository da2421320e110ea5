import { afterEach, describe, expect, it } from 'vitest';
import { DiscordAdapter } from '../../adapters/discord/adapter.ts';
import { registerCommands } from '../../adapters/discord/commands.ts';
import { MemoryDriver } from '../../queue/memory.ts';
import { createLogger } from '../../src/logger.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { slash } from '../emulators/discord/events.ts';
import { fakeToken, startMemoryHarness } from '../emulators/discord/harness.ts';
import { DiscordEmulator } from '../emulators/discord/server.ts';
import { SettingsCache } from '../../src/store/settings-cache.ts';

let stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.reverse()) await stop();
  stops = [];
});

async function setup() {
  const harness = await startMemoryHarness();
  stops.push(harness.stop);
  return harness;
}

describe('Discord adapter: /steward slash commands', () => {
  it('GIVEN a member without Manage Server WHEN they run config replies off THEN an ephemeral refusal, settings unchanged', async () => {
    const { emulator, community, store } = await setup();
    const before = await store.getSettings('discord', community.guildId);
    const interaction = slash(emulator, {
      user: community.users.moderator,
      channelId: community.general,
      group: 'config',
      sub: 'replies',
      options: [{ name: 'mode', type: 'string', value: 'off' }],
    });
    await emulator.waitFor('the refusal', () => interaction.callbacks[0]);
    expect(interaction.callbacks[0]).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(interaction.callbacks[0]?.data?.content).toEqual(expect.stringMatching(/Manage Server/));
    expect(await store.getSettings('discord', community.guildId)).toEqual(before);
  });

  it('GIVEN an admin WHEN they add a topic and set replies THEN settings change and the answers are ephemeral', async () => {
    const { emulator, community, store } = await setup();
    const add = slash(emulator, {
      user: community.users.admin,
      channelId: community.general,
      group: 'topics',
      sub: 'add',
      options: [
        { name: 'name', type: 'string', value: 'gardening' },
        { name: 'description', type: 'string', value: 'growing vegetables, plants and flowers' },
      ],
    });
    await emulator.waitFor('the deferred answer', () => add.original && add.original.pending === false);
    expect(add.callbacks[0]).toMatchObject({ type: 5, data: { flags: 64 } });
    expect(add.callbacks[0]!.at - add.createdAt).toBeLessThan(3000);
    const channel = slash(emulator, {
      user: community.users.admin,
      channelId: community.general,
      group: 'config',
      sub: 'moderation-channel',
      options: [{ name: 'channel', type: 'channel', value: community.mod }],
    });
    await emulator.waitFor('the second answer', () => channel.original && channel.original.pending === false);
    const settings = await store.getSettings('discord', community.guildId);
    expect(settings.topics).toEqual([
      { name: 'gardening', description: 'growing vegetables, plants and flowers' },
    ]);
    expect(settings.moderationChannelId).toBe(community.mod);
  });

  it('GIVEN a bad argument WHEN an admin runs the command THEN the ephemeral answer says what to type instead', async () => {
    const { emulator, community, store } = await setup();
    const interaction = slash(emulator, {
      user: community.users.admin,
      channelId: community.general,
      group: 'topics',
      sub: 'add',
      options: [
        { name: 'name', type: 'string', value: 'bad name!' },
        { name: 'description', type: 'string', value: 'x' },
      ],
    });
    await emulator.waitFor(
      'the answer',
      () => interaction.original && interaction.original.pending === false,
    );
    // A string naming the bad value and the accepted form, not just any text (String(undefined) would pass /\S/).
    expect(interaction.original?.content).toEqual(
      expect.stringMatching(/"bad name!" is not a valid topic name \(letters, digits, - and _/),
    );
    expect((await store.getSettings('discord', community.guildId)).topics).toEqual([]);
  });

  it('GIVEN an admin WHEN they run /steward status THEN the queues are listed in an ephemeral embed', async () => {
    const { emulator, community } = await setup();
    const interaction = slash(emulator, {
      user: community.users.admin,
      channelId: community.general,
      sub: 'status',
    });
    await emulator.waitFor(
      'the answer',
      () => interaction.original && interaction.original.pending === false,
    );
    expect(interaction.callbacks[0]).toMatchObject({ type: 5, data: { flags: 64 } });
    expect(JSON.stringify(interaction.original)).toContain('outbound-discord');
  });

  it('GIVEN /steward is registered WHEN the adapter registers again THEN nothing is sent unless the definition changed', async () => {
    const { emulator, adapter, logger } = await setup();
    const rest = adapter.discord.rest;
    expect(await registerCommands(rest, emulator.applicationId, logger)).toBe('unchanged');
    const live = [...emulator.state.commands.values()][0]!;
    live.description = 'an older description';
    expect(await registerCommands(rest, emulator.applicationId, logger)).toBe('updated');
    expect(emulator.find('POST', /\/applications\/\d+\/commands$/)).toHaveLength(2);
    expect(emulator.state.commands.size).toBe(1);
  });

  it('GIVEN a wrong token WHEN the adapter starts THEN it fails with an error that does not contain the token', async () => {
    const token = fakeToken();
    const emulator = await new DiscordEmulator({ token }).start();
    stops.push(() => emulator.stop());
    const logger = createLogger({ level: 'silent' });
    const queue = new MemoryDriver({ logger });
    const store = new MemoryStore();
    const wrong = fakeToken();
    const adapter = new DiscordAdapter({
      token: wrong,
      apiUrl: emulator.apiUrl,
      queue,
      store,
      settings: new SettingsCache(store),
      logger,
    });
    const error = await adapter.start().then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.name).toBe('steward.lifecycle');
    expect(error?.message).toMatch(/Discord login failed/);
    expect(`${error?.message}${error?.stack}`).not.toContain(wrong);
    expect(emulator.requests.map((r) => r.auth)).toEqual(['bad']);
  });
});
