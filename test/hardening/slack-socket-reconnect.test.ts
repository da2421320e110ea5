import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundJobId } from '../../src/domain/message.ts';
import { CHANNELS, createSlackHarness, type SlackHarness } from '../emulators/slack/harness.ts';
import { eventEnvelope } from '../emulators/slack/signed.ts';

const TOTAL = 60;

// Issue 13: the Socket Mode connection drops (no close frame) while events keep coming.
describe('Slack Socket Mode when the connection drops mid-load', () => {
  let h: SlackHarness;

  beforeAll(async () => {
    h = await createSlackHarness({ withWorker: false, socketMode: true });
  });
  afterAll(() => h?.cleanup());

  it('GIVEN two drops while events arrive THEN the adapter reconnects each time and every message is queued once', async () => {
    const socket = h.emulator.socketMode;
    const connectionsBefore = socket.connections;
    const sent: string[] = [];
    for (let i = 0; i < TOTAL; i++) {
      // One member per message: the per-member rate limit is not what this test is about.
      const user = h.emulator.workspace.addUser({ id: `U0SOCK${String(i).padStart(3, '0')}`, name: `m${i}` });
      const { event, message } = h.sender.say({
        channel: CHANNELS.general,
        user: user.id,
        text: `socket ${i}`,
      });
      socket.send('events_api', eventEnvelope(h.emulator, event));
      sent.push(
        inboundJobId({
          platform: 'slack',
          workspaceId: h.teamId,
          channelId: CHANNELS.general,
          messageId: message.ts,
        }),
      );
      // Dropped right after sending: these envelopes' acks (if any) die with the connection. Events go on
      // arriving while the app is away; the second drop waits for the first reconnect, to be a drop of its own.
      if (i === 20) socket.drop();
      if (i === 40) {
        await h.emulator.waitFor(() => socket.connected === 1, 20_000, 'the first reconnect');
        socket.drop();
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await h.emulator.waitFor(
      () => socket.unacked === 0 && socket.connected === 1,
      30_000,
      'every envelope acknowledged over a live connection',
    );
    await h.emulator.waitFor(
      () => sent.every((id) => h.enqueues.some((e) => e.jobId === id)),
      10_000,
      'every message to reach the queue',
    );
    // Reconnected through apps.connections.open after each drop.
    expect(socket.connections - connectionsBefore).toBeGreaterThanOrEqual(2);
    expect(h.emulator.okCalls('apps.connections.open').length).toBeGreaterThanOrEqual(3);
    // Once each: a re-sent envelope is a duplicate of its job, never a second job.
    for (const id of sent) {
      expect(
        h.enqueues.filter((e) => e.jobId === id && !e.duplicate),
        id,
      ).toHaveLength(1);
    }
    const counts = await h.stack.queue.counts('inbound');
    expect(counts.waiting + counts.active + counts.completed).toBeGreaterThanOrEqual(TOTAL);
  });

  it('GIVEN an event whose enqueue fails (Redis away) THEN it is not acknowledged, and the re-send from Slack is queued', async () => {
    const socket = h.emulator.socketMode;
    const user = h.emulator.workspace.addUser({ id: 'U0SOCKFAIL', name: 'f' });
    const { event, message } = h.sender.say({ channel: CHANNELS.general, user: user.id, text: 'not lost' });
    h.faults.enqueue = 1;
    const id = socket.send('events_api', eventEnvelope(h.emulator, event));
    await h.emulator.waitFor(() => h.faults.enqueue === 0, 5_000, 'the failed enqueue');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(socket.acks.some((a) => a.envelopeId === id)).toBe(false);
    expect(socket.resend()).toBe(1);
    await h.emulator.waitFor(
      () => socket.acks.some((a) => a.envelopeId === id),
      5_000,
      'the ack of the re-send',
    );
    const jobId = inboundJobId({
      platform: 'slack',
      workspaceId: h.teamId,
      channelId: CHANNELS.general,
      messageId: message.ts,
    });
    expect(h.enqueues.filter((e) => e.jobId === jobId)).toHaveLength(1);
  });
});
