import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNELS, createSlackHarness, type SlackHarness, USERS } from '../emulators/slack/harness.ts';
import { commandFields, eventEnvelope } from '../emulators/slack/signed.ts';

// The real Bolt SocketModeReceiver against the emulator's apps.connections.open + WebSocket endpoint.
describe('Slack in Socket Mode', () => {
  let h: SlackHarness;

  beforeAll(async () => {
    h = await createSlackHarness({ withWorker: false, socketMode: true });
  });
  afterAll(() => h?.cleanup());

  it('GIVEN Socket Mode WHEN the adapter starts THEN it connects with the app token and opens no HTTP port', () => {
    expect(h.adapter.port).toBeNull();
    expect(h.emulator.socketMode.connected).toBe(1);
    const open = h.emulator.okCalls('apps.connections.open');
    expect(open).toHaveLength(1);
    expect(open[0]!.tokenKind).toBe('app');
  });

  it('GIVEN an event envelope WHEN it arrives (and again as a retry) THEN it is acked each time and queued once', async () => {
    const { event } = h.sender.say({
      channel: CHANNELS.general,
      user: USERS.member,
      text: 'over the socket',
    });
    const body = eventEnvelope(h.emulator, event, 'EvSOCKET1');
    const first = h.emulator.socketMode.send('events_api', body);
    const retry = h.emulator.socketMode.send('events_api', body, 1);
    await h.emulator.waitFor(
      () => [first, retry].every((id) => h.emulator.socketMode.acks.some((a) => a.envelopeId === id)),
      5_000,
      'both acks',
    );
    await h.emulator.waitFor(
      () => h.enqueues.filter((e) => e.message.text === 'over the socket').length === 2,
      5_000,
      'both to reach the queue',
    );
    const calls = h.enqueues.filter((e) => e.message.text === 'over the socket');
    expect(calls.map((c) => c.duplicate).sort()).toEqual([false, true]);
  });

  it('GIVEN /steward over the socket WHEN a non-admin changes config THEN the refusal goes to the response_url', async () => {
    const fields = commandFields(h.emulator, {
      userId: USERS.member,
      channelId: CHANNELS.general,
      text: 'config mode auto-hide',
    });
    const id = h.emulator.socketMode.send('slash_commands', fields);
    await h.emulator.waitFor(
      () => h.emulator.socketMode.acks.some((a) => a.envelopeId === id),
      3_000,
      'the ack',
    );
    const answer = await h.emulator.waitFor(
      () => h.emulator.responses.find((r) => fields.response_url!.endsWith(r.id)),
      10_000,
      'the answer',
    );
    expect(String(answer.body.text)).toMatch(/Only workspace admins/);
    expect((await h.stack.store.getSettings('slack', h.teamId)).moderationMode).toBe('suggest');
  });
});
