import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackAdapter } from '../../adapters/slack/index.ts';
import { outboundQueueName } from '../../queue/types.ts';
import { createLogger } from '../../src/logger.ts';
import {
  ADMIN_USER_TOKEN,
  BOT_TOKEN,
  CHANNELS,
  createSlackHarness,
  SIGNING_SECRET,
  type SlackHarness,
  USERS,
} from '../emulators/slack/harness.ts';
import { SlackEmulator } from '../emulators/slack/server.ts';

const SECRETS = [BOT_TOKEN, SIGNING_SECRET, ADMIN_USER_TOKEN];
const leaks = (text: string) => SECRETS.filter((secret) => text.includes(secret));

// Debug-level logs of every part while requests, failures and refusals happen: no secret may show up.
describe('Slack secrets', () => {
  let h: SlackHarness;

  beforeAll(async () => {
    h = await createSlackHarness({ withWorker: false, userToken: true });
  });
  afterAll(() => h?.cleanup());

  it('GIVEN forged, stale and valid requests, 429s, 5xx and refusals WHEN logged at debug THEN no secret appears', async () => {
    const { message, event } = h.sender.say({ channel: CHANNELS.general, user: USERS.member, text: 'hello' });
    await h.sender.event(event, { signing: 'forged' });
    await h.sender.event(event, { signing: 'stale' });
    await h.sender.event(event);
    await h.sender.command({ userId: USERS.member, channelId: CHANNELS.general, text: 'config replies off' });
    h.emulator.failNext('chat.postMessage', 1, { status: 429, retryAfterSec: 0 });
    h.emulator.failNext('chat.postMessage', 1, { status: 500 });
    h.emulator.failNext('reactions.add', 1, { error: 'invalid_auth' });
    const target = {
      platform: 'slack' as const,
      workspaceId: h.teamId,
      channelId: CHANNELS.general,
      messageId: message.ts,
    };
    await h.stack.queue.enqueueOutbound('slack', [
      { kind: 'reply', key: 'secrets:reply', target, text: 'hi', reason: 'mention' },
      { kind: 'react', key: 'secrets:react', target, sentiment: 'neutral', emoji: '😐' },
    ]);
    await h.emulator.waitFor(
      () => h.emulator.okCalls('chat.postMessage').some((c) => c.params.thread_ts === message.ts),
      20_000,
      'the reply after a 429 and a 500',
    );
    await expect
      .poll(async () => (await h.stack.queue.failedJobs(outboundQueueName('slack'), 10)).length, {
        timeout: 15_000,
      })
      .toBe(1);

    const failed = await h.stack.queue.failedJobs(outboundQueueName('slack'), 10);
    expect(failed[0]?.reason).toMatch(/invalid_auth/);
    expect(leaks(JSON.stringify(failed))).toEqual([]);
    expect(h.logs.length).toBeGreaterThan(20);
    expect(h.logs.some((line) => line.includes('"lib":"bolt"'))).toBe(true);
    expect(leaks(h.logs.join('\n'))).toEqual([]);
  });

  it('GIVEN a bot token Slack refuses WHEN the adapter starts THEN the error names the variable, not the token', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'debug',
      destination: new Writable({
        write(chunk, _e, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    });
    const emulator = await new SlackEmulator({ botToken: 'xoxb-some-other-token' }).start();
    try {
      const adapter = createSlackAdapter({
        config: {
          slack: {
            botToken: BOT_TOKEN,
            signingSecret: SIGNING_SECRET,
            appToken: undefined,
            socketMode: false,
            port: 0,
            apiUrl: emulator.apiUrl,
            adminUsers: [],
          },
        },
        queue: h.stack.queue,
        store: h.stack.store,
        logger,
      });
      const error = await adapter.start().then(
        () => null,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(/SLACK_BOT_TOKEN was refused by Slack \(invalid_auth\)/);
      expect(leaks(`${error?.message} ${error?.stack}`)).toEqual([]);
      expect(leaks(lines.join('\n'))).toEqual([]);
      await adapter.stop();
    } finally {
      await emulator.stop();
    }
  });
});
