import { afterEach, describe, expect, it } from 'vitest';
import { appealId } from '../../adapters/discord/appeals.ts';
import { DashboardServer } from '../../dashboard/server.ts';
import type { FlagRecord } from '../../src/store/types.ts';
import { click, say, submitModal } from '../emulators/discord/events.ts';
import { startMemoryHarness } from '../emulators/discord/harness.ts';
import type { RawMessage } from '../emulators/discord/state.ts';
import { signIn } from './fixtures.ts';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** The real Discord adapter on the emulator, a dashboard over the same store and queue, and a flagged message. */
async function setup() {
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
  const { community, emulator, store } = hx;
  await store.updateSettings('discord', community.guildId, (s) => ({
    ...s,
    moderationChannelId: community.mod,
  }));
  const bad = say(emulator, {
    channelId: community.general,
    author: community.users.member,
    content: 'you idiot',
  });
  const flagId = `flag:discord:${community.guildId}:${community.general}:${bad.id}`;
  const record: FlagRecord = {
    id: flagId,
    platform: 'discord',
    workspaceId: community.guildId,
    channelId: community.general,
    messageId: bad.id,
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
  const grant = { platform: 'discord' as const, workspaceId: community.guildId, name: 'g', isAdmin: true };
  const h = { server, base: server.url.replace(/\/$/, '') } as Parameters<typeof signIn>[0];
  const mod = await signIn(h, [grant], { id: community.users.moderator.id, name: 'mo' });
  const dmOf = (userId: string) =>
    [...emulator.state.channels.values()].find((c) => c.type === 1 && c.recipientId === userId);
  const messagesIn = (channelId: string | undefined) =>
    [...emulator.state.messages.values()].filter((m) => m.channel_id === channelId);
  return { ...hx, server, flagId, bad, mod, h, dmOf, messagesIn };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** The member presses Appeal in their DM and sends the modal with a note. */
async function appeal(s: Setup, notice: RawMessage, note: string) {
  const { emulator, community, flagId } = s;
  const press = click(emulator, {
    user: community.users.member,
    messageId: notice.id,
    customId: appealId('appeal', flagId),
  });
  await emulator.waitFor('the modal', () => press.callbacks[0], 10_000);
  expect(press.callbacks[0]).toMatchObject({ type: 9, data: { custom_id: appealId('appeal-note', flagId) } });
  const submit = submitModal(emulator, {
    user: community.users.member,
    channelId: notice.channel_id,
    customId: appealId('appeal-note', flagId),
    fields: { note },
  });
  await emulator.waitFor('the thanks', () => submit.callbacks[0], 10_000);
  return submit;
}

describe('appeals on Discord (emulator), from the member DM to the moderators and the dashboard', () => {
  it('GIVEN a timeout from the dashboard WHEN the member appeals and a moderator reverses on the dashboard THEN the timeout is lifted, the member told, the flag counts as wrong', async () => {
    const s = await setup();
    const { emulator, community, store, flagId, mod, dmOf, messagesIn } = s;
    const id = encodeURIComponent(flagId);
    expect((await mod.post(`/api/flags/${id}/actions`, { action: 'timeout' })).status).toBe(200);
    await emulator.waitFor(
      'the member timed out',
      () =>
        emulator.state.member(community.guildId, community.users.member.id)?.communicationDisabledUntil ??
        undefined,
    );
    // The member is told privately, with an Appeal button.
    const notice = await emulator.waitFor(
      'the DM notice',
      () => messagesIn(dmOf(community.users.member.id)?.id)[0],
      10_000,
    );
    expect(String(notice.content)).toContain('timed you out');
    expect(JSON.stringify(notice.components)).toContain(appealId('appeal', flagId));

    // Someone else pressing the member's Appeal button (a crafted custom id) is refused.
    const stranger = click(emulator, {
      user: community.users.admin,
      messageId: notice.id,
      customId: appealId('appeal', flagId),
    });
    await emulator.waitFor('the refusal', () => stranger.callbacks[0], 10_000);
    expect(stranger.callbacks[0]).toMatchObject({ type: 4, data: { flags: 64 } });

    const submit = await appeal(s, notice, 'I was quoting someone else');
    expect(submit.callbacks[0]).toMatchObject({ type: 4, data: { flags: 64 } });
    const appealed = await store.getFlag(flagId);
    expect(appealed?.appeal).toMatchObject({
      memberId: community.users.member.id,
      note: 'I was quoting someone else',
      status: 'pending',
    });

    // Posted to the moderators' channel with Uphold / Reverse.
    const post = await emulator.waitFor('the appeal post', () =>
      messagesIn(community.mod).find((m) =>
        JSON.stringify(m.components).includes(appealId('appeal-reverse', flagId)),
      ),
    );
    expect(JSON.stringify(post.embeds)).toContain('I was quoting someone else');

    // A second appeal is refused.
    const again = submitModal(emulator, {
      user: community.users.member,
      channelId: notice.channel_id,
      customId: appealId('appeal-note', flagId),
      fields: { note: 'again' },
    });
    await emulator.waitFor('the second answer', () => again.callbacks[0], 10_000);
    expect(String(again.callbacks[0]?.data?.content)).toContain('already');
    expect((await store.getFlag(flagId))?.appeal?.note).toBe('I was quoting someone else');

    // The dashboard lists it under Appeals.
    const listed = (await (
      await mod.get(`/api/flags?platform=discord&workspace=${community.guildId}&appeal=pending`)
    ).json()) as {
      flags: FlagRecord[];
    };
    expect(listed.flags.map((f) => f.id)).toEqual([flagId]);

    // Reverse from the dashboard.
    const res = await mod.post(`/api/flags/${id}/appeal`, { decision: 'reverse' });
    expect(res.status).toBe(200);
    await emulator.waitFor('the timeout lifted', () =>
      emulator.state.member(community.guildId, community.users.member.id)?.communicationDisabledUntil === null
        ? true
        : undefined,
    );
    const told = await emulator.waitFor('the member told', () =>
      messagesIn(dmOf(community.users.member.id)?.id).find((m) => String(m.content).includes('reversed')),
    );
    expect(String(told.content)).toContain('timeout is lifted');
    await emulator.waitFor('the appeal post updated', () => (post.edited_timestamp ? true : undefined));
    expect(JSON.stringify(post.embeds)).toContain('Reversed by mo (dashboard)');
    const decided = await store.getFlag(flagId);
    expect(decided?.appeal).toMatchObject({
      status: 'reversed',
      decidedById: community.users.moderator.id,
      decidedByName: 'mo',
    });
    expect(decided?.appeal?.decidedAt).toBeGreaterThan(0);
    expect(decided?.status).toBe('dismissed');

    // Counts as a wrong flag in the feedback stats.
    const feedback = (await (
      await mod.get(`/api/feedback?platform=discord&workspace=${community.guildId}`)
    ).json()) as {
      labels: Array<{ label: string; dismissed: number; actioned: number }>;
    };
    expect(feedback.labels.find((l) => l.label === 'offensive')).toMatchObject({ dismissed: 1, actioned: 0 });

    // A second decision is refused.
    expect((await mod.post(`/api/flags/${id}/appeal`, { decision: 'uphold' })).status).toBe(409);
  });

  it('GIVEN a delete from the chat button WHEN the member appeals THEN a moderator upholds it with the chat button; other workspaces cannot decide it', async () => {
    const s = await setup();
    const { emulator, community, store, flagId, dmOf, messagesIn, server } = s;
    // The alert with its buttons, then the moderator's Delete.
    const alert = emulator.state.storeMessage({
      channelId: community.mod,
      author: emulator.state.botUser,
      content: '',
    });
    alert.embeds = [
      {
        title: 'Flagged',
        url: `https://discord.com/channels/${community.guildId}/${community.general}/${s.bad.id}`,
      },
    ];
    const del = click(emulator, {
      user: community.users.moderator,
      messageId: alert.id,
      customId: `steward:delete:${flagId}`,
    });
    await emulator.waitFor(
      'the delete',
      () => (emulator.state.deleted.has(s.bad.id) ? true : undefined),
      10_000,
    );
    expect(del.callbacks[0]?.type).toBe(6);
    const notice = await emulator.waitFor(
      'the DM notice',
      () => messagesIn(dmOf(community.users.member.id)?.id)[0],
      10_000,
    );
    expect(String(notice.content)).toContain('removed your message');
    await appeal(s, notice, 'it was a joke between friends');

    // Another workspace's moderator cannot decide it on the dashboard: 404, like a flag that does not exist.
    const other = await signIn(s.h, [
      { platform: 'discord', workspaceId: 'another-guild', name: 'x', isAdmin: true },
    ]);
    expect(
      (await other.post(`/api/flags/${encodeURIComponent(flagId)}/appeal`, { decision: 'reverse' })).status,
    ).toBe(404);
    // A member without Manage Messages cannot press Uphold.
    const post = await emulator.waitFor('the appeal post', () =>
      messagesIn(community.mod).find((m) =>
        JSON.stringify(m.components).includes(appealId('appeal-uphold', flagId)),
      ),
    );
    const refused = click(emulator, {
      user: community.users.member,
      messageId: post.id,
      customId: appealId('appeal-uphold', flagId),
    });
    await emulator.waitFor('the refusal', () => refused.callbacks[0], 10_000);
    expect(refused.callbacks[0]).toMatchObject({ type: 4, data: { flags: 64 } });
    expect((await store.getFlag(flagId))?.appeal?.status).toBe('pending');

    const uphold = click(emulator, {
      user: community.users.moderator,
      messageId: post.id,
      customId: appealId('appeal-uphold', flagId),
    });
    await emulator.waitFor('the post updated', () => (post.edited_timestamp ? true : undefined), 10_000);
    expect(uphold.callbacks[0]?.type).toBe(6);
    expect(JSON.stringify(post.embeds)).toContain(`Upheld by <@${community.users.moderator.id}>`);
    const decided = await store.getFlag(flagId);
    expect(decided?.appeal).toMatchObject({ status: 'upheld', decidedById: community.users.moderator.id });
    expect(decided?.status).toBe('actioned');
    await emulator.waitFor('the member told', () =>
      messagesIn(dmOf(community.users.member.id)?.id).find((m) => String(m.content).includes('upheld')),
    );
    void server;
  });

  it('GIVEN a dashboard Dismiss WHEN the alert was posted THEN the chat alert says who dismissed it and its buttons are disabled', async () => {
    const s = await setup();
    const { emulator, community, flagId, mod, adapter, store } = s;
    await adapter.perform({
      kind: 'alert',
      key: `${flagId}:alert`,
      target: {
        platform: 'discord',
        workspaceId: community.guildId,
        channelId: community.general,
        messageId: s.bad.id,
      },
      flagId,
      moderationChannelId: community.mod,
      author: { id: community.users.member.id, name: 'mel' },
      excerpt: 'you idiot',
      scores: { offensive: 0.9 },
      flagged: ['offensive'],
      reasons: { offensive: ['idiot'] },
      autoHidden: false,
    });
    const alert = s.messagesIn(community.mod)[0]!;
    expect((await store.getFlag(flagId))?.alertMessageId).toBe(`${community.mod}/${alert.id}`);
    expect(
      (await mod.post(`/api/flags/${encodeURIComponent(flagId)}/actions`, { action: 'dismiss' })).status,
    ).toBe(200);
    await emulator.waitFor('the alert updated', () => (alert.edited_timestamp ? true : undefined), 10_000);
    expect(JSON.stringify(alert.embeds)).toContain('Dismissed by mo (dashboard)');
    const buttons = (alert.components as Array<{ components: Array<{ disabled: boolean }> }>)[0]!.components;
    expect(buttons.every((b) => b.disabled)).toBe(true);
    expect(
      emulator.find('PATCH', new RegExp(`/channels/${community.mod}/messages/${alert.id}$`)),
    ).toHaveLength(1);
  });
});
