import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { InboundMessage } from '../src/domain/message.ts';
import {
  InboundMessageSchema,
  inboundJobId,
  inboundJobIdOf,
  MAX_TEXT_LENGTH,
  PlatformSchema,
} from '../src/domain/message.ts';
import { ErrorCode, MalformedInputError, RetryLaterError, StewardError } from '../src/errors.ts';

/** Retry and retention policy shared by both drivers, so they behave alike under the contract tests. */
export interface JobPolicy {
  /** Tries per job, the first included. */
  attempts: number;
  /** First retry delay; each further retry doubles it. */
  backoffMs: number;
  /** Completed jobs are kept this long so that late redeliveries of the same id stay one job. */
  completedRetentionMs: number;
  /** Failed jobs kept for admins (newest first); older ones are trimmed. */
  failedKeep: number;
  /** RetryLaterError delays do not use up attempts; past this many a job is retried as an ordinary failure. */
  maxRetryLaterDelays: number;
}

export const DefaultJobPolicy = Object.freeze({
  attempts: 5,
  backoffMs: 1_000,
  completedRetentionMs: 600_000,
  failedKeep: 10_000,
  maxRetryLaterDelays: 20,
}) satisfies Readonly<JobPolicy>;

/**
 * What an inbound job stores. `nonce` is unique per add() call: BullMQ's add() does not report whether the id
 * already existed, so the driver reads the stored nonce back and compares.
 */
export interface InboundJobData {
  payload: unknown;
  nonce: string;
}

/** Inbound payloads larger than this (serialised) are stored as a preview in the failed set. */
const MAX_STORED_PAYLOAD = 1_000_000;

const LooseRefSchema = z.object({
  platform: PlatformSchema,
  workspaceId: z.string().min(1).max(200),
  channelId: z.string().min(1).max(200),
  messageId: z.string().min(1).max(200),
});

export interface PreparedInbound {
  jobId: string;
  data: InboundJobData;
  /** Null when the payload is valid; the reason is recomputed when the job runs, so it is only for logs. */
  invalidReason: string | null;
}

/** Validates enough to name the job: valid or too-large messages by their ref (so redeliveries dedupe), garbage by hash. */
export function prepareInbound(payload: unknown): PreparedInbound {
  const nonce = randomUUID();
  const parsed = InboundMessageSchema.safeParse(payload);
  if (parsed.success)
    return { jobId: inboundJobIdOf(parsed.data), data: { payload, nonce }, invalidReason: null };
  const reason = describeIssues(parsed.error);
  const ref = LooseRefSchema.safeParse(payload);
  let serialised: string;
  try {
    serialised = JSON.stringify(payload) ?? 'undefined';
  } catch {
    serialised = String(payload);
  }
  const jobId = ref.success
    ? inboundJobId(ref.data)
    : `malformed:${createHash('sha256').update(serialised).digest('hex').slice(0, 32)}`;
  const stored =
    serialised.length > MAX_STORED_PAYLOAD
      ? { truncated: true, preview: serialised.slice(0, 65_536) }
      : payload;
  return { jobId, data: { payload: stored, nonce }, invalidReason: reason };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/** The message of an inbound job, or a MalformedInputError naming what is wrong (run when the job is processed). */
export function parseInboundJob(data: unknown): InboundMessage {
  const payload = (data as Partial<InboundJobData> | null)?.payload;
  const parsed = InboundMessageSchema.safeParse(payload);
  if (parsed.success) return parsed.data;
  const tooLong = parsed.error.issues.some(
    (issue) =>
      issue.code === 'too_big' && issue.path.at(-1) === 'text' && Number(issue.maximum) === MAX_TEXT_LENGTH,
  );
  return tooLong
    ? failMalformed(`message text longer than ${MAX_TEXT_LENGTH} characters`, ErrorCode.MessageTooLarge)
    : failMalformed(`malformed inbound message: ${describeIssues(parsed.error)}`);
}

function failMalformed(message: string, code?: ErrorCode): never {
  throw new MalformedInputError(message, code);
}

export type ErrorDisposition =
  | { kind: 'retry-later'; delayMs: number }
  | { kind: 'unrecoverable' }
  | { kind: 'retry' };

/** How a handler's error decides the job's fate; `delays` is how often the job was already put off. */
export function classifyError(error: unknown, delays: number, policy: JobPolicy): ErrorDisposition {
  if (error instanceof RetryLaterError && delays < policy.maxRetryLaterDelays) {
    return { kind: 'retry-later', delayMs: Math.max(0, error.retryAfterMs) };
  }
  if (error instanceof StewardError && error.unrecoverable) return { kind: 'unrecoverable' };
  if (error instanceof Error && error.name === 'UnrecoverableError') return { kind: 'unrecoverable' };
  return { kind: 'retry' };
}

/** Delay before retry number `attemptsMade` (1-based), BullMQ's exponential formula. */
export function backoffDelay(attemptsMade: number, policy: JobPolicy): number {
  return Math.round(2 ** (attemptsMade - 1) * policy.backoffMs);
}

export function errorReason(error: unknown): string {
  if (error instanceof Error)
    return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
  return String(error);
}
