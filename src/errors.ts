/** Namespaced error codes; the code is also the error's `name`, so it shows in logs. */
export enum ErrorCode {
  ConfigInvalid = 'steward.config.invalid',
  MalformedJob = 'steward.queue.malformed_job',
  MessageTooLarge = 'steward.queue.message_too_large',
  QueueUnavailable = 'steward.queue.unavailable',
  ModelLoad = 'steward.model.load_failed',
  ModelRun = 'steward.model.run_failed',
  RetryLater = 'steward.platform.retry_later',
  PlatformRejected = 'steward.platform.rejected',
  Lifecycle = 'steward.lifecycle',
  Store = 'steward.store',
  FlagConflict = 'steward.store.flag_conflict',
  Unknown = 'steward.unknown',
}

export class StewardError extends Error {
  readonly code: ErrorCode;
  /** Retrying cannot help: the job goes to the failed set with this error as its reason. */
  readonly unrecoverable: boolean;
  constructor(code: ErrorCode, message: string, options: { cause?: unknown; unrecoverable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = code;
    this.unrecoverable = options.unrecoverable ?? false;
  }
}

export class ConfigError extends StewardError {
  constructor(message: string) {
    super(ErrorCode.ConfigInvalid, message, { unrecoverable: true });
  }
}

/** Input that can never be processed (bad shape, too large): goes straight to the failed set. */
export class MalformedInputError extends StewardError {
  constructor(message: string, code: ErrorCode = ErrorCode.MalformedJob) {
    super(code, message, { unrecoverable: true });
  }
}

/** A platform asked us to wait (HTTP 429) or is briefly down; retry after `retryAfterMs`. */
export class RetryLaterError extends StewardError {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, cause?: unknown) {
    super(ErrorCode.RetryLater, message, { cause });
    this.retryAfterMs = retryAfterMs;
  }
}

/** A platform refused the action for good (4xx other than 429): retrying cannot help. */
export class PlatformRejectedError extends StewardError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.PlatformRejected, message, { cause, unrecoverable: true });
  }
}

/**
 * Nothing was queued: Redis did not answer in time, or too many writes already wait for it. Retryable; the caller
 * must hand the message back (an HTTP 500 to Slack, no Socket Mode ack) rather than drop it.
 */
export class QueueUnavailableError extends StewardError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.QueueUnavailable, message, { cause });
  }
}

export class LifecycleError extends StewardError {
  constructor(message: string) {
    super(ErrorCode.Lifecycle, message, { unrecoverable: true });
  }
}

/** A flag changed status before this change could apply (two moderators acted at once); `current` is the winner's. */
export class FlagConflictError extends StewardError {
  readonly current: {
    status: string;
    history: Array<{ actorId: string; actorName?: string; action: string }>;
  };
  constructor(message: string, current: FlagConflictError['current']) {
    super(ErrorCode.FlagConflict, message, { unrecoverable: true });
    this.current = current;
  }
}

/** A mistake in a user's command: rendered as a short private reply saying what to type instead. */
export class UserError extends Error {
  readonly hint: string;
  constructor(message: string, hint = '') {
    super(message);
    this.name = 'UserError';
    this.hint = hint;
  }
}

export function asStewardError(error: unknown): StewardError {
  if (error instanceof StewardError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StewardError(ErrorCode.Unknown, message, { cause: error });
}
