import { ErrorCode, LifecycleError, StewardError } from '../../src/errors.ts';
import { EmptyReplyError } from './reply.ts';
import { ModelLoadError, ModelRunError } from './settings.ts';

/** Calls the main thread makes into the inference thread. */
export type Method =
  | 'start'
  | 'stop'
  | 'signals'
  | 'embed'
  | 'embedSearch'
  | 'reply'
  | 'scoreReplies'
  | 'attend';

export interface Request {
  id: number;
  method: Method;
  args: unknown[];
}

export interface SerializedError {
  code: string;
  message: string;
  unrecoverable: boolean;
  stack?: string | undefined;
  /** Partial replies of an EmptyReplyError. */
  replies?: Array<string | null>;
}

export type Response =
  | { kind: 'result'; id: number; value: unknown }
  | { kind: 'error'; id: number; error: SerializedError }
  /** A pino JSON line from the thread's logger, re-emitted through the process logger. */
  | { kind: 'log'; line: string };

export function serializeError(error: unknown): SerializedError {
  if (error instanceof StewardError) {
    return {
      code: error.code,
      message: error.message,
      unrecoverable: error.unrecoverable,
      stack: error.stack,
      ...(error instanceof EmptyReplyError ? { replies: error.replies } : {}),
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: ErrorCode.Unknown,
    message,
    unrecoverable: false,
    stack: error instanceof Error ? error.stack : undefined,
  };
}

const CODES = new Set<string>(Object.values(ErrorCode));

/** Rebuilds an error from the thread with the same class (where we have one) and code, so callers can branch on it. */
export function deserializeError(data: SerializedError): StewardError {
  let error: StewardError;
  if (data.replies) error = new EmptyReplyError(data.replies);
  else if (data.code === ErrorCode.ModelLoad) error = new ModelLoadError(data.message);
  else if (data.code === ErrorCode.ModelRun)
    error = new ModelRunError(data.message, undefined, data.unrecoverable);
  else if (data.code === ErrorCode.Lifecycle) error = new LifecycleError(data.message);
  else {
    const code = CODES.has(data.code) ? (data.code as ErrorCode) : ErrorCode.Unknown;
    error = new StewardError(code, data.message, { unrecoverable: data.unrecoverable });
  }
  if (data.stack)
    error.stack = `${error.name}: ${data.message}\n    [inference thread]\n${data.stack.split('\n').slice(1).join('\n')}`;
  return error;
}
