import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinCommunity } from '../emulators/discord/community.ts';
import {
  type DiscordE2E,
  e2eModelsPresent,
  MISSING_E2E_MODELS,
  neverFlag,
  startDiscordE2E,
} from '../emulators/discord/e2e.ts';
import { say, slash } from '../emulators/discord/events.ts';
import type { RawMessage } from '../emulators/discord/state.ts';

const present = e2eModelsPresent();
if (!present) console.warn(MISSING_E2E_MODELS);

let e2e: DiscordE2E;
beforeAll(async () => {
  if (present) e2e = await startDiscordE2E({ typingMaxMs: 10_000 });
}, 120_000);
afterAll(async () => {
  await e2e?.stop();
});

/** A fresh guild; its moderation never flags, so these reply tests do not depend on a model's toxicity scores. */
async function community() {
  const joined = joinCommunity(e2e.emulator);
  await e2e.emulator.waitFor('the guild in the client cache', () =>
    e2e.adapter.discord.guilds.cache.has(joined.guildId),
  );
  await e2e.stack.store.updateSettings('discord', joined.guildId, (s) => ({
    ...s,
    thresholds: neverFlag(e2e.engine),
  }));
  return joined;
}

/** The bot's reply to a message, once posted. */
function replyTo(message: RawMessage, timeoutMs = 60_000): Promise<RawMessage> {
  const bot = e2e.emulator.state.botUser.id;
  return e2e.emulator.waitFor(
    `a reply to ${message.id}`,
    () =>
      [...e2e.emulator.state.messages.values()].find(
        (m) =>
          m.author.id === bot &&
          (m.message_reference as { message_id?: string } | undefined)?.message_id === message.id,
      ),
    timeoutMs,
  );
}

describe.skipIf(!present)('Discord end to end: members and admins', () => {
  it('GIVEN a member mentions the bot WHEN the worker answers THEN a reply is posted as a reply to that message', async () => {
    const { emulator } = e2e;
    const { general, users } = await community();
    const bot = emulator.state.botUser;
    const question = say(emulator, {
      channelId: general,
      author: users.member,
      content: `<@${bot.id}> hi! how are you today?`,
      mentions: [bot.id],
    });
    const reply = await replyTo(question);
    expect(reply.content).toEqual(expect.stringMatching(/\S/));
    expect(String(reply.content).length).toBeLessThanOrEqual(2000);
    // The mention showed "typing…" while the worker wrote the answer (replies are on by default).
    expect(emulator.find('POST', new RegExp(`^/channels/${general}/typing$`)).length).toBeGreaterThanOrEqual(
      1,
    );
  }, 90_000);

  it('GIVEN a member without Manage Server WHEN they run /steward config replies off THEN refused privately, settings unchanged', async () => {
    const { emulator, stack } = e2e;
    const { guildId, general, users } = await community();
    const before = await stack.store.getSettings('discord', guildId);
    const interaction = slash(emulator, {
      user: users.moderator,
      channelId: general,
      group: 'config',
      sub: 'replies',
      options: [{ name: 'mode', type: 'string', value: 'off' }],
    });
    await emulator.waitFor('the refusal', () => interaction.callbacks[0]);
    expect(interaction.callbacks[0]).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(String(interaction.callbacks[0]?.data?.content)).toContain('Manage Server');
    expect(await stack.store.getSettings('discord', guildId)).toEqual(before);
  });

  it('GIVEN an admin adds a topic and sets replies to topics WHEN a member talks about it THEN the bot replies', async () => {
    const { emulator, stack } = e2e;
    const { guildId, general, users } = await community();
    const description = 'growing tomatoes and vegetables in the garden';
    for (const command of [
      {
        group: 'topics',
        sub: 'add',
        options: [
          { name: 'name', type: 'string' as const, value: 'gardening' },
          { name: 'description', type: 'string' as const, value: description },
        ],
      },
      {
        group: 'config',
        sub: 'replies',
        options: [{ name: 'mode', type: 'string' as const, value: 'topics' }],
      },
    ]) {
      const interaction = slash(emulator, { user: users.admin, channelId: general, ...command });
      await emulator.waitFor(
        'the answer',
        () => interaction.original && interaction.original.pending === false,
      );
    }
    expect(await stack.store.getSettings('discord', guildId)).toMatchObject({
      replyMode: 'topics',
      topics: [{ name: 'gardening', description }],
    });
    // No mention: only the topic can trigger this reply. The text is the description itself, so any encoder matches it.
    const onTopic = say(emulator, {
      channelId: general,
      author: users.member,
      content: `I love ${description}`,
    });
    await replyTo(onTopic);
  }, 90_000);

  it('GIVEN a 429 storm on the message route WHEN replies and tags go out THEN every action is delivered exactly once', async () => {
    const { emulator, stack } = e2e;
    const { guildId, general, users } = await community();
    await stack.store.updateSettings('discord', guildId, (s) => ({ ...s, sentimentTags: 'all' }));
    const messages = /^\/channels\/\d+\/messages$/;
    emulator.inject({ method: 'POST', path: messages, status: 429, times: 6, retryAfter: 0.25 });
    emulator.inject({ method: 'POST', path: messages, status: 429, times: 1, retryAfter: 2.5, global: true });
    emulator.inject({ method: 'PUT', path: /\/reactions\//, status: 429, times: 3, retryAfter: 0.25 });
    emulator.inject({ method: 'POST', path: messages, status: 503, times: 2 });
    const bot = emulator.state.botUser;
    const authors = [users.member, users.admin, users.moderator];
    const mentions = authors.flatMap((author, i) =>
      [0, 1].map((j) =>
        say(emulator, {
          channelId: general,
          author,
          content: `<@${bot.id}> question ${i}-${j}: what should I read next?`,
          mentions: [bot.id],
        }),
      ),
    );
    const outbound = 'outbound-discord';
    const tagged = (id: string) =>
      emulator.find('PUT', new RegExp(`/messages/${id}/reactions/`)).some((r) => r.status === 204);
    await emulator.waitFor(
      'every message tagged and both queues drained',
      async () => {
        if (!mentions.every((m) => tagged(m.id))) return false;
        const [inbound, out] = await Promise.all([
          stack.queue.counts('inbound'),
          stack.queue.counts(outbound),
        ]);
        return [inbound, out].every((c) => c.waiting + c.active + c.delayed === 0);
      },
      60_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const route = new RegExp(`^/channels/${general}/messages$`);
    const sent = emulator.requests.filter((r) => r.method === 'POST' && route.test(r.path));
    const attempted = new Set(sent.map((r) => String(r.body?.nonce)));
    const created = new Map<string, number>();
    for (const r of sent.filter((r) => r.status === 200)) {
      created.set(String(r.body?.nonce), (created.get(String(r.body?.nonce)) ?? 0) + 1);
    }
    expect(sent.some((r) => r.status === 429)).toBe(true);
    if (process.env.DEBUG_STORM)
      console.info(sent.map((r) => `${r.status}:${String(r.body?.nonce).slice(0, 6)}`).join(' '));
    expect(attempted.size).toBeGreaterThan(0);
    for (const nonce of attempted) expect(created.get(nonce), `nonce ${nonce}`).toBe(1);
    const botMessages = [...emulator.state.messages.values()].filter(
      (m) => m.author.id === bot.id && m.channel_id === general,
    );
    expect(botMessages).toHaveLength(attempted.size);
    // Every message got exactly one sentiment tag (reactions are idempotent on Discord, and claimed once here).
    for (const m of mentions) {
      const puts = emulator
        .find('PUT', new RegExp(`/messages/${m.id}/reactions/`))
        .filter((r) => r.status === 204);
      expect(puts, `reaction on ${m.id}`).toHaveLength(1);
    }
    expect((await stack.queue.counts(outbound)).failed).toBe(0);
  }, 90_000);
});
