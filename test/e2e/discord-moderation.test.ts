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
import type { InteractionRecord } from '../emulators/discord/interactions.ts';
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

/**
 * A fresh guild whose admin set, through /steward, the moderation channel, the given mode and a threshold that
 * flags the loaded model's most toxic candidate (so the test never depends on one model's scores).
 */
async function moderatedCommunity(mode: 'suggest' | 'auto-hide') {
  const { emulator, adapter, stack, engine } = e2e;
  const community = joinCommunity(emulator);
  await emulator.waitFor('the guild in the client cache', () =>
    adapter.discord.guilds.cache.has(community.guildId),
  );
  const toxic = await pickToxic(engine);
  const threshold = toxic.threshold;
  const commands = [
    {
      group: 'config',
      sub: 'moderation-channel',
      options: [{ name: 'channel', type: 'channel', value: community.mod }],
    },
    {
      group: 'config',
      sub: 'threshold',
      options: [
        { name: 'label', type: 'string', value: toxic.label },
        { name: 'value', type: 'number', value: threshold },
      ],
    },
    { group: 'config', sub: 'mode', options: [{ name: 'mode', type: 'string', value: mode }] },
  ] as const;
  for (const command of commands) {
    const interaction = slash(emulator, {
      user: community.users.admin,
      channelId: community.general,
      group: command.group,
      sub: command.sub,
      options: [...command.options],
    });
    await answered(emulator, interaction);
  }
  expect(await stack.store.getSettings('discord', community.guildId)).toMatchObject({
    moderationChannelId: community.mod,
    thresholds: { [toxic.label]: threshold },
    moderationMode: mode,
  });
  return { community, toxic };
}

/** The flag id the worker gives a message (the same function it uses). */
function flagOf(
  guildId: string,
  channelId: string,
  messageId: string,
  author: { id: string; username: string },
) {
  return flagIdOf(
    InboundMessageSchema.parse({
      platform: 'discord',
      workspaceId: guildId,
      channelId,
      messageId,
      author: { id: author.id, name: author.username },
      text: 'x',
      mentionsBot: false,
      timestamp: Date.now(),
    }),
  );
}

describe.skipIf(!present)('Discord end to end: moderation', () => {
  it('GIVEN a moderation channel WHEN a member posts a toxic message THEN an alert with reasons and buttons; only a moderator can delete', async () => {
    const { emulator, stack } = e2e;
    const { community, toxic } = await moderatedCommunity('suggest');
    const { moderator, member } = community.users;

    const bad = say(emulator, { channelId: community.general, author: member, content: toxic.text });
    const flagId = flagOf(community.guildId, community.general, bad.id, member);
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
  it('GIVEN auto-hide mode WHEN a member posts a toxic message THEN Steward deletes it, the alert says so and logs it', async () => {
    const { emulator, stack } = e2e;
    const { community, toxic } = await moderatedCommunity('auto-hide');
    const { moderator, member } = community.users;
    const bad = say(emulator, { channelId: community.general, author: member, content: toxic.text });
    const flagId = flagOf(community.guildId, community.general, bad.id, member);
    const alert = await emulator.waitFor(
      'the alert',
      () => [...emulator.state.messages.values()].find((m) => m.channel_id === community.mod),
      60_000,
    );
    await emulator.waitFor('the hide', () => emulator.state.deleted.has(bad.id), 30_000);
    const deletes = emulator.find(
      'DELETE',
      new RegExp(`^/channels/${community.general}/messages/${bad.id}$`),
    );
    expect(deletes).toEqual([expect.objectContaining({ status: 204, auth: 'ok' })]);
    expect(JSON.stringify(alert.embeds)).toContain('Auto-hidden');
    expect((await stack.store.getFlag(flagId))?.history[0]).toMatchObject({
      actorId: 'steward',
      action: 'auto-hide',
    });

    // A moderator's Delete on an auto-hidden message: nothing left to delete, still recorded as theirs.
    click(emulator, { user: moderator, messageId: alert.id, customId: `steward:delete:${flagId}` });
    await emulator.waitFor('the alert update', () => (alert.edited_timestamp ? true : undefined), 10_000);
    expect((await stack.store.getFlag(flagId))?.history.at(-1)).toMatchObject({
      actorId: moderator.id,
      action: 'delete',
      note: 'already gone',
    });
  }, 120_000);
});
