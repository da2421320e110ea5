import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPEAL_IDS } from '../../adapters/slack/appeals.ts';
import { ALERT_BUTTONS } from '../../adapters/slack/blocks.ts';
import { DashboardServer } from '../../dashboard/server.ts';
import type { FlagRecord } from '../../src/store/types.ts';
import { CHANNELS, createSlackHarness, type SlackHarness, USERS } from '../emulators/slack/harness.ts';
import { signIn } from './fixtures.ts';

// The real Bolt app on the Slack emulator, Redis store and queue; the dashboard over the same store and queue.
describe('appeals on Slack (emulator): warn → Appeal → modal → moderators → reversed on the dashboard', () => {
  let h: SlackHarness;
  let server: DashboardServer;

  beforeAll(async () => {
    h = await createSlackHarness({ withWorker: false, userToken: true });
    server = new DashboardServer({
      store: h.stack.store,
      queue: h.stack.queue,
      logger: h.logger,
      port: 0,
      host: '127.0.0.1',
    });
    await server.start();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await h?.cleanup();
  });

  function flagged(ts: string): FlagRecord {
    return {
      id: `flag:slack:${h.teamId}:${CHANNELS.general}:${ts}`,
      platform: 'slack',
      workspaceId: h.teamId,
      channelId: CHANNELS.general,
      messageId: ts,
      authorId: USERS.member,
      authorName: 'mallory',
      excerpt: 'you idiot',
      flagged: ['offensive'],
      scores: { offensive: 0.9 },
      reasons: { offensive: ['idiot'] },
      createdAt: Date.now(),
      status: 'open',
      history: [],
    };
  }

  /** The member's DM with the Appeal button for this flag. */
  const notice = (flagId: string) =>
    h.emulator.waitFor(
      () =>
        h.emulator.workspace.messages.find(
          (m) =>
            m.channel === h.emulator.workspace.dmWith(USERS.member).id &&
            JSON.stringify(m.blocks ?? []).includes(flagId),
        ),
      10_000,
      'the notice with the Appeal button',
    );

  it('GIVEN a warning from the dashboard WHEN the member appeals with a note THEN moderators get it, and reversing tells the member', async () => {
    const f = flagged('1700000000.000100');
    await h.stack.store.recordFlag(f);
    const h2 = { server, base: server.url.replace(/\/$/, '') } as Parameters<typeof signIn>[0];
    const mod = await signIn(h2, [{ platform: 'slack', workspaceId: h.teamId, name: 't', isAdmin: true }], {
      id: USERS.admin,
      name: 'ada',
    });
    expect(
      (await mod.post(`/api/flags/${encodeURIComponent(f.id)}/actions`, { action: 'warn' })).status,
    ).toBe(200);
    const dm = await notice(f.id);
    expect(dm.text).toContain('community guidelines');

    // Another member pressing the Appeal button gets a private refusal, no modal.
    await h.sender.blockAction({
      userId: USERS.helper,
      channelId: dm.channel,
      messageTs: dm.ts,
      actionId: APPEAL_IDS.appeal,
      value: f.id,
    });
    await h.emulator.waitFor(
      () => h.emulator.okCalls('chat.postEphemeral').find((c) => c.params.user === USERS.helper),
      10_000,
      'the refusal',
    );
    expect(h.emulator.okCalls('views.open')).toHaveLength(0);

    // The member presses Appeal: the modal opens with the flag id in it.
    await h.sender.blockAction({
      userId: USERS.member,
      channelId: dm.channel,
      messageTs: dm.ts,
      actionId: APPEAL_IDS.appeal,
      value: f.id,
    });
    const opened = await h.emulator.waitFor(() => h.emulator.okCalls('views.open')[0], 10_000, 'views.open');
    expect(JSON.stringify(opened.params.view)).toContain(f.id);

    // A submission claiming another team is refused with a form error, nothing stored.
    const forged = await h.sender.viewSubmission({
      userId: USERS.member,
      callbackId: APPEAL_IDS.note,
      privateMetadata: f.id,
      values: { appeal_note: { note: 'from elsewhere' } },
      teamId: 'T0OTHERTEAM',
    });
    expect(forged.status).toBe(200);
    expect(JSON.parse(forged.body)).toMatchObject({ response_action: 'errors' });
    expect((await h.stack.store.getFlag(f.id))?.appeal).toBeUndefined();

    const sent = await h.sender.viewSubmission({
      userId: USERS.member,
      callbackId: APPEAL_IDS.note,
      privateMetadata: f.id,
      values: { appeal_note: { note: 'I meant it as a joke' } },
    });
    expect(sent.status).toBe(200);
    expect((await h.stack.store.getFlag(f.id))?.appeal).toMatchObject({
      status: 'pending',
      note: 'I meant it as a joke',
    });
    const post = await h.emulator.waitFor(
      () =>
        h.emulator.workspace.messages.find(
          (m) => m.channel === CHANNELS.mods && JSON.stringify(m.blocks ?? []).includes(APPEAL_IDS.reverse),
        ),
      10_000,
      'the appeal post',
    );
    expect(JSON.stringify(post.blocks)).toContain('I meant it as a joke');

    // A second appeal: refused.
    const again = await h.sender.viewSubmission({
      userId: USERS.member,
      callbackId: APPEAL_IDS.note,
      privateMetadata: f.id,
      values: { appeal_note: { note: 'again' } },
    });
    expect(JSON.parse(again.body)).toMatchObject({ response_action: 'errors' });

    // A moderator of another team cannot decide it (button from another team, and the dashboard).
    await h.sender.blockAction({
      userId: USERS.admin,
      channelId: CHANNELS.mods,
      messageTs: post.ts,
      actionId: APPEAL_IDS.reverse,
      value: f.id,
      teamId: 'T0OTHERTEAM',
    });
    await h.emulator.waitFor(
      () => h.emulator.okCalls('chat.postEphemeral').find((c) => c.params.user === USERS.admin),
      10_000,
      'the cross-team refusal',
    );
    expect((await h.stack.store.getFlag(f.id))?.appeal?.status).toBe('pending');

    expect(
      (await mod.post(`/api/flags/${encodeURIComponent(f.id)}/appeal`, { decision: 'reverse' })).status,
    ).toBe(200);
    await h.emulator.waitFor(
      () =>
        h.emulator
          .okCalls('chat.postMessage')
          .find((c) => c.params.channel === USERS.member && String(c.params.text).includes('reversed')),
      10_000,
      'the member told',
    );
    await h.emulator.waitFor(
      () =>
        JSON.stringify(h.emulator.workspace.messages.find((m) => m.ts === post.ts)?.blocks ?? []).includes(
          'Reversed by ada (dashboard)',
        )
          ? true
          : undefined,
      10_000,
      'the appeal post updated',
    );
    const decided = await h.stack.store.getFlag(f.id);
    expect(decided?.appeal).toMatchObject({
      status: 'reversed',
      decidedById: USERS.admin,
      decidedByName: 'ada',
    });
  });

  it('GIVEN a delete from the alert button WHEN the member appeals THEN an admin upholds it with the Uphold button', async () => {
    const member = h.emulator.workspace.addMessage({
      channel: CHANNELS.general,
      user: USERS.member,
      text: 'you idiot',
    });
    const f = flagged(member.ts);
    await h.stack.store.recordFlag(f);
    const alert = h.emulator.workspace.addMessage({
      channel: CHANNELS.mods,
      user: h.emulator.workspace.bot.userId,
      botId: h.emulator.workspace.bot.botId,
      text: 'alert',
    });
    await h.sender.blockAction({
      userId: USERS.admin,
      channelId: CHANNELS.mods,
      messageTs: alert.ts,
      actionId: ALERT_BUTTONS.delete,
      value: f.id,
    });
    const dm = await notice(f.id);
    expect(dm.text).toContain('removed your message');
    await h.sender.viewSubmission({
      userId: USERS.member,
      callbackId: APPEAL_IDS.note,
      privateMetadata: f.id,
      values: { appeal_note: { note: 'please' } },
    });
    const post = await h.emulator.waitFor(
      () =>
        h.emulator.workspace.messages.find(
          (m) =>
            m.channel === CHANNELS.mods &&
            JSON.stringify(m.blocks ?? []).includes(f.id) &&
            JSON.stringify(m.blocks ?? []).includes(APPEAL_IDS.uphold),
        ),
      10_000,
      'the appeal post',
    );
    // A non-admin cannot decide.
    await h.sender.blockAction({
      userId: USERS.helper,
      channelId: CHANNELS.mods,
      messageTs: post.ts,
      actionId: APPEAL_IDS.uphold,
      value: f.id,
    });
    await h.emulator.waitFor(
      () =>
        h.emulator
          .okCalls('chat.postEphemeral')
          .find((c) => c.params.user === USERS.helper && String(c.params.text).includes('appeals')),
      10_000,
      'the refusal',
    );
    await h.sender.blockAction({
      userId: USERS.admin,
      channelId: CHANNELS.mods,
      messageTs: post.ts,
      actionId: APPEAL_IDS.uphold,
      value: f.id,
    });
    // The emulator's waitFor takes a synchronous predicate; the store is read asynchronously, so poll it.
    await expect
      .poll(async () => (await h.stack.store.getFlag(f.id))?.appeal?.status, { timeout: 10_000 })
      .toBe('upheld');
    const decided = await h.stack.store.getFlag(f.id);
    expect(decided?.appeal?.decidedById).toBe(USERS.admin);
    expect(decided?.status).toBe('actioned');
  });
});
