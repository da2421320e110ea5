import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundQueueName } from '../../queue/types.ts';
import type { Action, ReactAction, ReplyAction } from '../../src/domain/action.ts';
import type { MessageRef } from '../../src/domain/message.ts';
import { CHANNELS, createSlackHarness, type SlackHarness, USERS } from '../emulators/slack/harness.ts';
import { sleep } from '../queue/fixtures.ts';

// Outbound actions straight onto the real BullMQ queue, delivered by the adapter's consumer to the emulator.
describe('Slack outbound delivery', () => {
  let h: SlackHarness;

  beforeAll(async () => {
    h = await createSlackHarness({ withWorker: false });
  });
  afterAll(() => h?.cleanup());

  const refOf = (ts: string, channelId: string = CHANNELS.general): MessageRef => ({
    platform: 'slack',
    workspaceId: h.teamId,
    channelId,
    messageId: ts,
  });
  const reply = (ts: string, text: string): ReplyAction => ({
    kind: 'reply',
    key: `e2e:${ts}:reply`,
    target: refOf(ts),
    text,
    reason: 'mention',
  });
  const react = (ts: string): ReactAction => ({
    kind: 'react',
    key: `e2e:${ts}:react`,
    target: refOf(ts),
    sentiment: 'positive',
    emoji: '😊',
  });

  it('GIVEN a 429 storm and 5xx errors WHEN actions are delivered THEN each is posted exactly once', async () => {
    const posts = Array.from({ length: 6 }, (_, i) =>
      h.sender.say({ channel: CHANNELS.general, user: USERS.member, text: `question ${i}` }),
    );
    const long = h.sender.say({ channel: CHANNELS.general, user: USERS.member, text: 'tell me everything' });
    const longText = Array.from(
      { length: 60 },
      (_, i) => `Sentence number ${i} of a long answer, padded out.`,
    )
      .join(' ')
      .repeat(3);
    const actions: Action[] = [
      ...posts.map((p) => reply(p.message.ts, `answer to ${p.message.text}`)),
      ...posts.map((p) => react(p.message.ts)),
      reply(long.message.ts, longText),
    ];
    h.emulator.failNext('chat.postMessage', 8, { status: 429, retryAfterSec: 1 });
    h.emulator.failNext('reactions.add', 3, { status: 503 });
    await h.stack.queue.enqueueOutbound('slack', actions);
    // A retried worker job enqueues the same actions again: the delivery keys keep them single.
    await h.stack.queue.enqueueOutbound('slack', actions);

    const expectedParts = Math.ceil(longText.length / 3_000);
    const posted = (ts: string) =>
      h.emulator.okCalls('chat.postMessage').filter((c) => c.params.thread_ts === ts);
    await h.emulator.waitFor(
      () =>
        posts.every((p) => posted(p.message.ts).length >= 1) &&
        posted(long.message.ts).length >= expectedParts &&
        posts.every((p) =>
          h.emulator.okCalls('reactions.add').some((c) => c.params.timestamp === p.message.ts),
        ),
      45_000,
      'every action to be delivered',
    );
    await sleep(1_500); // anything that would post twice has had time to
    expect(h.emulator.calls.filter((c) => c.status === 429).length).toBe(8);
    for (const p of posts) {
      expect(posted(p.message.ts)).toHaveLength(1);
      expect(
        h.emulator.okCalls('reactions.add').filter((c) => c.params.timestamp === p.message.ts),
      ).toHaveLength(1);
    }
    const parts = posted(long.message.ts);
    expect(parts.length).toBeGreaterThanOrEqual(expectedParts);
    expect(parts.every((c) => String(c.params.text).length <= 3_000)).toBe(true);
    expect(new Set(parts.map((c) => c.params.text)).size).toBe(parts.length);
    expect(h.emulator.workspace.messages.find((m) => m.ts === posts[0]!.message.ts)?.reactions[0]?.name).toBe(
      'blush',
    );
  }, 60_000);

  it('GIVEN a channel Slack does not know WHEN a reply is delivered THEN the job fails for good with the reason', async () => {
    await h.stack.queue.enqueueOutbound('slack', [
      {
        ...reply('1700000999.000001', 'hello'),
        key: 'e2e:ghost:reply',
        target: refOf('1700000999.000001', 'C0GHOST'),
      },
    ]);
    await expect
      .poll(async () => (await h.stack.queue.failedJobs(outboundQueueName('slack'), 10)).length, {
        timeout: 15_000,
      })
      .toBeGreaterThan(0);
    const [failed] = await h.stack.queue.failedJobs(outboundQueueName('slack'), 10);
    expect(failed?.reason).toMatch(/channel_not_found/);
    expect(failed?.attemptsMade).toBe(1);
    expect(await h.stack.store.claimDelivery('e2e:ghost:reply', 1_000)).toBe(true);
  });

  it('GIVEN a direct message WHEN the reply is delivered THEN it goes into the DM, not a thread', async () => {
    const dm = h.emulator.workspace.dmWith(USERS.member);
    const { message } = h.sender.say({ channel: dm.id, user: USERS.member, text: 'psst' });
    await h.stack.queue.enqueueOutbound('slack', [
      { ...reply(message.ts, 'hello in private'), target: refOf(message.ts, dm.id), reason: 'direct' },
    ]);
    const call = await h.emulator.waitFor(
      () => h.emulator.okCalls('chat.postMessage').find((c) => c.params.text === 'hello in private'),
      10_000,
      'the DM reply',
    );
    expect(call.params.channel).toBe(dm.id);
    expect(call.params.thread_ts).toBeUndefined();
  });

  it('GIVEN generated text with <!channel> WHEN it is posted THEN it is escaped and pings nobody', async () => {
    const { message } = h.sender.say({ channel: CHANNELS.general, user: USERS.member, text: 'ping?' });
    await h.stack.queue.enqueueOutbound('slack', [reply(message.ts, 'hey <!channel> & <@U0ADMIN>')]);
    const call = await h.emulator.waitFor(
      () => h.emulator.okCalls('chat.postMessage').find((c) => c.params.thread_ts === message.ts),
      10_000,
      'the escaped reply',
    );
    expect(call.params.text).toBe('hey &lt;!channel&gt; &amp; &lt;@U0ADMIN&gt;');
  });
});
