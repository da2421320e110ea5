import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNELS, createSlackHarness, type SlackHarness, USERS } from '../emulators/slack/harness.ts';
import { sleep, waitFor } from '../queue/fixtures.ts';

/** `reaction_added` as Slack sends it for a reaction to a message. */
function reactionEvent(input: {
  user: string;
  emoji: string;
  channel: string;
  ts: string;
  itemUser?: string;
}) {
  return {
    type: 'reaction_added',
    user: input.user,
    reaction: input.emoji,
    ...(input.itemUser ? { item_user: input.itemUser } : {}),
    item: { type: 'message', channel: input.channel, ts: input.ts },
    event_ts: `${Math.floor(Date.now() / 1000)}.000200`,
  };
}

// Signed reaction_added events into the real Bolt receiver; no worker, so the queued jobs are what is checked.
describe('Slack reactions into the Bolt receiver', () => {
  let h: SlackHarness;

  beforeAll(async () => {
    h = await createSlackHarness({ withWorker: false });
  });
  afterAll(() => h?.cleanup());

  const reactions = () => h.enqueues.filter((e) => e.message.reaction !== undefined);

  it('GIVEN a member reacts to another member’s message, top level and in a thread THEN a reaction job each: the reactor as author, the message’s text', async () => {
    const { message: top } = h.sender.say({
      channel: CHANNELS.general,
      user: USERS.member,
      text: 'glacier hiking in Iceland was the best trip',
    });
    const { message: reply } = h.sender.say({
      channel: CHANNELS.general,
      user: USERS.member,
      text: 'the volcano crater walk too',
      threadTs: top.ts,
    });
    for (const ts of [top.ts, reply.ts]) {
      const response = await h.sender.event(
        reactionEvent({
          user: USERS.helper,
          emoji: 'heart',
          channel: CHANNELS.general,
          ts,
          itemUser: USERS.member,
        }),
      );
      expect(response.status).toBe(200);
    }
    await waitFor(() => reactions().length === 2, 10_000, 'two reaction jobs');
    const [first, second] = reactions().map((e) => e.message);
    expect(first).toMatchObject({
      platform: 'slack',
      workspaceId: h.teamId,
      channelId: CHANNELS.general,
      messageId: top.ts,
      author: { id: USERS.helper, name: 'hal' },
      text: 'glacier hiking in Iceland was the best trip',
      mentionsBot: false,
      reaction: { emoji: 'heart', authorId: USERS.member },
    });
    expect(first!.threadId).toBeUndefined();
    expect(second).toMatchObject({
      messageId: reply.ts,
      threadId: top.ts,
      text: 'the volcano crater walk too',
    });
  });

  it('GIVEN reactions to one’s own message, by the bot, or to a bot’s message THEN only the valid one after them is queued', async () => {
    const before = reactions().length;
    const { message } = h.sender.say({ channel: CHANNELS.general, user: USERS.member, text: 'my own post' });
    const ws = h.emulator.workspace;
    const fromBot = ws.addMessage({
      channel: CHANNELS.general,
      botId: ws.bot.botId,
      user: ws.bot.userId,
      text: 'digest',
    });
    const send = (user: string, ts: string, itemUser: string) =>
      h.sender.event(reactionEvent({ user, emoji: 'eyes', channel: CHANNELS.general, ts, itemUser }));
    await send(USERS.member, message.ts, USERS.member);
    await send(ws.bot.userId, message.ts, USERS.member);
    await send(USERS.helper, fromBot.ts, ws.bot.userId);
    // A valid one last, so the ignored ones have had their turn.
    await send(USERS.admin, message.ts, USERS.member);
    await waitFor(() => reactions().length === before + 1, 10_000, 'the valid reaction');
    await sleep(300);
    expect(
      reactions()
        .slice(before)
        .map((e) => e.message.author.id),
    ).toEqual([USERS.admin]);
  });
});
