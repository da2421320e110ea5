import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flagIdOf } from '../../src/domain/decide.ts';
import { InboundMessageSchema } from '../../src/domain/message.ts';
import { joinCommunity } from '../emulators/discord/community.ts';
import {
  type DiscordE2E,
  e2eModelsPresent,
  MISSING_E2E_MODELS,
  pickToxic,
  startDiscordE2E,
} from '../emulators/discord/e2e.ts';
import { click, say, slash } from '../emulators/discord/events.ts';
import type { InteractionRecord } from '../emulators/discord/rest.ts';
import type { DiscordEmulator } from '../emulators/discord/server.ts';

const present = e2eModelsPresent();
if (!present) console.warn(MISSING_E2E_MODELS);

let e2e: DiscordE2E;
beforeAll(async () => {
  if (present) e2e = await startDiscordE2E();
}, 120_000);
afterAll(async () => {
  await e2e?.stop();
});

const answered = (emulator: DiscordEmulator, interaction: InteractionRecord) =>
  emulator.waitFor(
    'the command answer',
    () => interaction.original && interaction.original.pending === false,
    10_000,
  );

describe.skipIf(!present)('Discord end to end: moderation', () => {
  it('GIVEN a moderation channel WHEN a member posts a toxic message THEN an alert with reasons and buttons; only a moderator can delete', async () => {
    const { emulator, adapter, stack, engine } = e2e;
    const community = joinCommunity(emulator);
    await emulator.waitFor('the guild in the client cache', () =>
      adapter.discord.guilds.cache.has(community.guildId),
    );
    const { admin, moderator, member } = community.users;

    // Pick the insult this model scores highest, and set the threshold of its label just under that score.
    const toxic = await pickToxic(engine);
    const threshold = Math.max(0.01, Math.floor(toxic.score * 90) / 100);
    const setChannel = slash(emulator, {
      user: admin,
      channelId: community.general,
      group: 'config',
      sub: 'moderation-channel',
      options: [{ name: 'channel', type: 'channel', value: community.mod }],
    });
    await answered(emulator, setChannel);
    const setThreshold = slash(emulator, {
      user: admin,
      channelId: community.general,
      group: 'config',
      sub: 'threshold',
      options: [
        { name: 'label', type: 'string', value: toxic.label },
        { name: 'value', type: 'number', value: threshold },
      ],
    });
    await answered(emulator, setThreshold);
    const settings = await stack.store.getSettings('discord', community.guildId);
    expect(settings).toMatchObject({
      moderationChannelId: community.mod,
      thresholds: { [toxic.label]: threshold },
    });

    const bad = say(emulator, { channelId: community.general, author: member, content: toxic.text });
    const flagId = flagIdOf(
      InboundMessageSchema.parse({
        platform: 'discord',
        workspaceId: community.guildId,
        channelId: community.general,
        messageId: bad.id,
        author: { id: member.id, name: member.username },
        text: toxic.text,
        mentionsBot: false,
        timestamp: Date.now(),
      }),
    );
    const alert = await emulator.waitFor(
      'the alert in the moderation channel',
      () => [...emulator.state.messages.values()].find((m) => m.channel_id === community.mod),
      60_000,
    );
    const embed = (
      alert.embeds as Array<{ title: string; url: string; fields: Array<{ name: string; value: string }> }>
    )[0]!;
    expect(embed.title).toContain(toxic.label);
    expect(embed.url).toContain(`/${community.general}/${bad.id}`);
    expect(embed.fields.find((f) => f.name === 'Scores')?.value).toContain(`**${toxic.label}:`);
    expect(embed.fields.find((f) => f.name === 'Why')?.value).toMatch(new RegExp(`^${toxic.label}: `, 'm'));
    expect(embed.fields.find((f) => f.name === 'Author')?.value).toContain(`<@${member.id}>`);
    const buttons = (alert.components as Array<{ components: Array<{ custom_id: string }> }>)[0]!.components;
    expect(buttons.map((b) => b.custom_id)).toEqual(
      ['dismiss', 'delete', 'timeout'].map((action) => `steward:${action}:${flagId}`),
    );
    expect((await stack.store.getFlag(flagId))?.status).toBe('open');

    // A member without Manage Messages: refused privately, nothing deleted.
    const refused = click(emulator, {
      user: member,
      messageId: alert.id,
      customId: `steward:delete:${flagId}`,
    });
    await emulator.waitFor('the refusal', () => refused.callbacks[0]);
    expect(refused.callbacks[0]).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(emulator.find('DELETE', new RegExp(`/messages/${bad.id}$`))).toHaveLength(0);

    // A moderator: the message is deleted and the flag log says who.
    click(emulator, { user: moderator, messageId: alert.id, customId: `steward:delete:${flagId}` });
    await emulator.waitFor('the alert update', () => (alert.edited_timestamp ? true : undefined), 10_000);
    expect(
      emulator.find('DELETE', new RegExp(`^/channels/${community.general}/messages/${bad.id}$`)),
    ).toEqual([expect.objectContaining({ status: 204 })]);
    expect(emulator.state.deleted.has(bad.id)).toBe(true);
    const flag = await stack.store.getFlag(flagId);
    expect(flag?.status).toBe('actioned');
    expect(flag?.history.at(-1)).toMatchObject({
      actorId: moderator.id,
      actorName: moderator.username,
      action: 'delete',
    });
    expect(JSON.stringify(alert.embeds)).toContain(`Deleted by <@${moderator.id}>`);
  }, 120_000);
});
