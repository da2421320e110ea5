import type { Action } from '../src/domain/action.ts';
import type { Platform } from '../src/domain/message.ts';
import { LifecycleError } from '../src/errors.ts';
import type { Logger } from '../src/logger.ts';
import {
  backoffDelay,
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
  type OutboundHandler,
  outboundQueueName,
  type QueueCounts,
  type QueueDriver,
} from './types.ts';
import { JobScrubber } from './forget.ts';

type State = 'waiting' | 'active' | 'delayed' | 'completed' | 'failed';

interface MemJob {
  id: string;
  data: unknown;
  state: State;
  /** When it was added (kept across retries, as BullMQ's job timestamp is). */
  addedAt: number;
  attemptsMade: number;
  /** RetryLaterError delays so far (they do not use up attempts). */
  delays: number;
  finishedOn: number | null;
  failedReason: string;
  timer: NodeJS.Timeout | null;
}

type Processor = (job: MemJob) => Promise<void>;

interface MemConsumer {
  processor: Processor;
  concurrency: number;
  running: Set<Promise<void>>;
  closed: boolean;
}

/** One queue: jobs by id (dedupe), a FIFO of waiting ids, failed ids newest last. */
class MemQueue {
  readonly jobs = new Map<string, MemJob>();
  readonly waiting: string[] = [];
  readonly failed: string[] = [];
  /** Completed ids in completion order, so expiry looks only at the oldest. */
  readonly completed: string[] = [];
  readonly consumers = new Set<MemConsumer>();
}

export interface MemoryDriverOptions {
  logger: Logger;
  policy?: Partial<JobPolicy>;
}

/**
 * The embedded driver: jobs live in this process (lost on exit, like the rest of local mode's in-flight work),
 * with BullMQ's semantics for ids, retries, delays and retention so both drivers pass one contract suite.
 */
export class MemoryDriver implements QueueDriver {
  readonly kind = 'memory' as const;
  readonly #policy: JobPolicy;
  readonly #log: Logger;
  readonly #queues = new Map<string, MemQueue>();
  #state: 'new' | 'started' | 'stopped' = 'new';
  #stopping: Promise<void> | null = null;

  constructor(options: MemoryDriverOptions) {
    this.#policy = { ...DefaultJobPolicy, ...options.policy };
    this.#log = options.logger.child({ component: 'queue', driver: 'memory' });
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new LifecycleError(`queue driver cannot start: it is ${this.#state}`);
    this.#state = 'started';
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#close();
    return this.#stopping;
  }

  async #close(): Promise<void> {
    this.#state = 'stopped';
    for (const queue of this.#queues.values()) {
      await Promise.all([...queue.consumers].map((consumer) => this.#closeConsumer(queue, consumer)));
      for (const job of queue.jobs.values()) if (job.timer) clearTimeout(job.timer);
    }
  }

  #queue(name: string): MemQueue {
    if (this.#state !== 'started') throw new LifecycleError(`queue driver is ${this.#state}, not started`);
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new MemQueue();
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /** Adds a job unless its id exists; returns false for a duplicate. */
  #add(queueName: string, id: string, data: unknown): boolean {
    const queue = this.#queue(queueName);
    this.#purgeCompleted(queue);
    if (queue.jobs.has(id)) return false;
    queue.jobs.set(id, {
      id,
      data,
      state: 'waiting',
      addedAt: Date.now(),
      attemptsMade: 0,
      delays: 0,
      finishedOn: null,
      failedReason: '',
      timer: null,
    });
    queue.waiting.push(id);
    this.#pump(queue);
    return true;
  }

  async enqueueInbound(payload: unknown): Promise<EnqueueResult> {
    const prepared = prepareInbound(payload);
    const added = this.#add(INBOUND_QUEUE, prepared.jobId, prepared.data);
    if (added && prepared.invalidReason !== null) {
      this.#log.warn(
        { jobId: prepared.jobId, reason: prepared.invalidReason },
        'malformed inbound message queued to fail',
      );
    }
    return { jobId: prepared.jobId, duplicate: !added };
  }

  async enqueueOutbound(platform: Platform, actions: Action[]): Promise<void> {
    for (const action of actions) this.#add(outboundQueueName(platform), action.key, action);
  }

  consumeInbound(handler: InboundHandler, options: ConsumeOptions): Promise<Consumer> {
    return this.#consume(INBOUND_QUEUE, options, (job) => {
      // Throws MalformedInputError (unrecoverable) for a payload that never was a message.
      const message = parseInboundJob(job.data);
      return handler(message, { id: job.id, attemptsMade: job.attemptsMade });
    });
  }

  consumeOutbound(platform: Platform, handler: OutboundHandler, options: ConsumeOptions): Promise<Consumer> {
    return this.#consume(outboundQueueName(platform), options, (job) =>
      handler(job.data as Action, { id: job.id, attemptsMade: job.attemptsMade }),
    );
  }

  async #consume(name: string, options: ConsumeOptions, processor: Processor): Promise<Consumer> {
    const queue = this.#queue(name);
    const consumer: MemConsumer = {
      processor,
      concurrency: Math.max(1, options.concurrency),
      running: new Set(),
      closed: false,
    };
    queue.consumers.add(consumer);
    this.#pump(queue);
    let closing: Promise<void> | null = null;
    return { close: () => (closing ??= this.#closeConsumer(queue, consumer)) };
  }

  async #closeConsumer(queue: MemQueue, consumer: MemConsumer): Promise<void> {
    consumer.closed = true;
    queue.consumers.delete(consumer);
    // Finish in-flight jobs; the waiting ones stay for the next consumer.
    while (consumer.running.size > 0) await Promise.allSettled([...consumer.running]);
  }

  /** Hands waiting jobs to consumers with free slots. */
  #pump(queue: MemQueue): void {
    for (const consumer of queue.consumers) {
      while (!consumer.closed && consumer.running.size < consumer.concurrency && queue.waiting.length > 0) {
        const job = queue.jobs.get(queue.waiting.shift()!);
        if (job?.state !== 'waiting') continue;
        job.state = 'active';
        const run = this.#runJob(queue, consumer, job).finally(() => {
          consumer.running.delete(run);
          if (this.#state === 'started') this.#pump(queue);
        });
        consumer.running.add(run);
      }
    }
  }

  async #runJob(queue: MemQueue, consumer: MemConsumer, job: MemJob): Promise<void> {
    try {
      // A macrotask first, so a burst of adds is picked up as a burst (like a worker's fetch loop).
      await new Promise((resolve) => setImmediate(resolve));
      await consumer.processor(job);
      job.state = 'completed';
      job.finishedOn = Date.now();
      queue.completed.push(job.id);
    } catch (error) {
      this.#onError(queue, job, error);
    }
  }

  #onError(queue: MemQueue, job: MemJob, error: unknown): void {
    const disposition = classifyError(error, job.delays, this.#policy);
    if (disposition.kind === 'retry-later') {
      job.delays += 1;
      this.#delay(queue, job, disposition.delayMs);
      return;
    }
    job.attemptsMade += 1;
    const reason = errorReason(error);
    if (disposition.kind === 'unrecoverable' || job.attemptsMade >= this.#policy.attempts) {
      job.state = 'failed';
      job.failedReason = reason;
      job.finishedOn = Date.now();
      queue.failed.push(job.id);
      this.#trimFailed(queue);
      this.#log.error({ jobId: job.id, attemptsMade: job.attemptsMade, reason }, 'job failed for good');
      return;
    }
    this.#log.warn({ jobId: job.id, attemptsMade: job.attemptsMade, reason }, 'job failed, will retry');
    this.#delay(queue, job, backoffDelay(job.attemptsMade, this.#policy));
  }

  #delay(queue: MemQueue, job: MemJob, ms: number): void {
    job.state = 'delayed';
    job.timer = setTimeout(() => {
      job.timer = null;
      if (job.state !== 'delayed') return;
      job.state = 'waiting';
      queue.waiting.push(job.id);
      if (this.#state === 'started') this.#pump(queue);
    }, ms);
    // Local mode keeps the process alive by other means; a pending retry alone must not.
    job.timer.unref();
  }

  #trimFailed(queue: MemQueue): void {
    while (queue.failed.length > this.#policy.failedKeep) queue.jobs.delete(queue.failed.shift()!);
  }

  /** Drops completed jobs past their retention; done on add and read, so no timer is needed. */
  #purgeCompleted(queue: MemQueue): void {
    const cutoff = Date.now() - this.#policy.completedRetentionMs;
    while (queue.completed.length > 0) {
      const job = queue.jobs.get(queue.completed[0]!);
      if (job && (job.finishedOn ?? 0) >= cutoff) break;
      queue.completed.shift();
      if (job) queue.jobs.delete(job.id);
    }
  }

  async counts(name: string): Promise<QueueCounts> {
    const queue = this.#queue(name);
    this.#purgeCompleted(queue);
    const counts: QueueCounts = { waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0 };
    for (const job of queue.jobs.values()) counts[job.state] += 1;
    return counts;
  }

  async oldestWaiting(name: string): Promise<number | null> {
    let oldest: number | null = null;
    for (const job of this.#queue(name).jobs.values())
      if (job.state === 'waiting' && (oldest === null || job.addedAt < oldest)) oldest = job.addedAt;
    return oldest;
  }

  async failedJobs(name: string, limit: number): Promise<FailedJobInfo[]> {
    const queue = this.#queue(name);
    if (limit <= 0) return [];
    return queue.failed
      .slice(-limit)
      .reverse()
      .map((id) => queue.jobs.get(id)!)
      .map((job) => ({
        id: job.id,
        queue: name,
        reason: job.failedReason,
        attemptsMade: job.attemptsMade,
        failedAt: job.finishedOn,
        data: name === INBOUND_QUEUE ? (job.data as InboundJobData).payload : job.data,
      }));
  }

  async workersAlive(): Promise<number> {
    return this.#queues.get(INBOUND_QUEUE)?.consumers.size ?? 0;
  }

  async forgetMember(platform: Platform, workspaceId: string, userId: string): Promise<number> {
    const scrubber = new JobScrubber({ platform, workspaceId, userId });
    // Inbound first: the scrubber matches replies and tags through the member's messages seen there.
    return (
      this.#scrub(INBOUND_QUEUE, (data) => scrubber.inbound(data)) +
      this.#scrub(outboundQueueName(platform), (data) => scrubber.outbound(data))
    );
  }

  /** Rewrites the data of the completed and failed jobs for which `change` gives new data. */
  #scrub(name: string, change: (data: unknown) => unknown): number {
    const queue = this.#queue(name);
    this.#purgeCompleted(queue);
    let changed = 0;
    for (const job of queue.jobs.values()) {
      if (job.state !== 'completed' && job.state !== 'failed') continue;
      const next = change(job.data);
      if (next === null) continue;
      job.data = next;
      changed += 1;
    }
    return changed;
  }
}
