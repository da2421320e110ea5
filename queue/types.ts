import type { Action } from '../src/domain/action.ts';
import type { MemberJobs } from '../src/commands/types.ts';
import type { InboundMessage, Platform } from '../src/domain/message.ts';

/** Queue names. Outbound queues are per platform so each adapter consumes only its own. */
export const INBOUND_QUEUE = 'inbound';
export const outboundQueueName = (platform: Platform): string => `outbound-${platform}`;

export interface EnqueueResult {
  jobId: string;
  /** True when a job with this id already existed (a redelivered platform event). */
  duplicate: boolean;
}

export interface JobInfo {
  id: string;
  attemptsMade: number;
}

/** Handles one inbound job; throwing retries it with backoff, or fails it for good when unrecoverable. */
export type InboundHandler = (message: InboundMessage, job: JobInfo) => Promise<void>;
/** Performs one outbound action on a platform. RetryLaterError delays it by the platform's retry-after. */
export type OutboundHandler = (action: Action, job: JobInfo) => Promise<void>;

export interface ConsumeOptions {
  /** Jobs handled at once by this consumer. */
  concurrency: number;
}

/** A running consumer; close() stops intake and waits for in-flight jobs (idempotent). */
export interface Consumer {
  close(): Promise<void>;
}

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
}

export interface FailedJobInfo {
  id: string;
  queue: string;
  reason: string;
  attemptsMade: number;
  failedAt: number | null;
  data: unknown;
}

/** Moves messages between adapters and workers: BullMQ (distributed) or in-process (local mode). */
export interface QueueDriver extends MemberJobs {
  readonly kind: 'bullmq' | 'memory';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Adds a message; validation failures still create a job that fails at once with the reason. */
  enqueueInbound(message: unknown): Promise<EnqueueResult>;
  enqueueOutbound(platform: Platform, actions: Action[]): Promise<void>;
  consumeInbound(handler: InboundHandler, options: ConsumeOptions): Promise<Consumer>;
  consumeOutbound(platform: Platform, handler: OutboundHandler, options: ConsumeOptions): Promise<Consumer>;
  counts(queue: string): Promise<QueueCounts>;
  /** When the oldest job still waiting in `queue` was added (epoch ms), or null when none waits. */
  oldestWaiting(queue: string): Promise<number | null>;
  failedJobs(queue: string, limit: number): Promise<FailedJobInfo[]>;
  /** Number of workers currently connected to the inbound queue (BullMQ: Queue.getWorkers). */
  workersAlive(): Promise<number>;
  /**
   * Forget-me: in the completed and failed jobs of the inbound queue and the platform's outbound queue, replaces
   * the data of the member's messages (and of the actions on them or naming them) with a stub that keeps only the
   * message reference, so the job id still deduplicates redeliveries. Waiting and running jobs are left to finish
   * (moderation still applies to them). Returns the number of jobs scrubbed.
   */
  forgetMember(platform: Platform, workspaceId: string, userId: string): Promise<number>;
}
