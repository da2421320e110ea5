import { PermissionFlagsBits } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertAction } from '../../src/domain/action.ts';
import type { FlagRecord } from '../../src/store/types.ts';
import { click, say } from '../emulators/discord/events.ts';
import { startMemoryHarness } from '../emulators/discord/harness.ts';

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

/** A flagged member message, its flag record, and the alert the adapter posted for it. */
async function flagged() {
  const harness = await startMemoryHarness();
  stop = harness.stop;
  const { emulator, community, adapter, store } = harness;
  const bad = say(emulator, {
    channelId: community.general,
    author: community.users.member,
    content: 'you idiot',
  });
  const target = {
    platform: 'discord' as const,
    workspaceId: community.guildId,
    channelId: community.general,
    messageId: bad.id,
  };
  const flagId = `flag:discord:${community.guildId}:${community.general}:${bad.id}`;
  const record: FlagRecord = {
    id: flagId,
    ...target,
    authorId: community.users.member.id,
    authorName: 'mel',
    excerpt: 'you idiot',
    flagged: ['offensive'],
    scores: { offensive: 0.9 },
    reasons: { offensive: ['idiot'] },
    createdAt: Date.now(),
    status: 'open',
    history: [],
  };
  await store.recordFlag(record);
  const alert: AlertAction = {
    kind: 'alert',
    key: `${flagId}:alert`,
    target,
    flagId,
    moderationChannelId: community.mod,
    author: { id: community.users.member.id, name: 'mel' },
    excerpt: 'you idiot',
    scores: { offensive: 0.9 },
    flagged: ['offensive'],
    reasons: { offensive: ['idiot'] },
    autoHidden: false,
  };
  await adapter.perform(alert);
  const alertMessage = [...emulator.state.messages.values()].find((m) => m.channel_id === community.mod)!;
  return { ...harness, bad, flagId, alertMessage };
}

describe('Discord adapter: alert buttons', () => {
  it('GIVEN a moderator WHEN they click Delete THEN the message is deleted, the flag log says who, the alert is updated', async () => {
    const { emulator, community, store, bad, flagId, alertMessage } = await flagged();
    const interaction = click(emulator, {
      user: community.users.moderator,
      messageId: alertMessage.id,
      customId: `steward:delete:${flagId}`,
    });
    await emulator.waitFor('the alert update', () => (alertMessage.edited_timestamp ? true : undefined));
    expect(
      emulator.find('DELETE', new RegExp(`/channels/${community.general}/messages/${bad.id}$`)),
    ).toHaveLength(1);
    expect(interaction.callbacks[0]?.type).toBe(6);
    const flag = await store.getFlag(flagId);
    expect(flag?.status).toBe('actioned');
    expect(flag?.history.at(-1)).toMatchObject({
      actorId: community.users.moderator.id,
      actorName: 'mo',
      action: 'delete',
    });
    expect(JSON.stringify(alertMessage.embeds)).toContain(`Deleted by <@${community.users.moderator.id}>`);
    const buttons = (alertMessage.components as Array<{ components: Array<{ disabled: boolean }> }>)[0]!
      .components;
    expect(buttons.every((b) => b.disabled)).toBe(true);
  });

  it('GIVEN a member without Manage Messages WHEN they click Delete THEN an ephemeral refusal and nothing is deleted', async () => {
    const { emulator, community, store, flagId, alertMessage } = await flagged();
    const interaction = click(emulator, {
      user: community.users.member,
      messageId: alertMessage.id,
      customId: `steward:delete:${flagId}`,
    });
    await emulator.waitFor('the refusal', () => interaction.callbacks[0]);
    expect(interaction.callbacks[0]).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(String(interaction.callbacks[0]?.data?.content)).toContain('Manage Messages');
    expect(emulator.find('DELETE', /\/messages\//)).toHaveLength(0);
    expect((await store.getFlag(flagId))?.status).toBe('open');
  });

  it('GIVEN a moderator denied Manage Messages where the message is WHEN they click Delete THEN refused', async () => {
    const { emulator, community, adapter, flagId, alertMessage } = await flagged();
    const general = adapter.discord.channels.cache.get(community.general);
    // Overwrites change through CHANNEL_UPDATE on Discord; the emulator updates both sides the same way.
    const overwrite = {
      id: community.roles.moderator,
      type: 0 as const,
      allow: 0n,
      deny: PermissionFlagsBits.ManageMessages,
    };
    emulator.state.channels.get(community.general)!.overwrites = [overwrite];
    emulator.gateway.dispatch(
      'CHANNEL_UPDATE',
      emulator.state.channelPayload(emulator.state.channels.get(community.general)!),
    );
    await emulator.waitFor(
      'the overwrite in the cache',
      () => general && 'permissionOverwrites' in general && general.permissionOverwrites.cache.size > 0,
    );
    const interaction = click(emulator, {
      user: community.users.moderator,
      messageId: alertMessage.id,
      customId: `steward:delete:${flagId}`,
    });
    await emulator.waitFor('the refusal', () => interaction.callbacks[0]);
    expect(interaction.callbacks[0]).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(emulator.find('DELETE', /\/messages\//)).toHaveLength(0);
  });

  it('GIVEN a moderator WHEN they click Timeout THEN the author is timed out for 10 minutes and it is logged', async () => {
    const { emulator, community, store, flagId, alertMessage } = await flagged();
    const before = Date.now();
    click(emulator, {
      user: community.users.moderator,
      messageId: alertMessage.id,
      customId: `steward:timeout:${flagId}`,
    });
    await emulator.waitFor('the alert update', () => (alertMessage.edited_timestamp ? true : undefined));
    const [patch] = emulator.find(
      'PATCH',
      new RegExp(`/guilds/${community.guildId}/members/${community.users.member.id}$`),
    );
    const until = Date.parse(String(patch?.body?.communication_disabled_until));
    expect(until - before).toBeGreaterThanOrEqual(10 * 60_000 - 1000);
    expect(until - before).toBeLessThanOrEqual(10 * 60_000 + 5000);
    expect((await store.getFlag(flagId))?.history.at(-1)).toMatchObject({ action: 'timeout' });
  });

  it('GIVEN Discord refuses the timeout (403) WHEN a moderator clicks THEN a private explanation, the flag stays open', async () => {
    const { emulator, community, store, flagId, alertMessage } = await flagged();
    emulator.inject({ method: 'PATCH', path: /^\/guilds\/\d+\/members\/\d+$/, status: 403, times: 1 });
    const interaction = click(emulator, {
      user: community.users.moderator,
      messageId: alertMessage.id,
      customId: `steward:timeout:${flagId}`,
    });
    await emulator.waitFor('the follow-up', () => interaction.followups[0]);
    expect(interaction.followups[0]).toMatchObject({ flags: 64 });
    expect(String(interaction.followups[0]?.content)).toMatch(/Could not do that: .*403/);
    expect((await store.getFlag(flagId))?.status).toBe('open');
    expect(alertMessage.edited_timestamp).toBeNull();
  });

  it('GIVEN a moderator WHEN they click Dismiss THEN the flag is dismissed and nothing is deleted', async () => {
    const { emulator, community, store, flagId, alertMessage } = await flagged();
    click(emulator, {
      user: community.users.admin,
      messageId: alertMessage.id,
      customId: `steward:dismiss:${flagId}`,
    });
    await emulator.waitFor('the alert update', () => (alertMessage.edited_timestamp ? true : undefined));
    expect((await store.getFlag(flagId))?.status).toBe('dismissed');
    expect(emulator.find('DELETE', /\/messages\//)).toHaveLength(0);
    expect(JSON.stringify(alertMessage.embeds)).toContain('Dismissed by');
  });
});
