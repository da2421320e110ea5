import { afterEach, describe, expect, it } from 'vitest';
import { nonceOf } from '../../adapters/discord/outbound.ts';
import type { Action, AlertAction } from '../../src/domain/action.ts';
import type { MessageRef } from '../../src/domain/message.ts';
import { say } from '../emulators/discord/events.ts';
import { startMemoryHarness } from '../emulators/discord/harness.ts';
import type { RawMessage } from '../emulators/discord/state.ts';

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

async function setup(tuning = {}) {
  const harness = await startMemoryHarness(tuning);
  stop = harness.stop;
  const { emulator, community } = harness;
  const posted = say(emulator, {
    channelId: community.general,
    author: community.users.member,
    content: 'hello',
  });
  return { ...harness, posted, target: refOf(community.guildId, posted) };
}

function refOf(guildId: string, message: RawMessage): MessageRef {
  return { platform: 'discord', workspaceId: guildId, channelId: message.channel_id, messageId: message.id };
}

const MESSAGES = /^\/channels\/\d+\/messages$/;

/** Successful message POSTs per nonce: what members would actually see. */
function createdPerNonce(requests: Array<{ method: string; path: string; status: number; body: unknown }>) {
  const counts = new Map<string, number>();
  for (const r of requests) {
    if (r.method !== 'POST' || !MESSAGES.test(r.path) || r.status >= 300) continue;
    const nonce = String((r.body as { nonce?: string }).nonce);
    counts.set(nonce, (counts.get(nonce) ?? 0) + 1);
  }
  return counts;
}

describe('Discord adapter: outbound actions', () => {
  it('GIVEN a reply action WHEN performed THEN it is posted as a reply to the message, with no mass pings', async () => {
    const { adapter, emulator, target, posted } = await setup();
    await adapter.perform({
      kind: 'reply',
      key: 'k:reply',
      target,
      text: 'Hi @everyone!',
      reason: 'mention',
    });
    const [post] = emulator.find('POST', MESSAGES);
    expect(post?.body).toMatchObject({
      content: 'Hi @everyone!',
      message_reference: { message_id: posted.id },
      allowed_mentions: { parse: [] },
      nonce: nonceOf('k:reply'),
      enforce_nonce: true,
    });
  });

  it('GIVEN a reply longer than 2,000 characters WHEN performed THEN it is split into parts under the limit', async () => {
    const { adapter, emulator, target } = await setup();
    const text = Array.from({ length: 500 }, (_, i) => `word${i}`).join(' ');
    await adapter.perform({ kind: 'reply', key: 'k:long', target, text, reason: 'mention' });
    const posts = emulator.find('POST', MESSAGES);
    expect(posts.length).toBeGreaterThan(1);
    for (const p of posts) expect(String(p.body?.content).length).toBeLessThanOrEqual(2000);
    expect(posts.map((p) => p.body?.content).join(' ')).toBe(text);
  });

  it('GIVEN a message in a thread WHEN replying and reacting THEN both go to the thread', async () => {
    const { adapter, emulator, community } = await setup();
    const inThread = say(emulator, {
      channelId: community.thread,
      author: community.users.member,
      content: 'q',
    });
    const target = {
      ...refOf(community.guildId, inThread),
      channelId: community.general,
      threadId: community.thread,
    };
    await adapter.perform({ kind: 'reply', key: 't:reply', target, text: 'a', reason: 'mention' });
    await adapter.perform({ kind: 'react', key: 't:react', target, sentiment: 'positive', emoji: '😊' });
    expect(emulator.find('POST', new RegExp(`^/channels/${community.thread}/messages$`))).toHaveLength(1);
    expect(
      emulator.find('PUT', new RegExp(`^/channels/${community.thread}/messages/${inThread.id}/reactions/`)),
    ).toHaveLength(1);
  });

  it('GIVEN an action already delivered WHEN performed again (a retried job) THEN nothing is posted twice', async () => {
    const { adapter, emulator, target, store } = await setup();
    const action: Action = { kind: 'reply', key: 'k:twice', target, text: 'once', reason: 'mention' };
    await adapter.perform(action);
    await adapter.perform(action);
    await Promise.all([adapter.perform(action), adapter.perform(action)]);
    expect(emulator.find('POST', MESSAGES)).toHaveLength(1);
    expect(await store.deliveryResult('k:twice')).toMatch(/^\d+$/);
  });

  it('GIVEN a 5xx after Discord created the message WHEN discord.js retries THEN the nonce makes it one message', async () => {
    const { adapter, emulator, target } = await setup();
    emulator.inject({ method: 'POST', path: MESSAGES, status: 502, times: 1, afterCommit: true });
    await adapter.perform({ kind: 'reply', key: 'k:lost-answer', target, text: 'once', reason: 'mention' });
    expect(emulator.find('POST', MESSAGES).map((r) => r.status)).toEqual([502, 200]);
    const bot = emulator.state.botUser.id;
    expect([...emulator.state.messages.values()].filter((m) => m.author.id === bot)).toHaveLength(1);
  });

  it('GIVEN an alert WHEN performed THEN an embed with scores, reasons, jump link and three buttons goes to the mod channel', async () => {
    const { adapter, emulator, target, community, posted } = await setup();
    const alert: AlertAction = {
      kind: 'alert',
      key: 'k:alert',
      target,
      flagId: `flag:discord:${community.guildId}:${community.general}:${posted.id}`,
      moderationChannelId: community.mod,
      author: { id: community.users.member.id, name: 'mel' },
      excerpt: 'you *are* an idiot',
      scores: { offensive: 0.91, threat: 0.02 },
      flagged: ['offensive'],
      reasons: { offensive: ['idiot'] },
      autoHidden: false,
    };
    await adapter.perform(alert);
    const [post] = emulator.find('POST', new RegExp(`^/channels/${community.mod}/messages$`));
    const embed = (post!.body!.embeds as Array<Record<string, unknown>>)[0]!;
    expect(embed.url).toBe(
      `https://discord.com/channels/${community.guildId}/${community.general}/${posted.id}`,
    );
    expect(JSON.stringify(embed.fields)).toContain('**offensive: 0.91**');
    expect(JSON.stringify(embed.fields)).toContain('`idiot`');
    expect(embed.description).toBe('> you \\*are\\* an idiot');
    const buttons = (post!.body!.components as Array<{ components: Array<{ custom_id: string }> }>)[0]!
      .components;
    expect(buttons.map((b) => b.custom_id)).toEqual([
      `steward:dismiss:${alert.flagId}`,
      `steward:delete:${alert.flagId}`,
      `steward:timeout:${alert.flagId}`,
    ]);
  });

  it('GIVEN a hide action WHEN the message is already gone THEN it counts as done', async () => {
    const { adapter, emulator, target } = await setup();
    await adapter.perform({ kind: 'hide', key: 'k:hide', target, flagId: 'f' });
    await adapter.perform({ kind: 'hide', key: 'k:hide2', target, flagId: 'f' });
    expect(emulator.find('DELETE', /\/messages\/\d+$/).map((r) => r.status)).toEqual([204, 404]);
    expect(emulator.state.deleted.has(target.messageId)).toBe(true);
  });

  it('GIVEN Discord refuses a reply (4xx) WHEN the job runs THEN it lands in the failed set with the reason', async () => {
    const { emulator, target, queue } = await setup();
    emulator.state.messages.delete(target.messageId);
    await queue.enqueueOutbound('discord', [
      { kind: 'reply', key: 'k:gone', target, text: 'x', reason: 'mention' },
    ]);
    const jobs = await waitForFailed(queue);
    expect(jobs[0]?.reason).toMatch(/steward\.platform\.rejected: Discord answered 400 \(code 50035\)/);
  });

  it('GIVEN a 429 storm on the message route WHEN many actions go out THEN each is delivered exactly once', async () => {
    const { emulator, target, queue } = await setup();
    emulator.inject({ method: 'POST', path: MESSAGES, status: 429, times: 4, retryAfter: 0.3 });
    // One long limit: more than maxInlineRateLimitMs, so the job is put off (RetryLaterError) instead of waiting inline.
    emulator.inject({ method: 'POST', path: MESSAGES, status: 429, times: 1, retryAfter: 2.5 });
    const actions: Action[] = Array.from({ length: 8 }, (_, i) => ({
      kind: 'reply',
      key: `storm:${i}`,
      target,
      text: `reply ${i}`,
      reason: 'mention',
    }));
    await queue.enqueueOutbound('discord', actions);
    const counts = await emulator.waitFor(
      'all eight replies',
      () => {
        const c = createdPerNonce(emulator.requests);
        return c.size === 8 ? c : undefined;
      },
      30_000,
    );
    expect([...counts.values()]).toEqual(Array(8).fill(1));
    expect(emulator.find('POST', MESSAGES).filter((r) => r.status === 429)).toHaveLength(5);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(createdPerNonce(emulator.requests).size).toBe(8);
  }, 60_000);
});

async function waitForFailed(queue: {
  failedJobs(q: string, n: number): Promise<Array<{ reason: string }>>;
}) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const jobs = await queue.failedJobs('outbound-discord', 10);
    if (jobs.length > 0 || Date.now() > deadline) return jobs;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
