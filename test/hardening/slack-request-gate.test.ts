import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestGate } from '../../adapters/slack/receiver.ts';
import { CHANNELS, createSlackHarness, type SlackHarness, USERS } from '../emulators/slack/harness.ts';
import { commandFields, slackSignature } from '../emulators/slack/signed.ts';

// Issue 13, fault 7: future-dated timestamps passed, and a replayed signed slash command ran twice.
describe('Slack request gate (real Bolt receiver)', () => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await createSlackHarness({ withWorker: false, adminUsers: [USERS.admin] });
  });
  afterAll(() => h?.cleanup());

  it('GIVEN a correctly signed event dated 6 minutes ahead WHEN it arrives THEN it is rejected with 401', async () => {
    const { event } = h.sender.say({
      channel: CHANNELS.general,
      user: USERS.member,
      text: 'from the future',
    });
    const response = await h.sender.event(event, { timestampOffsetSec: 6 * 60 });
    expect(response.status).toBe(401);
    expect(h.enqueues.some((e) => e.message.text === 'from the future')).toBe(false);
  });

  it('GIVEN a signed slash command WHEN the same request is replayed THEN it runs once', async () => {
    const fields = commandFields(h.emulator, {
      userId: USERS.admin,
      channelId: CHANNELS.general,
      text: 'topics add replayed once only',
    });
    const body = new URLSearchParams(fields).toString();
    const timestampSec = Math.floor(Date.now() / 1000);
    const type = 'application/x-www-form-urlencoded';
    const first = await h.sender.post(body, type, { timestampSec });
    const again = await h.sender.post(body, type, { timestampSec });
    expect([first.status, again.status]).toEqual([200, 200]);
    await h.emulator.waitFor(
      () => h.emulator.responses.some((r) => r.id === fields.response_url!.split('/').at(-1)),
      5_000,
      'the command answer',
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const answers = h.emulator.responses.filter((r) => r.id === fields.response_url!.split('/').at(-1));
    expect(answers).toHaveLength(1);
    expect(JSON.stringify(answers[0])).toContain('Added');
  });
});

describe('RequestGate', () => {
  const secret = 'gate-secret';
  const clock = 1_700_000_000_000;
  const gate = () => new RequestGate({ signingSecret: secret, now: () => clock });
  const headers = (body: string, ts: number, type = 'application/json') => ({
    'content-type': type,
    'x-slack-request-timestamp': String(ts),
    'x-slack-signature': slackSignature(secret, ts, body),
  });
  const now = () => Math.floor(clock / 1000);

  it('GIVEN timestamps 301 s off either way THEN both are refused; 299 s off passes', () => {
    const g = gate();
    const body = '{"type":"event_callback"}';
    expect(g.check(headers(body, now() + 301), Buffer.from(body)).ok).toBe(false);
    expect(g.check(headers(body, now() - 301), Buffer.from(body)).ok).toBe(false);
    expect(g.check(headers(body, now() + 299), Buffer.from(body)).ok).toBe(true);
    expect(g.check(headers(body, now() - 299), Buffer.from(body)).ok).toBe(true);
  });

  it('GIVEN a replay WHEN inside 5 minutes THEN it is refused; a failed one may be sent again', () => {
    const g = gate();
    const body = '{"a":1}';
    const h1 = headers(body, now());
    const first = g.check(h1, Buffer.from(body));
    expect(first.ok).toBe(true);
    expect(g.check(h1, Buffer.from(body))).toMatchObject({ ok: false, reason: 'replayed request' });
    if (first.ok) g.forget(first.key!);
    expect(g.check(h1, Buffer.from(body)).ok).toBe(true);
  });

  it('GIVEN bodies Bolt cannot read THEN 400; a non-numeric timestamp THEN 401', () => {
    const g = gate();
    for (const body of ['null', '[]', '"s"', '3', 'nope'])
      expect(g.check(headers(body, now()), Buffer.from(body))).toMatchObject({ ok: false, status: 400 });
    const body = '{}';
    expect(
      g.check({ ...headers(body, now()), 'x-slack-request-timestamp': '0x10' }, Buffer.from(body)),
    ).toMatchObject({ ok: false, status: 401 });
  });
});
