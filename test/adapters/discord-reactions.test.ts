import { afterEach, describe, expect, it } from 'vitest';
import { say } from '../emulators/discord/events.ts';
import { startMemoryHarness } from '../emulators/discord/harness.ts';
import type { DiscordEmulator } from '../emulators/discord/server.ts';
import type { EmuUser } from '../emulators/discord/state.ts';
import { sleep } from '../queue/fixtures.ts';

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

/** A member adds a reaction: MESSAGE_REACTION_ADD as Discord's gateway sends it in a guild. */
function react(
  emulator: DiscordEmulator,
  input: { guildId: string; channelId: string; messageId: string; user: EmuUser; emoji: string },
) {
  const message = emulator.state.messages.get(input.messageId);
  const member = emulator.state.member(input.guildId, input.user.id);
  emulator.gateway.dispatch('MESSAGE_REACTION_ADD', {
    user_id: input.user.id,
    channel_id: input.channelId,
    message_id: input.messageId,
    guild_id: input.guildId,
    ...(member ? { member: emulator.state.memberPayload(input.guildId, member, false) } : {}),
    emoji: { id: null, name: input.emoji },
    message_author_id: message?.author.id,
    burst: false,
    type: 0,
  });
}

describe('Discord adapter: reactions', () => {
  it('GIVEN a member reacts to another member’s message (not cached) THEN one reaction job: the reactor as author, the message’s text', async () => {
    const harness = await startMemoryHarness();
    stop = harness.stop;
    const { emulator, community, inbound } = harness;
    const { guildId, general, users } = community;
    // Stored but never dispatched: discord.js must fetch it.
    const message = emulator.state.storeMessage({
      channelId: general,
      author: users.member,
      content: 'my glacier hiking photos from Iceland are up',
    });
    react(emulator, { guildId, channelId: general, messageId: message.id, user: users.admin, emoji: '👍' });
    await emulator.waitFor('the reaction job', () => inbound.length === 1 || undefined);
    expect(inbound[0]).toMatchObject({
      platform: 'discord',
      workspaceId: guildId,
      channelId: general,
      messageId: message.id,
      author: { id: users.admin.id, isBot: false },
      text: 'my glacier hiking photos from Iceland are up',
      mentionsBot: false,
      reaction: { emoji: '👍', authorId: users.member.id },
    });
    expect(emulator.find('GET', new RegExp(`/channels/${general}/messages/${message.id}$`)).length).toBe(1);
  });

  it('GIVEN reactions by a bot, to one’s own message, or to a bot’s message THEN nothing is queued', async () => {
    const harness = await startMemoryHarness();
    stop = harness.stop;
    const { emulator, community, inbound } = harness;
    const { guildId, general, users } = community;
    const own = say(emulator, {
      channelId: general,
      author: users.member,
      content: 'volcano trip next week',
    });
    await emulator.waitFor('the message job', () => inbound.length === 1 || undefined);
    const fromBot = say(emulator, { channelId: general, author: users.otherBot, content: 'daily digest' });
    react(emulator, { guildId, channelId: general, messageId: own.id, user: users.member, emoji: '🔥' });
    react(emulator, { guildId, channelId: general, messageId: own.id, user: users.otherBot, emoji: '🔥' });
    react(emulator, { guildId, channelId: general, messageId: fromBot.id, user: users.admin, emoji: '🔥' });
    // A valid one last, so the ignored ones have had their turn.
    react(emulator, { guildId, channelId: general, messageId: own.id, user: users.moderator, emoji: '🔥' });
    await emulator.waitFor('the valid reaction', () => inbound.length === 2 || undefined);
    await sleep(300);
    expect(inbound.map((m) => m.reaction?.authorId ?? null)).toEqual([null, users.member.id]);
    expect(inbound[1]!.author.id).toBe(users.moderator.id);
  });

  it('GIVEN a member floods reactions WHEN over the bucket THEN the excess is neither queued nor fetched, and their messages still get through', async () => {
    const harness = await startMemoryHarness({ rateLimit: { burst: 2, windowMs: 60_000 } });
    stop = harness.stop;
    const { emulator, community, inbound } = harness;
    const { guildId, general, users } = community;
    const posts = Array.from({ length: 5 }, (_, i) =>
      emulator.state.storeMessage({ channelId: general, author: users.member, content: `post number ${i}` }),
    );
    for (const post of posts)
      react(emulator, { guildId, channelId: general, messageId: post.id, user: users.admin, emoji: '🎉' });
    const own = say(emulator, { channelId: general, author: users.admin, content: 'still here' });
    await emulator.waitFor('the message', () => inbound.find((m) => m.messageId === own.id));
    await sleep(300);
    expect(
      inbound
        .filter((m) => m.reaction)
        .map((m) => m.text)
        .sort(),
    ).toEqual(['post number 0', 'post number 1']);
    expect(emulator.find('GET', new RegExp(`/channels/${general}/messages/\\d+$`)).length).toBe(2);
  });
});
