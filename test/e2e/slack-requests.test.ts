import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INBOUND_QUEUE } from '../../queue/types.ts';
import { CHANNELS, createSlackHarness, type SlackHarness, USERS } from '../emulators/slack/harness.ts';
import { sleep } from '../queue/fixtures.ts';

/** Jobs of the inbound queue in any state (no worker runs here, so they wait). */
async function inboundJobs(h: SlackHarness): Promise<number> {
  const c = await h.stack.queue.counts(INBOUND_QUEUE);
  return c.waiting + c.active + c.delayed + c.completed + c.failed;
}

// Requests into the real Bolt receiver; no worker, so what reaches the queue stays there to be counted.
describe('Slack requests into the Bolt receiver', () => {
  let h: SlackHarness;

  beforeAll(async () => {
    h = await createSlackHarness({ withWorker: false });
  });
  afterAll(() => h?.cleanup());

  it('GIVEN a forged signature WHEN an event arrives THEN it is rejected with 401 and nothing is queued', async () => {
    const before = await inboundJobs(h);
    const { event } = h.sender.say({ channel: CHANNELS.general, user: USERS.member, text: 'forged hello' });
    const response = await h.sender.event(event, { signing: 'forged' });
    expect(response.status).toBe(401);
    await sleep(300);
    expect(await inboundJobs(h)).toBe(before);
    expect(h.enqueues.some((e) => e.message.text === 'forged hello')).toBe(false);
  });

  it('GIVEN a timestamp over 5 minutes old WHEN a correctly signed event arrives THEN it is rejected', async () => {
    const before = await inboundJobs(h);
    const { event } = h.sender.say({ channel: CHANNELS.general, user: USERS.member, text: 'replayed hello' });
    const response = await h.sender.event(event, { signing: 'stale' });
    expect(response.status).toBe(401);
    await sleep(300);
    expect(await inboundJobs(h)).toBe(before);
  });

  it('GIVEN no signature headers WHEN a command arrives THEN it is rejected', async () => {
    const response = await h.sender.command(
      { userId: USERS.admin, channelId: CHANNELS.general, text: 'config replies off' },
      { signing: 'missing' },
    );
    expect(response.status).toBe(401);
    expect((await h.stack.store.getSettings('slack', h.teamId)).replyMode).toBe('mention');
  });

  it('GIVEN Slack re-sends an event with x-slack-retry-num WHEN both arrive THEN both are acked and one job exists', async () => {
    const before = await inboundJobs(h);
    const { event } = h.sender.say({ channel: CHANNELS.general, user: USERS.member, text: 'sent twice' });
    const first = await h.sender.event(event, { eventId: 'EvRETRY1' });
    const retry = await h.sender.event(event, {
      eventId: 'EvRETRY1',
      retryNum: 1,
      retryReason: 'http_timeout',
      // Slack signs a re-send anew; the very same signed request again is a replay (see slack-replay.test.ts).
      timestampOffsetSec: 2,
    });
    expect([first.status, retry.status]).toEqual([200, 200]);
    await h.emulator.waitFor(
      () => h.enqueues.filter((e) => e.message.text === 'sent twice').length === 2,
      5_000,
      'both deliveries to reach the queue',
    );
    const calls = h.enqueues.filter((e) => e.message.text === 'sent twice');
    expect(calls[0]!.jobId).toBe(calls[1]!.jobId);
    expect(calls.map((c) => c.duplicate).sort()).toEqual([false, true]);
    expect(await inboundJobs(h)).toBe(before + 1);
  });

  it('GIVEN the queue is down WHEN an event arrives THEN Slack gets a 500, and its re-send is queued once', async () => {
    const before = await inboundJobs(h);
    const { event } = h.sender.say({ channel: CHANNELS.general, user: USERS.member, text: 'redis hiccup' });
    h.faults.enqueue = 1;
    const first = await h.sender.event(event, { eventId: 'EvDOWN1' });
    expect(first.status).toBe(500);
    expect(await inboundJobs(h)).toBe(before);
    const retry = await h.sender.event(event, {
      eventId: 'EvDOWN1',
      retryNum: 1,
      retryReason: 'http_error',
      timestampOffsetSec: 2,
    });
    expect(retry.status).toBe(200);
    expect(await inboundJobs(h)).toBe(before + 1);
    expect(h.logs.some((l) => l.includes('queueing message') && l.includes('ECONNREFUSED'))).toBe(true);
  });

  it('GIVEN a mention WHEN Slack sends it as app_mention and as message THEN it is one job, marked as a mention', async () => {
    const before = await inboundJobs(h);
    const botId = h.emulator.workspace.bot.userId;
    const { event } = h.sender.say({
      channel: CHANNELS.general,
      user: USERS.member,
      text: `<@${botId}> twin`,
    });
    await Promise.all([h.sender.event({ ...event, type: 'app_mention' }), h.sender.event(event)]);
    await h.emulator.waitFor(
      () => h.enqueues.filter((e) => e.message.text === 'twin').length === 2,
      5_000,
      'twins',
    );
    expect(h.enqueues.filter((e) => e.message.text === 'twin').every((e) => e.message.mentionsBot)).toBe(
      true,
    );
    expect(await inboundJobs(h)).toBe(before + 1);
  });

  it('GIVEN edits, bot posts, joins and the bot itself WHEN they arrive THEN none is queued', async () => {
    const before = h.enqueues.length;
    const ws = h.emulator.workspace;
    const base = { type: 'message', channel: CHANNELS.general, channel_type: 'channel' };
    const events = [
      { ...base, subtype: 'message_changed', ts: ws.nextTs(), message: { text: 'edited' } },
      { ...base, subtype: 'bot_message', bot_id: 'B0OTHER', text: 'beep', ts: ws.nextTs() },
      { ...base, bot_id: 'B0OTHER', user: 'U0OTHERBOT', text: 'beep', ts: ws.nextTs() },
      { ...base, subtype: 'channel_join', user: USERS.helper, text: 'joined', ts: ws.nextTs() },
      { ...base, user: ws.bot.userId, text: 'my own reply', ts: ws.nextTs() },
    ];
    for (const event of events) expect((await h.sender.event(event)).status).toBe(200);
    await sleep(300);
    expect(h.enqueues.length).toBe(before);
  });

  it('GIVEN a direct message WHEN it arrives THEN it is queued as direct', async () => {
    const dm = h.emulator.workspace.dmWith(USERS.member);
    const { event } = h.sender.say({ channel: dm.id, user: USERS.member, text: 'hi in private' });
    expect((await h.sender.event(event)).status).toBe(200);
    const queued = await h.emulator.waitFor(
      () => h.enqueues.find((e) => e.message.text === 'hi in private'),
      5_000,
      'the DM to be queued',
    );
    expect(queued.message).toMatchObject({
      direct: true,
      workspaceId: h.teamId,
      channelId: dm.id,
      platform: 'slack',
    });
  });

  it('GIVEN a started adapter WHEN start() is called again THEN it is a clear error', async () => {
    await expect(h.adapter.start()).rejects.toThrow(/Slack adapter cannot start: it is started/);
  });

  it('GIVEN a member floods a channel WHEN over the per-user limit THEN the excess is not queued', async () => {
    const before = h.enqueues.length;
    for (let i = 0; i < 8; i += 1) {
      const { event } = h.sender.say({ channel: CHANNELS.general, user: USERS.helper, text: `flood ${i}` });
      await h.sender.event(event);
    }
    await sleep(500);
    // The default bucket holds 5 messages per 10 s.
    expect(h.enqueues.length - before).toBe(5);
  });
});
