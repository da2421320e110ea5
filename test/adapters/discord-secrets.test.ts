import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DiscordAdapter } from '../../adapters/discord/adapter.ts';
import { MemoryDriver } from '../../queue/memory.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { click, say, slash } from '../emulators/discord/events.ts';
import { fakeToken } from '../emulators/discord/harness.ts';
import { seedCommunity } from '../emulators/discord/community.ts';
import { DiscordEmulator } from '../emulators/discord/server.ts';
import { SettingsCache } from '../../src/store/settings-cache.ts';

let stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.reverse()) await stop();
  stops = [];
});

describe('Discord adapter: secrets', () => {
  it('GIVEN trace logging WHEN the bot logs in, handles messages, commands and clicks THEN no line contains a token', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'trace' },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const token = fakeToken();
    const emulator = await new DiscordEmulator({ token }).start();
    stops.push(() => emulator.stop());
    const community = seedCommunity(emulator);
    const queue = new MemoryDriver({ logger });
    const store = new MemoryStore();
    await queue.start();
    await store.start();
    stops.push(
      () => store.stop(),
      () => queue.stop(),
    );
    await queue.consumeInbound(async () => {}, { concurrency: 1 });
    const adapter = new DiscordAdapter({
      token,
      apiUrl: emulator.apiUrl,
      queue,
      store,
      settings: new SettingsCache(store),
      logger,
    });
    await adapter.start();
    stops.push(() => adapter.stop());

    const bot = emulator.state.botUser;
    say(emulator, {
      channelId: community.general,
      author: community.users.member,
      content: `<@${bot.id}> hi`,
      mentions: [bot.id],
    });
    // A 429 makes discord.js's REST debug quote the callback URL, which carries the interaction token.
    emulator.inject({ method: 'POST', path: /^\/interactions\//, status: 429, times: 1, retryAfter: 0.1 });
    const command = slash(emulator, {
      user: community.users.admin,
      channelId: community.general,
      sub: 'help',
    });
    await emulator.waitFor(
      'the command answer',
      () => command.original && command.original.pending === false,
    );
    const alert = emulator.state.storeMessage({ channelId: community.mod, author: bot, content: 'alert' });
    const clicked = click(emulator, {
      user: community.users.moderator,
      messageId: alert.id,
      customId: 'steward:delete:flag:x',
    });
    await emulator.waitFor('the click answer', () => clicked.callbacks[0] ?? clicked.followups[0]);
    await adapter.stop();

    expect(lines.length).toBeGreaterThan(20);
    expect(lines.some((l) => l.includes('/interactions/') && l.includes('[redacted]'))).toBe(true);
    const all = lines.join('');
    expect(all).not.toContain(token);
    for (const secret of [command.token, clicked.token]) expect(all).not.toContain(secret);
  });
});
