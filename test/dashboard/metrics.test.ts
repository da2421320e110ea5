import { afterEach, describe, expect, it } from 'vitest';
import { MemoryDriver } from '../../queue/memory.ts';
import { meteredQueue, StewardMetrics } from '../../queue/metrics.ts';
import type { QueueDriver } from '../../queue/types.ts';
import type { Action } from '../../src/domain/action.ts';
import { InboundMessageSchema, refOf } from '../../src/domain/message.ts';
import { RetryLaterError } from '../../src/errors.ts';
import { MetricsServer } from '../../dashboard/metrics-server.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { createWorker } from '../../worker/pipeline.ts';
import { inbound, sleep, testLogger, waitFor } from '../queue/fixtures.ts';
import { FakeEngine } from '../worker/fake-engine.ts';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function metered(): Promise<{ queue: QueueDriver; metrics: StewardMetrics }> {
  const raw = new MemoryDriver({ logger: testLogger(), policy: { attempts: 2, backoffMs: 10 } });
  const metrics = new StewardMetrics(raw, ['discord']);
  const queue = meteredQueue(raw, metrics);
  await queue.start();
  stops.push(() => queue.stop());
  return { queue, metrics };
}

const value = (text: string, series: string): number => {
  const escaped = series.replace(/[{}"=,.]/g, (c) => `\\${c}`);
  return Number(new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
};

describe('steward_ metrics at the queue boundary', () => {
  it('counts messages in, analysed, flagged per label, replies, deliveries, failures and 429s', async () => {
    const { queue, metrics } = await metered();
    const message = inbound();
    await queue.enqueueInbound(message);
    await queue.enqueueInbound(message); // a redelivery: not a new message
    const target = refOf(InboundMessageSchema.parse(message));
    const alert: Action = {
      kind: 'alert',
      key: 'k-alert',
      target,
      flagId: 'f',
      moderationChannelId: 'mods',
      author: { id: 'u', name: 'n' },
      excerpt: 'x',
      scores: { insult: 0.9, hate: 0.7 },
      flagged: ['insult', 'hate'],
      reasons: {},
      autoHidden: false,
    };
    const reply: Action = { kind: 'reply', key: 'k-reply', target, text: 'hi', reason: 'mention' };
    const inboundDone = await queue.consumeInbound(
      async (m) => {
        await queue.enqueueOutbound(m.platform, [alert, reply]);
      },
      { concurrency: 1 },
    );
    const failedOnce = new Set<string>();
    const outboundDone = await queue.consumeOutbound(
      'discord',
      async (action) => {
        if (failedOnce.has(action.kind)) return;
        failedOnce.add(action.kind);
        if (action.kind === 'reply') throw new RetryLaterError('429', 5);
        throw new Error('boom');
      },
      { concurrency: 1 },
    );
    await waitFor(async () => {
      const t = await metrics.registry.metrics();
      return (
        value(t, 'steward_deliveries_total{platform="discord",kind="reply"}') === 1 &&
        value(t, 'steward_deliveries_total{platform="discord",kind="alert"}') === 1
      );
    }, 5_000);
    await inboundDone.close();
    await outboundDone.close();
    const text = await metrics.registry.metrics();
    expect(value(text, 'steward_messages_in_total{platform="discord"}')).toBe(1);
    expect(value(text, 'steward_messages_analysed_total{platform="discord"}')).toBe(1);
    expect(value(text, 'steward_flagged_total{platform="discord",label="insult"}')).toBe(1);
    expect(value(text, 'steward_flagged_total{platform="discord",label="hate"}')).toBe(1);
    expect(value(text, 'steward_replies_total{platform="discord",reason="mention"}')).toBe(1);
    expect(value(text, 'steward_rate_limited_total{platform="discord"}')).toBe(1);
    expect(value(text, 'steward_delivery_failures_total{platform="discord",kind="alert"}')).toBe(1);
    expect(value(text, 'steward_analysis_seconds_count{platform="discord"}')).toBe(1);
    expect(value(text, 'steward_end_to_end_seconds_count{platform="discord"}')).toBe(1);
    expect(value(text, 'steward_queue_jobs{queue="inbound",state="waiting"}')).toBe(0);
    expect(text).toMatch(/^steward_nodejs_heap_size_used_bytes /m);
  });
});

describe('/metrics after a worker ran jobs', () => {
  it('carries queue depth and oldest-waiting age, batch sizes and durations, end-to-end latency', async () => {
    const { queue, metrics } = await metered();
    const store = new MemoryStore();
    await store.start();
    stops.push(() => store.stop());
    const server = new MetricsServer({ registry: metrics.registry, port: 0, host: '127.0.0.1' });
    await server.start();
    stops.push(() => server.stop());
    const scrape = async () => (await fetch(`${server.url}metrics`)).text();

    for (let i = 0; i < 5; i++) await queue.enqueueInbound(inbound({ text: `hello number ${i}` }));
    await sleep(60);
    const backlog = await scrape();
    expect(value(backlog, 'steward_queue_jobs{queue="inbound",state="waiting"}')).toBe(5);
    expect(value(backlog, 'steward_queue_oldest_waiting_seconds{queue="inbound"}')).toBeGreaterThanOrEqual(
      0.05,
    );

    const engine = new FakeEngine();
    const worker = createWorker({
      queue,
      store,
      engine,
      logger: testLogger(),
      config: { worker: { batchSize: 16, concurrency: 8, replyBatchSize: 4, maxReplyTokens: 8 } },
      options: { heartbeatMs: 60_000, id: 'w-metrics' },
      observer: metrics,
    });
    await worker.start();
    stops.push(() => worker.stop());
    await waitFor(() => worker.stats().processed === 5, 10_000, 'five processed');

    const text = await scrape();
    expect(value(text, 'steward_queue_jobs{queue="inbound",state="waiting"}')).toBe(0);
    expect(value(text, 'steward_queue_oldest_waiting_seconds{queue="inbound"}')).toBe(0);
    expect(value(text, 'steward_batch_size_sum{stage="signals"}')).toBe(5);
    const batches = value(text, 'steward_batch_size_count{stage="signals"}');
    expect(batches).toBe(worker.stats().batches);
    expect(value(text, 'steward_batch_size_bucket{le="128",stage="signals"}')).toBe(batches);
    expect(value(text, 'steward_batch_seconds_count{stage="signals"}')).toBe(batches);
    expect(value(text, 'steward_end_to_end_seconds_count{platform="discord"}')).toBe(5);
    expect(text).toMatch(/^steward_end_to_end_seconds_bucket\{le="900",platform="discord"\} 5$/m);
    // The worker also counted each message in its channel's daily sentiment summary (the dashboard's trend).
    const summary = await store.sentimentSummary('discord', inbound().workspaceId, Date.now() - 86_400_000);
    expect(summary.reduce((n, d) => n + d.negative + d.neutral + d.positive, 0)).toBe(5);
  });
});

describe('steward_ metrics for reactions', () => {
  it('GIVEN a reaction job THEN it counts as a reaction in, not as a message in or analysed', async () => {
    const { queue, metrics } = await metered();
    const message = inbound();
    await queue.enqueueInbound({ ...message, reaction: { emoji: '👍', authorId: 'someone' } });
    let handled = 0;
    await queue.consumeInbound(
      async () => {
        handled += 1;
      },
      { concurrency: 1 },
    );
    await waitFor(() => handled === 1);
    const t = await metrics.registry.metrics();
    expect(value(t, 'steward_reactions_in_total{platform="discord"}')).toBe(1);
    expect(value(t, 'steward_messages_in_total{platform="discord"}')).toBeNaN();
    expect(value(t, 'steward_messages_analysed_total{platform="discord"}')).toBeNaN();
  });
});
