import { isValidSlackRequest } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackEmulator } from '../emulators/slack/server.ts';
import { slackSignature } from '../emulators/slack/signed.ts';

const TOKEN = 'xoxb-emulator-self-test-token';

// The emulator is test infrastructure the e2e tests trust: pin down that it speaks the Web API the way Slack does.
describe('Slack Web API emulator', () => {
  let emu: SlackEmulator;
  const call = (method: string, init: RequestInit) =>
    fetch(`${emu.apiUrl}${method}`, { method: 'POST', ...init });

  beforeAll(async () => {
    emu = await new SlackEmulator({ botToken: TOKEN }).start();
    emu.workspace.addChannel({ id: 'C1', name: 'general' });
  });
  afterAll(() => emu.stop());

  it('GIVEN a JSON body with a bearer token WHEN posting THEN the message is stored and its ts returned', async () => {
    const res = await call('chat.postMessage', {
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: 'C1', text: 'hi', blocks: [{ type: 'divider' }] }),
    });
    const body = (await res.json()) as { ok: boolean; ts: string };
    expect(body.ok).toBe(true);
    expect(emu.workspace.findMessage('C1', body.ts)?.blocks).toEqual([{ type: 'divider' }]);
    expect(emu.calls.at(-1)).toMatchObject({ method: 'chat.postMessage', tokenKind: 'bot', ok: true });
    expect(JSON.stringify(emu.calls)).not.toContain(TOKEN);
  });

  it('GIVEN a form body with the token as a field WHEN calling THEN it authenticates the same way', async () => {
    const res = await call('auth.test', { body: new URLSearchParams({ token: TOKEN }) });
    expect(await res.json()).toMatchObject({
      ok: true,
      user_id: emu.workspace.bot.userId,
      bot_id: emu.workspace.bot.botId,
    });
  });

  it('GIVEN a missing or unknown token WHEN calling THEN Slack errors come back with HTTP 200', async () => {
    expect(await (await call('auth.test', {})).json()).toEqual({ ok: false, error: 'not_authed' });
    const bad = await call('auth.test', { headers: { authorization: 'Bearer xoxb-nope' } });
    expect([bad.status, await bad.json()]).toEqual([200, { ok: false, error: 'invalid_auth' }]);
  });

  it('GIVEN injected faults WHEN the next calls come THEN 429 with Retry-After, then 503, then normal', async () => {
    emu.failNext('chat.postMessage', 1, { status: 429, retryAfterSec: 3 });
    emu.failNext('chat.postMessage', 1, { status: 503 });
    const send = () =>
      call('chat.postMessage', {
        headers: { authorization: `Bearer ${TOKEN}` },
        body: new URLSearchParams({ channel: 'C1', text: 'x' }),
      });
    const limited = await send();
    expect([limited.status, limited.headers.get('retry-after'), await limited.json()]).toEqual([
      429,
      '3',
      { ok: false, error: 'ratelimited' },
    ]);
    expect((await send()).status).toBe(503);
    expect((await send()).status).toBe(200);
  });

  it('GIVEN the signing helper WHEN Bolt checks its signature THEN it is valid, and a forged one is not', () => {
    const body = 'payload=%7B%7D';
    const ts = Math.floor(Date.now() / 1000);
    const headers = (secret: string) => ({
      'x-slack-signature': slackSignature(secret, ts, body),
      'x-slack-request-timestamp': ts,
    });
    expect(isValidSlackRequest({ signingSecret: 'secret-1', body, headers: headers('secret-1') })).toBe(true);
    expect(isValidSlackRequest({ signingSecret: 'secret-1', body, headers: headers('secret-2') })).toBe(
      false,
    );
  });
});
