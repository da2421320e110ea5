import { type ConnectionOptions, DelayedError, type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Action } from '../src/domain/action.ts';
import type { Platform } from '../src/domain/message.ts';
import { ErrorCode, LifecycleError, QueueUnavailableError, StewardError } from '../src/errors.ts';
import type { Logger } from '../src/logger.ts';
import {
  classifyError,
  DefaultJobPolicy,
  errorReason,
  type InboundJobData,
  type JobPolicy,
  parseInboundJob,
  prepareInbound,
} from './jobs.ts';
import {
  type ConsumeOptions,
  type Consumer,
  type EnqueueResult,
  type FailedJobInfo,
  INBOUND_QUEUE,
  type InboundHandler,
  type JobInfo,
  type OutboundHandler,
  outboundQueueName,
  type QueueCounts,
  type QueueDriver,
} from './types.ts';
import { fromBullId, redisOptionsFromUrl, toBullId } from './bullmq-ids.ts';
import { JobScrubber } from './forget.ts';
import { LeanWorker, useLeanScripts } from './bullmq-lean.ts';

/** Finished jobs read per round trip while forget-me scans a queue. */
const FORGET_PAGE = 500;

export interface BullMQDriverOptions {
  /** redis:// or rediss:// URL. */
  url: string;
  /** Key prefix of every queue key (config.redis.prefix). */
  prefix: string;
  /**
   * Consumers fetch with fewer Redis commands for a job that arrives at an idle queue (config.redis.leanFetching,
   * default true; see bullmq-lean.ts). false = BullMQ's Worker and scripts as shipped.
   */
  leanFetching?: boolean;
  logger: Logger;
  policy?: Partial<JobPolicy>;
  /** A worker holds a job's lock this long between renewals; a crashed worker's jobs return after it expires. */
  lockDurationMs?: number;
  /** How often workers look for jobs whose lock expired. */
  stalledIntervalMs?: number;
  /** Times a job may stall (its worker died) before it is failed instead of handed out again. */
  maxStalledCount?: number;
  /** How long start() waits for Redis before failing (a worker must not hang silently on a wrong URL). */
  connectTimeoutMs?: number;
  /**
   * Enqueues that may wait for Redis at once (DefaultEnqueueBounds). Past it, enqueueInbound/enqueueOutbound throw
   * QueueUnavailableError at once instead of holding one more message in memory.
   */
  maxPendingEnqueues?: number;
}

/**
 * What an outage may cost in memory. Producer connections give up on a command after this many reconnect attempts
 * (about a second each), instead of ioredis's 20 (minutes, with BullMQ's backoff), and at most maxPendingEnqueues
 * enqueues wait at once: at 40,000 characters a message, about 100 MB in the worst case.
 */
export const DefaultEnqueueBounds = Object.freeze({
  maxPendingEnqueues: 1_000,
  retriesPerCommand: 2,
});

export const DefaultBullMQTiming = Object.freeze({
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
  // A worker killed mid-batch stalls all of its jobs at once; allow a few such deaths before giving up on a job.
  maxStalledCount: 3,
});

type Processor = (job: Job, token: string | undefined) => Promise<void>;

/** The distributed queue driver: BullMQ on Redis. Adapters enqueue, `steward worker` processes consume. */
export class BullMQDriver implements QueueDriver {
  readonly kind = 'bullmq' as const;
  readonly #options: BullMQDriverOptions;
  readonly #policy: JobPolicy;
  readonly #log: Logger;
  #connection: ConnectionOptions | null = null;
  /** For Queues (producers): bounded retries, see DefaultEnqueueBounds. Workers keep BullMQ's own settings. */
  #producerConnection: ConnectionOptions | null = null;
  #pendingEnqueues = 0;
  readonly #queues = new Map<string, Queue>();
  readonly #consumers = new Set<Consumer>();
  #state: 'new' | 'started' | 'stopped' = 'new';
  #stopping: Promise<void> | null = null;

  constructor(options: BullMQDriverOptions) {
    this.#options = options;
    this.#policy = { ...DefaultJobPolicy, ...options.policy };
    this.#log = options.logger.child({ component: 'queue', driver: 'bullmq' });
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new LifecycleError(`queue driver cannot start: it is ${this.#state}`);
    // Options rather than a shared client: bullmq bundles its own ioredis, and owning its connections lets its
    // close() order them (each Queue one connection, each Worker two). Workers set maxRetriesPerRequest: null.
    this.#connection = redisOptionsFromUrl(this.#options.url);
    this.#producerConnection = {
      ...this.#connection,
      maxRetriesPerRequest: DefaultEnqueueBounds.retriesPerCommand,
    } as ConnectionOptions;
    this.#state = 'started';
    // Fail at start, not at the first enqueue (and not by hanging: ioredis retries forever) when Redis is away.
    const timeoutMs = this.#options.connectTimeoutMs ?? 10_000;
    const { host, port } = this.#connection as { host: string; port: number };
    try {
      await withTimeout(this.#queue(INBOUND_QUEUE).waitUntilReady(), timeoutMs, () => {
        const message = `cannot reach Redis at ${host}:${port} (REDIS_URL) within ${timeoutMs} ms`;
        return new StewardError(ErrorCode.Store, message);
      });
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#close();
    return this.#stopping;
  }

  async #close(): Promise<void> {
    const wasStarted = this.#state === 'started';
    this.#state = 'stopped';
    if (!wasStarted) return;
    // Stop intake and drain in-flight jobs first, then the producers; each closes its own connections.
    await this.#settle(
      'consumer',
      [...this.#consumers].map((c) => c.close()),
    );
    await this.#settle(
      'queue',
      [...this.#queues.values()].map((q) => closeQueue(q)),
    );
  }

  async #settle(what: string, closing: Array<Promise<void> | undefined>): Promise<void> {
    for (const result of await Promise.allSettled(closing)) {
      if (result.status === 'rejected') this.#log.error({ err: result.reason }, `closing ${what} failed`);
    }
  }

  #assertStarted(): void {
    if (this.#state !== 'started') throw new LifecycleError(`queue driver is ${this.#state}, not started`);
  }

  #queue(name: string): Queue {
    this.#assertStarted();
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new Queue(name, {
        connection: this.#producerConnection!,
        prefix: this.#options.prefix,
        defaultJobOptions: jobOptionsOf(this.#policy),
      });
      queue.on('error', (error) => this.#logError(error, { queue: name }, 'queue error'));
      this.#queues.set(name, queue);
    }
    return queue;
  }

  async enqueueInbound(payload: unknown): Promise<EnqueueResult> {
    const queue = this.#queue(INBOUND_QUEUE);
    const prepared = prepareInbound(payload);
    const name = prepared.invalidReason === null ? 'message' : 'malformed';
    const bullId = toBullId(prepared.jobId);
    const stored = await this.#bounded(`queueing ${prepared.jobId}`, async () => {
      await queue.add(name, prepared.data, { jobId: bullId });
      // add() is a no-op for an existing id; the stored nonce tells whether this call created the job.
      return (await queue.client).hget(queue.toKey(bullId), 'data');
    });
    const duplicate = stored !== null && (JSON.parse(stored) as InboundJobData).nonce !== prepared.data.nonce;
    if (prepared.invalidReason !== null && !duplicate) {
      this.#log.warn(
        { jobId: prepared.jobId, reason: prepared.invalidReason },
        'malformed inbound message queued to fail',
      );
    }
    return { jobId: prepared.jobId, duplicate };
  }

  async enqueueOutbound(platform: Platform, actions: Action[]): Promise<void> {
    if (actions.length === 0) return;
    const queue = this.#queue(outboundQueueName(platform));
    // The action key is the job id: an action re-enqueued by a retried inbound job is one job.
    const [only] = actions;
    await this.#bounded<unknown>(`queueing ${actions.length} ${platform} action(s)`, () =>
      // Most messages give one action (a tag or an alert): add() runs BullMQ's add script alone, where addBulk()
      // wraps it in a pipeline, at twice the client CPU (≈ 100 vs 150-290 µs per action measured side by side; Redis's
      // CPU the same). Several actions go in one pipeline (BullMQ 5.81's createBulk), which is not a transaction: if
      // one add fails the enqueue fails, and the message's retry re-adds them all by their ids (an existing id is a
      // no-op), so none is lost or doubled.
      actions.length === 1 && only
        ? queue.add(only.kind, only, { jobId: toBullId(only.key) })
        : queue.addBulk(
            actions.map((action) => ({
              name: action.kind,
              data: action,
              opts: { jobId: toBullId(action.key) },
            })),
          ),
    );
  }

  /**
   * Runs an enqueue unless too many already wait for Redis; any failure becomes a QueueUnavailableError (nothing
   * was queued — or, rarely, it was and a retry finds the job by its id). The count is released only when Redis
   * settles the commands, so it measures what the connection really holds.
   */
  async #bounded<T>(what: string, write: () => Promise<T>): Promise<T> {
    const bound = this.#options.maxPendingEnqueues ?? DefaultEnqueueBounds.maxPendingEnqueues;
    if (this.#pendingEnqueues >= bound) {
      throw new QueueUnavailableError(
        `${what}: refused, ${this.#pendingEnqueues} enqueues already wait for Redis (the bound is ${bound})`,
      );
    }
    this.#pendingEnqueues += 1;
    try {
      return await write();
    } catch (error) {
      if (error instanceof StewardError) throw error;
      throw new QueueUnavailableError(`${what}: Redis did not take it (${errorReason(error)})`, error);
    } finally {
      this.#pendingEnqueues -= 1;
    }
  }

  /** Enqueues waiting for Redis now (for status and tests). */
  get pendingEnqueues(): number {
    return this.#pendingEnqueues;
  }

  consumeInbound(handler: InboundHandler, options: ConsumeOptions): Promise<Consumer> {
    return this.#consume(INBOUND_QUEUE, options, async (job, token) => {
      let message: ReturnType<typeof parseInboundJob>;
      try {
        message = parseInboundJob(job.data);
      } catch (error) {
        throw new UnrecoverableError(errorReason(error));
      }
      await this.#run(job, token, () => handler(message, jobInfo(job)));
    });
  }

  consumeOutbound(platform: Platform, handler: OutboundHandler, options: ConsumeOptions): Promise<Consumer> {
    return this.#consume(outboundQueueName(platform), options, (job, token) =>
      this.#run(job, token, () => handler(job.data as Action, jobInfo(job))),
    );
  }

  /** Maps a handler's error to BullMQ's retry machinery (see classifyError). */
  async #run(job: Job, token: string | undefined, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      // attemptsStarted counts this run and stalls too; what is left over beyond failures is earlier delays.
      const delays = Math.max(0, job.attemptsStarted - 1 - job.attemptsMade);
      const disposition = classifyError(error, delays, this.#policy);
      if (disposition.kind === 'retry-later') {
        await job.moveToDelayed(Date.now() + disposition.delayMs, token);
        throw new DelayedError();
      }
      if (disposition.kind === 'unrecoverable') throw new UnrecoverableError(errorReason(error));
      const retry = new Error(errorReason(error), { cause: error });
      if (error instanceof Error && error.stack) retry.stack = error.stack;
      throw retry;
    }
  }

  async #consume(name: string, options: ConsumeOptions, processor: Processor): Promise<Consumer> {
    this.#assertStarted(); // no Queue here: a consumer needs none, and each Queue holds a Redis connection
    const timing = { ...DefaultBullMQTiming, ...definedOnly(this.#options) };
    const lean = this.#options.leanFetching ?? true;
    const worker = new (lean ? LeanWorker : Worker)(name, processor, {
      connection: this.#connection!,
      prefix: this.#options.prefix,
      concurrency: options.concurrency,
      lockDuration: timing.lockDurationMs,
      stalledInterval: timing.stalledIntervalMs,
      maxStalledCount: timing.maxStalledCount,
      autorun: false,
    });
    this.#bridgeEvents(worker, name);
    try {
      await worker.waitUntilReady();
    } catch (error) {
      await worker.close(true).catch(() => undefined); // or its connection keeps reconnecting for nobody
      throw error;
    }
    if (lean) await this.#useLeanScripts(worker, name);
    void worker
      .run()
      .catch((error: unknown) => this.#log.error({ err: error, queue: name }, 'worker stopped'));
    let closing: Promise<void> | null = null;
    const consumer: Consumer = {
      close: () => {
        closing ??= worker.close().finally(() => this.#consumers.delete(consumer));
        return closing;
      },
    };
    this.#consumers.add(consumer);
    return consumer;
  }

  /**
   * Before the worker's first fetch. If BullMQ's scripts no longer match, its own stay (one log line), and LeanWorker
   * then behaves as BullMQ's Worker: nothing tells it that it took the last job.
   */
  async #useLeanScripts(worker: Worker, queue: string): Promise<void> {
    try {
      useLeanScripts(await worker.client);
    } catch (error) {
      const message = "BullMQ's fetching scripts run as shipped (lean fetching not applied)";
      this.#logError(error as Error, { queue }, message);
    }
  }

  /** The one place where BullMQ's events become log lines. */
  #bridgeEvents(worker: Worker, queue: string): void {
    worker.on('failed', (job, error) => {
      const final =
        error.name === 'UnrecoverableError' ||
        (job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1));
      this.#log[final ? 'error' : 'warn'](
        { queue, jobId: fromBullId(job?.id ?? ''), attemptsMade: job?.attemptsMade, reason: error.message },
        final ? 'job failed for good' : 'job failed, will retry',
      );
    });
    worker.on('error', (error) => this.#logError(error, { queue }, 'worker error'));
    worker.on('stalled', (jobId) =>
      this.#log.warn({ queue, jobId: fromBullId(jobId) }, 'job stalled; back in the queue for any worker'),
    );
  }

  readonly #lastLogged = new Map<string, number>();

  /** While Redis is down every connection reports every reconnect attempt; one line per error per 30 s is enough. */
  #logError(error: Error, fields: Record<string, unknown>, msg: string): void {
    const key = `${msg}:${error.message}`;
    const now = Date.now();
    if (now - (this.#lastLogged.get(key) ?? 0) < 30_000) return;
    this.#lastLogged.set(key, now);
    if (this.#lastLogged.size > 100) this.#lastLogged.clear();
    this.#log.error({ err: error, ...fields }, msg);
  }

  async counts(queue: string): Promise<QueueCounts> {
    const c = await this.#queue(queue).getJobCounts(
      'waiting',
      'prioritized',
      'paused',
      'active',
      'delayed',
      'failed',
      'completed',
    );
    return {
      waiting: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.paused ?? 0),
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
      failed: c.failed ?? 0,
      completed: c.completed ?? 0,
    };
  }

  async oldestWaiting(queue: string): Promise<number | null> {
    // BullMQ pushes new jobs on the left of the wait list: ascending order puts the oldest first.
    const [oldest] = await this.#queue(queue).getJobs(['wait'], 0, 0, true);
    return oldest ? oldest.timestamp : null;
  }

  async failedJobs(queue: string, limit: number): Promise<FailedJobInfo[]> {
    const jobs = await this.#queue(queue).getFailed(0, Math.max(0, limit - 1));
    return jobs
      .filter((job): job is Job => job !== undefined && job !== null)
      .map((job) => ({
        id: fromBullId(job.id ?? ''),
        queue,
        reason: job.failedReason ?? '',
        attemptsMade: job.attemptsMade,
        failedAt: job.finishedOn ?? null,
        data: queue === INBOUND_QUEUE ? (job.data as InboundJobData).payload : job.data,
      }));
  }

  async workersAlive(): Promise<number> {
    return (await this.#queue(INBOUND_QUEUE).getWorkers()).length;
  }

  /**
   * The BullMQ queues themselves, for an admin UI (Bull Board on the dashboard). They are this driver's own: it
   * closes them on stop(), so the caller must not.
   */
  queues(names: readonly string[]): Queue[] {
    return names.map((name) => this.#queue(name));
  }

  async forgetMember(platform: Platform, workspaceId: string, userId: string): Promise<number> {
    const scrubber = new JobScrubber({ platform, workspaceId, userId });
    // Inbound first: the scrubber matches replies and tags through the member's messages seen there.
    const inbound = await this.#scrub(INBOUND_QUEUE, (data) => scrubber.inbound(data));
    const outbound = await this.#scrub(outboundQueueName(platform), (data) => scrubber.outbound(data));
    if (inbound + outbound > 0) this.#log.info({ inbound, outbound }, 'forget-me scrubbed finished jobs');
    return inbound + outbound;
  }

  /** Rewrites the data of the completed and failed jobs for which `change` gives new data. */
  async #scrub(name: string, change: (data: unknown) => unknown): Promise<number> {
    const queue = this.#queue(name);
    let changed = 0;
    for (const state of ['completed', 'failed'] as const) {
      // Newest first: jobs finishing meanwhile shift the pages towards repeats (harmless: a scrubbed job does
      // not match again), while old ones expiring at the far end shift nothing already ahead of us.
      for (let start = 0; ; start += FORGET_PAGE) {
        const jobs = await queue.getJobs([state], start, start + FORGET_PAGE - 1, false);
        for (const job of jobs) {
          const next = job ? change(job.data) : null;
          if (!job || next === null) continue;
          try {
            await job.updateData(next);
            changed += 1;
          } catch (error) {
            // Removed meanwhile (completed-job retention): nothing left to scrub.
            if (job.id && (await queue.getJob(job.id))) throw error;
          }
        }
        if (jobs.length < FORGET_PAGE) break;
      }
    }
    return changed;
  }
}

/** BullMQ's options for every job of a queue, from the retry and retention policy. */
export function jobOptionsOf(policy: JobPolicy) {
  return {
    attempts: policy.attempts,
    backoff: { type: 'exponential', delay: policy.backoffMs },
    removeOnComplete: { age: Math.ceil(policy.completedRetentionMs / 1000) },
    removeOnFail: { count: policy.failedKeep },
  };
}

function jobInfo(job: Job): JobInfo {
  return { id: fromBullId(job.id ?? ''), attemptsMade: job.attemptsMade };
}

/** How long stop() lets a queue that is still connecting finish its handshake before closing it anyway. */
const CLOSE_HANDSHAKE_MS = 1_000;

/**
 * Closes a queue once its connection handshake is over: bullmq 5.81 closing a Queue mid-handshake leaves the
 * handshake's command rejected with "Connection is closed" and nothing handling it (an unhandled rejection; a
 * queue created just before stop(), such as the dashboard's board queues, hits it). Redis being away does not
 * hold stop() up past CLOSE_HANDSHAKE_MS.
 */
async function closeQueue(queue: Queue): Promise<void> {
  await withTimeout(queue.waitUntilReady(), CLOSE_HANDSHAKE_MS, () => new Error('handshake timed out')).catch(
    () => undefined,
  );
  await queue.close();
}

async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function definedOnly(
  options: BullMQDriverOptions,
): Partial<Record<keyof typeof DefaultBullMQTiming, number>> {
  const out: Partial<Record<keyof typeof DefaultBullMQTiming, number>> = {};
  for (const key of ['lockDurationMs', 'stalledIntervalMs', 'maxStalledCount'] as const) {
    if (options[key] !== undefined) out[key] = options[key];
  }
  return out;
}
