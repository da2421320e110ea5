import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackOutbound } from '../../adapters/slack/outbound.ts';
import { resolveTuning } from '../../adapters/slack/options.ts';
import type { AlertAction, ReplyAction } from '../../src/domain/action.ts';
import { createLogger } from '../../src/logger.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { BOT_TOKEN, CHANNELS, USERS } from '../emulators/slack/harness.ts';
import { SlackEmulator } from '../emulators/slack/index.ts';

/** A real store whose next N confirms fail after the post went through, as when Redis is away for a moment. */
class FlakyConfirmStore extends MemoryStore {
  failConfirms = 0;
  override async confirmDelivery(key: string, retainMs: number, result?: string): Promise<void> {
    if (this.failConfirms > 0) {
      this.failConfirms -= 1;
      throw new Error('Connection is closed.');
    }
    return super.confirmDelivery(key, retainMs, result);
  }
}

// Issue 13, fault 4: after a failed confirm the claim lapsed and the retried job posted a second alert on Slack.
describe('Slack delivery after a failed confirm', () => {
  let emulator: SlackEmulator;
  let store: FlakyConfirmStore;
  let outbound: SlackOutbound;
  const leaseMs = 150;

  beforeAll(async () => {
    emulator = await new SlackEmulator({ botToken: BOT_TOKEN }).start();
    emulator.workspace.addChannel({ id: CHANNELS.general, name: 'general' });
    emulator.workspace.addChannel({ id: CHANNELS.mods, name: 'moderators' });
    emulator.workspace.addUser({ id: USERS.member, name: 'mallory' });
    store = new FlakyConfirmStore();
    await store.start();
    const web = new webApi.WebClient(BOT_TOKEN, {
      slackApiUrl: `${emulator.apiUrl.replace(/\/$/, '')}/`,
      retryConfig: { retries: 0 },
    });
    outbound = new SlackOutbound({
      web,
      deleter: web,
      haveUserToken: false,
      store,
      tuning: resolveTuning({ deliveryLeaseMs: leaseMs }),
      log: createLogger({ level: 'silent' }),
      secrets: [BOT_TOKEN],
    });
  });
  afterAll(async () => {
    await store?.stop();
    await emulator?.stop();
  });

  const lapse = () => new Promise((resolve) => setTimeout(resolve, leaseMs * 2));

  it('GIVEN the confirm of an alert fails WHEN the job is retried after the claim lapsed THEN one alert is visible', async () => {
    const member = emulator.workspace.addMessage({
      channel: CHANNELS.general,
      user: USERS.member,
      text: 'you idiot',
    });
    const alert: AlertAction = {
      kind: 'alert',
      key: `flag:${member.ts}:alert`,
      target: {
        platform: 'slack',
        workspaceId: emulator.workspace.team.id,
        channelId: CHANNELS.general,
        messageId: member.ts,
      },
      flagId: `flag:${member.ts}`,
      moderationChannelId: CHANNELS.mods,
      author: { id: USERS.member, name: 'mallory' },
      excerpt: 'you idiot',
      scores: { offensive: 0.9 },
      flagged: ['offensive'],
      reasons: { offensive: ['idiot'] },
      autoHidden: false,
    };
    // Other traffic in the channel between the attempt and the retry.
    store.failConfirms = 1;
    await expect(outbound.perform(alert)).rejects.toThrow();
    emulator.workspace.addMessage({ channel: CHANNELS.mods, user: USERS.member, text: 'chatter' });
    await lapse();
    await outbound.perform(alert);
    await outbound.perform(alert);
    const alerts = emulator.workspace.botMessages(CHANNELS.mods);
    expect(alerts).toHaveLength(1);
    expect(await store.deliveryResult(alert.key)).toBe(`${CHANNELS.mods}/${alerts[0]!.ts}`);
  });

  it('GIVEN the confirm of a reply fails WHEN retried after the lapse THEN the thread shows it once', async () => {
    const question = emulator.workspace.addMessage({
      channel: CHANNELS.general,
      user: USERS.member,
      text: 'hi?',
    });
    const reply: ReplyAction = {
      kind: 'reply',
      key: `reply:${question.ts}`,
      target: {
        platform: 'slack',
        workspaceId: emulator.workspace.team.id,
        channelId: CHANNELS.general,
        messageId: question.ts,
      },
      text: 'hello there',
      reason: 'mention',
    };
    store.failConfirms = 1;
    await expect(outbound.perform(reply)).rejects.toThrow();
    await lapse();
    await outbound.perform(reply);
    const posted = emulator.workspace
      .thread(CHANNELS.general, question.ts)
      .filter((m) => m.text === 'hello there');
    expect(posted).toHaveLength(1);
  });

  it('GIVEN nothing fails THEN no lookup is made (the common path costs no extra Slack call)', async () => {
    const before = emulator.calls.length;
    const q = emulator.workspace.addMessage({
      channel: CHANNELS.general,
      user: USERS.member,
      text: 'again?',
    });
    await outbound.perform({
      kind: 'reply',
      key: `reply:${q.ts}`,
      target: {
        platform: 'slack',
        workspaceId: emulator.workspace.team.id,
        channelId: CHANNELS.general,
        messageId: q.ts,
      },
      text: 'once',
      reason: 'mention',
    });
    expect(emulator.calls.slice(before).map((c) => c.method)).toEqual(['chat.postMessage']);
  });
});
