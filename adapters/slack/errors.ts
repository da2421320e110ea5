import { webApi } from '@slack/bolt';
import {
  asStewardError,
  ErrorCode,
  PlatformRejectedError,
  RetryLaterError,
  StewardError,
} from '../../src/errors.ts';
import { scrubSecrets } from '../../src/logger.ts';

const SlackErrorCode = webApi.ErrorCode;

/** Slack `error` strings that say "try again later" although the HTTP status was 200. */
const TRANSIENT = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'ratelimited',
]);

/** True for Slack `error` strings that a later try may not get. */
export const isTransient = (code: string): boolean => TRANSIENT.has(code);

/** Slack `error` strings meaning the message is gone: for deletes and reactions that is done, not failed. */
export const GONE = new Set(['message_not_found', 'thread_not_found']);

/** Used when a 429 carries no usable Retry-After. */
const DEFAULT_RETRY_MS = 1_000;

interface SlackLikeError {
  code?: string;
  retryAfter?: number;
  statusCode?: number;
  data?: { error?: string; needed?: string };
  message?: string;
}

/** The `error` string of a Web API platform error (e.g. "channel_not_found"), or undefined for other failures. */
export function slackErrorCode(error: unknown): string | undefined {
  const e = error as SlackLikeError | null;
  return e?.code === SlackErrorCode.PlatformError ? e.data?.error : undefined;
}

/** A URL path segment that would carry a secret (response_url tokens). */
export function scrubUrls(text: string): string {
  return text.replace(/(hooks\.slack\.com\/(?:commands|actions)\/[^/\s]+\/[^/\s]+\/)[\w-]+/g, '$1[redacted]');
}

/**
 * Maps what @slack/web-api throws to the errors that decide a job's fate: 429 waits for Slack's Retry-After,
 * 5xx / network errors / transient Slack errors retry with backoff, any other refusal fails for good with
 * Slack's reason. Secrets are scrubbed from every message.
 */
export function toStewardError(
  error: unknown,
  what: string,
  secrets: Array<string | undefined>,
): StewardError {
  if (error instanceof StewardError) return error;
  const e = (error ?? {}) as SlackLikeError;
  const clean = (text: string) => scrubUrls(scrubSecrets(text, secrets));
  switch (e.code) {
    case SlackErrorCode.RateLimitedError: {
      const waitMs =
        typeof e.retryAfter === 'number' && e.retryAfter >= 0 ? e.retryAfter * 1000 : DEFAULT_RETRY_MS;
      return new RetryLaterError(clean(`Slack rate limit while ${what}; retry in ${waitMs} ms`), waitMs);
    }
    case SlackErrorCode.HTTPError: {
      const reason = clean(`Slack answered HTTP ${e.statusCode} while ${what}`);
      if ((e.statusCode ?? 0) >= 500) return new StewardError(ErrorCode.RetryLater, reason);
      if (e.statusCode === 429) return new RetryLaterError(reason, DEFAULT_RETRY_MS);
      return new PlatformRejectedError(reason);
    }
    case SlackErrorCode.RequestError:
      return new StewardError(
        ErrorCode.RetryLater,
        clean(`Slack could not be reached while ${what}: ${e.message}`),
      );
    case SlackErrorCode.PlatformError: {
      const code = e.data?.error ?? 'unknown_error';
      const needed = e.data?.needed ? ` (needs scope ${e.data.needed})` : '';
      const reason = clean(`Slack refused ${what}: ${code}${needed}`);
      if (code === 'ratelimited') return new RetryLaterError(reason, DEFAULT_RETRY_MS);
      if (TRANSIENT.has(code)) return new StewardError(ErrorCode.RetryLater, reason);
      return new PlatformRejectedError(reason);
    }
    default: {
      const wrapped = asStewardError(error);
      return new StewardError(wrapped.code, clean(`${what}: ${wrapped.message}`), { cause: error });
    }
  }
}

/** Why deleting a member's message failed, in words an operator can act on. */
export function deleteRefusal(code: string | undefined, haveUserToken: boolean): string {
  if (code === 'cant_delete_message' && !haveUserToken) {
    return (
      "Slack lets a bot delete only its own messages. To delete members' messages, give Steward a user token of a " +
      'workspace admin with chat:write (SLACK_USER_TOKEN); see "Connect to Slack" in the README.'
    );
  }
  if (code === 'cant_delete_message')
    return 'Slack refused the delete: the user token is not a workspace admin’s.';
  return `Slack refused the delete (${code ?? 'unknown error'}).`;
}
