import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Platform } from '../src/domain/message.ts';
import { RetryLaterError } from '../src/errors.ts';
import { INBOUND_QUEUE, outboundQueueName, type QueueDriver } from './types.ts';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128];
// From the platform's timestamp: a backlog (no worker up, a burst) stretches it to minutes.
const END_TO_END_SECONDS = [...SECONDS, 60, 120, 300, 900];

/** Stages of the worker that run batched inference: signals (moderation, sentiment, embedding) and replies. */
export type BatchStage = 'signals' | 'replies';

/** The `steward_` metrics of one process, in its own registry (no global state). */
export class StewardMetrics {
  readonly registry = new Registry();
  readonly messagesIn: Counter<'platform'>;
  readonly reactionsIn: Counter<'platform'>;
  readonly analysed: Counter<'platform'>;
  readonly analysisFailures: Counter<'platform'>;
  readonly flagged: Counter<'platform' | 'label'>;
  readonly replies: Counter<'platform' | 'reason'>;
  readonly actions: Counter<'platform' | 'kind'>;
  readonly delivered: Counter<'platform' | 'kind'>;
  readonly deliveryFailures: Counter<'platform' | 'kind'>;
  readonly rateLimited: Counter<'platform'>;
  readonly analysisSeconds: Histogram<'platform'>;
  readonly endToEndSeconds: Histogram<'platform'>;
  readonly deliverySeconds: Histogram<'platform' | 'kind'>;
  readonly queueJobs: Gauge<'queue' | 'state'>;
  readonly queueOldestWaiting: Gauge<'queue'>;
  readonly batchSize: Histogram<'stage'>;
  readonly batchSeconds: Histogram<'stage'>;

  /** `queues` are read at each scrape for the depth gauge. */
  constructor(queue?: QueueDriver, platforms: readonly Platform[] = []) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'steward_' });
    this.messagesIn = new Counter({
      name: 'steward_messages_in_total',
      help: 'Messages enqueued for analysis (redelivered duplicates not counted)',
      labelNames: ['platform'],
      registers,
    });
    this.reactionsIn = new Counter({
      name: 'steward_reactions_in_total',
      help: "Members' reactions enqueued for their interest profiles (not counted as messages)",
      labelNames: ['platform'],
      registers,
    });
    this.analysed = new Counter({
      name: 'steward_messages_analysed_total',
      help: 'Messages analysed and their actions queued',
      labelNames: ['platform'],
      registers,
    });
    this.analysisFailures = new Counter({
      name: 'steward_analysis_failures_total',
      help: 'Inbound job attempts that threw (retried or failed)',
      labelNames: ['platform'],
      registers,
    });
    this.flagged = new Counter({
      name: 'steward_flagged_total',
      help: 'Moderator alerts queued, per moderation label that raised them',
      labelNames: ['platform', 'label'],
      registers,
    });
    this.replies = new Counter({
      name: 'steward_replies_total',
      help: 'Replies queued',
      labelNames: ['platform', 'reason'],
      registers,
    });
    this.actions = new Counter({
      name: 'steward_actions_queued_total',
      help: 'Outbound actions queued, by kind (react, reply, alert, hide)',
      labelNames: ['platform', 'kind'],
      registers,
    });
    this.delivered = new Counter({
      name: 'steward_deliveries_total',
      help: 'Outbound actions delivered to the platform',
      labelNames: ['platform', 'kind'],
      registers,
    });
    this.deliveryFailures = new Counter({
      name: 'steward_delivery_failures_total',
      help: 'Outbound delivery attempts that failed (retried or given up)',
      labelNames: ['platform', 'kind'],
      registers,
    });
    this.rateLimited = new Counter({
      name: 'steward_rate_limited_total',
      help: 'Deliveries the platform put off (HTTP 429 / retry-after)',
      labelNames: ['platform'],
      registers,
    });
    this.analysisSeconds = new Histogram({
      name: 'steward_analysis_seconds',
      help: 'Time to handle one inbound job: batching wait, inference and decision',
      labelNames: ['platform'],
      buckets: SECONDS,
      registers,
    });
    this.endToEndSeconds = new Histogram({
      name: 'steward_end_to_end_seconds',
      help: "From the platform's message timestamp to its actions being queued",
      labelNames: ['platform'],
      buckets: END_TO_END_SECONDS,
      registers,
    });
    this.deliverySeconds = new Histogram({
      name: 'steward_delivery_seconds',
      help: 'Time to perform one outbound action on the platform',
      labelNames: ['platform', 'kind'],
      buckets: SECONDS,
      registers,
    });
    const queues = [INBOUND_QUEUE, ...platforms.map(outboundQueueName)];
    this.queueJobs = new Gauge({
      name: 'steward_queue_jobs',
      help: 'Jobs per queue and state, read at scrape time',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        if (!queue) return;
        for (const name of queues) {
          const counts = await queue.counts(name).catch(() => null);
          if (!counts) continue;
          for (const state of ['waiting', 'active', 'delayed', 'failed'] as const) {
            this.set({ queue: name, state }, counts[state]);
          }
        }
      },
    });
    this.queueOldestWaiting = new Gauge({
      name: 'steward_queue_oldest_waiting_seconds',
      help: 'Age of the oldest job waiting per queue (0 when none waits), read at scrape time',
      labelNames: ['queue'],
      registers,
      async collect() {
        if (!queue) return;
        const now = Date.now();
        for (const name of queues) {
          const oldest = await queue.oldestWaiting(name).catch(() => undefined);
          if (oldest === undefined) continue;
          this.set({ queue: name }, oldest === null ? 0 : Math.max(0, (now - oldest) / 1000));
        }
      },
    });
    this.batchSize = new Histogram({
      name: 'steward_batch_size',
      help: "Messages per inference batch of the worker's continuous batcher, by stage",
      labelNames: ['stage'],
      buckets: BATCH_SIZES,
      registers,
    });
    this.batchSeconds = new Histogram({
      name: 'steward_batch_seconds',
      help: 'Time to run one inference batch, by stage',
      labelNames: ['stage'],
      buckets: SECONDS,
      registers,
    });
  }

  /** The worker reports each inference batch it ran (see WorkerObserver in worker/pipeline.ts). */
  observeBatch(stage: BatchStage, size: number, seconds: number): void {
    this.batchSize.observe({ stage }, size);
    this.batchSeconds.observe({ stage }, seconds);
  }
}

const isReaction = (value: unknown): boolean =>
  (value as { reaction?: unknown } | null)?.reaction !== undefined;

const platformOf = (value: unknown): string => {
  const p = (value as { platform?: unknown } | null)?.platform;
  return typeof p === 'string' ? p : 'unknown';
};

/**
 * The queue with metrics taken at its boundary: what goes in, what the worker's handler does with it, what goes
 * out and how delivery fares. Adapters and workers stay unaware of metrics.
 */
export function meteredQueue(queue: QueueDriver, metrics: StewardMetrics): QueueDriver {
  return {
    get kind() {
      return queue.kind;
    },
    start: () => queue.start(),
    stop: () => queue.stop(),
    counts: (name) => queue.counts(name),
    oldestWaiting: (name) => queue.oldestWaiting(name),
    failedJobs: (name, limit) => queue.failedJobs(name, limit),
    workersAlive: () => queue.workersAlive(),
    forgetMember: (platform, workspaceId, userId) => queue.forgetMember(platform, workspaceId, userId),
    async enqueueInbound(message) {
      const result = await queue.enqueueInbound(message);
      const counter = isReaction(message) ? metrics.reactionsIn : metrics.messagesIn;
      if (!result.duplicate) counter.inc({ platform: platformOf(message) });
      return result;
    },
    async enqueueOutbound(platform, actions) {
      await queue.enqueueOutbound(platform, actions);
      for (const action of actions) {
        metrics.actions.inc({ platform, kind: action.kind });
        if (action.kind === 'alert')
          for (const label of action.flagged) metrics.flagged.inc({ platform, label });
        if (action.kind === 'reply') metrics.replies.inc({ platform, reason: action.reason });
      }
    },
    consumeInbound(handler, options) {
      return queue.consumeInbound(async (message, job) => {
        // A reaction only updates a profile: the analysis figures are about messages.
        if (message.reaction) return handler(message, job);
        const labels = { platform: message.platform };
        const end = metrics.analysisSeconds.startTimer(labels);
        try {
          await handler(message, job);
        } catch (error) {
          metrics.analysisFailures.inc(labels);
          throw error;
        }
        end();
        metrics.analysed.inc(labels);
        metrics.endToEndSeconds.observe(labels, Math.max(0, (Date.now() - message.timestamp) / 1000));
      }, options);
    },
    consumeOutbound(platform, handler, options) {
      return queue.consumeOutbound(
        platform,
        async (action, job) => {
          const labels = { platform, kind: action.kind };
          const end = metrics.deliverySeconds.startTimer(labels);
          try {
            await handler(action, job);
          } catch (error) {
            if (error instanceof RetryLaterError) metrics.rateLimited.inc({ platform });
            else metrics.deliveryFailures.inc(labels);
            throw error;
          }
          end();
          metrics.delivered.inc(labels);
        },
        options,
      );
    },
  };
}
