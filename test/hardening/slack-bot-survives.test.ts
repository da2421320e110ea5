import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOT_TOKEN, SIGNING_SECRET } from '../emulators/slack/harness.ts';
import { SlackEmulator } from '../emulators/slack/index.ts';
import { slackSignature } from '../emulators/slack/signed.ts';
import { deletePrefix, randomPrefix, REDIS_URL } from '../queue/fixtures.ts';

// Issue 13, fault 3: one correctly signed request with a body Bolt cannot read killed `steward bot`.
describe('steward bot (process) under signed garbage', () => {
  let emulator: SlackEmulator;
  let child: ReturnType<typeof spawn>;
  let exited: Promise<number | null>;
  let log = '';
  let url = '';
  const prefix = randomPrefix('survive');

  beforeAll(async () => {
    emulator = await new SlackEmulator({ botToken: BOT_TOKEN }).start();
    const inherited = { ...process.env };
    delete inherited.LOG_LEVEL;
    child = spawn(process.execPath, ['--import', 'tsx', 'app/cli/main.ts', 'bot'], {
      env: {
        ...inherited,
        LOG_LEVEL: 'info',
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: emulator.apiUrl,
        SLACK_PORT: '0',
        REDIS_URL,
        STEWARD_PREFIX: prefix,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exited = new Promise((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (chunk) => {
        log += chunk;
        const port = /Slack connected[^\n]*?"port":(\d+)|"port":(\d+)[^\n]*Slack connected/.exec(log);
        if (port && /steward bot running/.test(log)) {
          url = `http://127.0.0.1:${port[1] ?? port[2]}/slack/events`;
          resolve();
        }
      });
      exited.then((code) => reject(new Error(`steward bot exited (${code}):\n${log}`)));
    });
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await emulator?.stop();
    await deletePrefix(REDIS_URL, prefix);
  });

  const signed = async (body: string, contentType = 'application/json') => {
    const ts = Math.floor(Date.now() / 1000);
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': contentType,
        'x-slack-request-timestamp': String(ts),
        'x-slack-signature': slackSignature(SIGNING_SECRET, ts, body),
      },
      body,
    });
    return response.status;
  };

  it('GIVEN signed bodies null, [], "x", 1, true and a form payload of null THEN each gets 400 and the bot keeps serving', async () => {
    for (const body of ['null', '[]', '"x"', '1', 'true', '{']) expect(await signed(body)).toBe(400);
    expect(await signed('payload=null', 'application/x-www-form-urlencoded')).toBe(400);
    expect(await signed('payload=%5B1%5D', 'application/x-www-form-urlencoded')).toBe(400);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(child.exitCode).toBeNull();
    // Still answering real requests.
    expect(await signed(JSON.stringify({ type: 'url_verification', challenge: 'still-here' }))).toBe(200);
    expect(log).not.toContain(SIGNING_SECRET);
    expect(log).not.toContain(BOT_TOKEN);
  }, 30_000);
});
