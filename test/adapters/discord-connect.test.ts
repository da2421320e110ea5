import { afterEach, describe, expect, it } from 'vitest';
import { say } from '../emulators/discord/events.ts';
import { startMemoryHarness } from '../emulators/discord/harness.ts';

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

async function setup(tuning = {}) {
  const harness = await startMemoryHarness(tuning);
  stop = harness.stop;
  return harness;
}

describe('Discord adapter: connecting and inbound messages', () => {
  it('GIVEN the real discord.js client WHEN it starts THEN it identifies with the five intents and registers /steward', async () => {
    const { emulator } = await setup();
    const identify = emulator.gateway.received.find((p) => p.op === 2);
    // Guilds | GuildMessages | GuildMessageReactions | DirectMessages | MessageContent
    expect((identify!.d as { intents: number }).intents).toBe(1 | 512 | 1024 | 4096 | 32768);
    expect(emulator.find('POST', /\/applications\/\d+\/commands$/)).toHaveLength(1);
    expect(emulator.requests.every((r) => r.auth !== 'bad')).toBe(true);
  });

  it('GIVEN a started adapter WHEN started again THEN a clear error; stop is idempotent', async () => {
    const { adapter } = await setup();
    await expect(adapter.start()).rejects.toThrow(/cannot start: it is started/);
    await Promise.all([adapter.stop(), adapter.stop()]);
    await expect(adapter.start()).rejects.toThrow(/cannot start: it is stopped/);
  });

  it('GIVEN a member replies to the bot with a mention WHEN it arrives THEN one job with mentionsBot and the chain, oldest first', async () => {
    const { emulator, community, inbound } = await setup();
    const bot = emulator.state.botUser;
    const first = say(emulator, {
      channelId: community.general,
      author: community.users.member,
      content: 'hello all',
    });
    const second = emulator.state.storeMessage({
      channelId: community.general,
      author: bot,
      content: 'hi there',
      replyTo: first.id,
    });
    const third = say(emulator, {
      channelId: community.general,
      author: community.users.member,
      content: `<@${bot.id}> what is new?`,
      mentions: [bot.id],
      replyTo: second.id,
    });
    await emulator.waitFor('the mention job', () => inbound.find((m) => m.messageId === third.id));
    const job = inbound.find((m) => m.messageId === third.id)!;
    expect(job).toMatchObject({
      platform: 'discord',
      workspaceId: community.guildId,
      channelId: community.general,
      text: 'what is new?',
      mentionsBot: true,
      direct: false,
    });
    expect(job.context.map((t) => [t.text, t.fromBot])).toEqual([
      ['hello all', false],
      ['hi there', true],
    ]);
  });

  it("GIVEN a member mentions the bot's own role WHEN it arrives THEN it counts as a mention and the role is stripped", async () => {
    const { emulator, community, inbound } = await setup();
    const message = say(emulator, {
      channelId: community.general,
      author: community.users.member,
      content: `<@&${community.roles.bot}> are you there?`,
      mentionRoles: [community.roles.bot],
    });
    const job = await emulator.waitFor('the job', () => inbound.find((m) => m.messageId === message.id));
    expect(job).toMatchObject({ mentionsBot: true, text: 'are you there?' });
  });

  it('GIVEN other bots, the bot itself and a thread WHEN messages arrive THEN bots are ignored and the thread is kept', async () => {
    const { emulator, community, inbound } = await setup();
    say(emulator, { channelId: community.general, author: community.users.otherBot, content: 'beep' });
    say(emulator, { channelId: community.general, author: emulator.state.botUser, content: 'my own words' });
    const inThread = say(emulator, {
      channelId: community.thread,
      author: community.users.admin,
      content: 'in a thread',
    });
    await emulator.waitFor('the thread message', () => inbound.find((m) => m.messageId === inThread.id));
    expect(inbound).toHaveLength(1);
    expect(inbound[0]).toMatchObject({ channelId: community.general, threadId: community.thread });
  });

  it('GIVEN a DM WHEN it arrives THEN it is a direct message of the dm workspace', async () => {
    const { emulator, community, inbound } = await setup();
    const dm = say(emulator, { channelId: community.dm, author: community.users.member, content: 'psst' });
    const job = await emulator.waitFor('the DM job', () => inbound.find((m) => m.messageId === dm.id));
    expect(job).toMatchObject({ direct: true, workspaceId: 'dm', channelId: community.dm, text: 'psst' });
  });

  it('GIVEN a user floods WHEN over the per-user bucket THEN the excess is not queued, other users are unaffected', async () => {
    const { emulator, community, inbound } = await setup({ rateLimit: { burst: 3, windowMs: 60_000 } });
    for (let i = 0; i < 6; i++) {
      say(emulator, { channelId: community.general, author: community.users.member, content: `spam ${i}` });
    }
    const other = say(emulator, {
      channelId: community.general,
      author: community.users.admin,
      content: 'calm',
    });
    await emulator.waitFor('the other user', () => inbound.find((m) => m.messageId === other.id));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(inbound.filter((m) => m.author.id === community.users.member.id).map((m) => m.text)).toEqual([
      'spam 0',
      'spam 1',
      'spam 2',
    ]);
  });

  it('GIVEN a mention WHEN it is queued THEN a typing indicator is sent to the channel', async () => {
    const { emulator, community } = await setup({ typingMaxMs: 5_000 });
    const bot = emulator.state.botUser;
    say(emulator, {
      channelId: community.general,
      author: community.users.member,
      content: `<@${bot.id}> hi`,
      mentions: [bot.id],
    });
    await emulator.waitFor(
      'typing',
      () => emulator.find('POST', new RegExp(`/channels/${community.general}/typing$`)).length > 0,
    );
  });
});
