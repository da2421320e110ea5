import { DiscordAPIError, HTTPError, RateLimitError } from 'discord.js';
import {
  ErrorCode,
  PlatformRejectedError,
  RetryLaterError,
  StewardError,
  asStewardError,
} from '../../src/errors.ts';
import { scrubSecrets } from '../../src/logger.ts';

/** Discord error codes that mean "the thing is already gone": for deletes that is success, not failure. */
export const GONE_CODES = new Set([10003, 10008]);

/** Interaction and webhook tokens sit in URLs; they are secrets too. */
export function scrubUrlTokens(text: string): string {
  return text.replace(/\/(interactions|webhooks)\/(\d+)\/[\w.-]+/g, '/$1/$2/[redacted]');
}

/**
 * An error as a log field: its message, scrubbed. Raw discord.js errors are never logged whole, because their
 * enumerable `url` carries interaction tokens.
 */
export function logText(error: unknown, token: string): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return scrub(text, token);
}

/** Text of an error with the bot token and any interaction token removed. */
export function scrub(text: string, token: string): string {
  return scrubUrlTokens(scrubSecrets(text, [token]));
}

/**
 * Maps what discord.js throws to the errors that decide a job's fate: rate limits wait for Discord's retry-after,
 * 5xx and network errors retry with backoff, other 4xx fail for good with Discord's reason.
 */
export function toStewardError(error: unknown, token: string, what: string): StewardError {
  if (error instanceof StewardError) return error;
  if (error instanceof RateLimitError) {
    const waitMs = Math.max(error.retryAfter, error.sublimitTimeout, 0);
    return new RetryLaterError(
      `Discord rate limit on ${error.route} while ${what}; retry in ${waitMs} ms`,
      waitMs,
    );
  }
  if (error instanceof DiscordAPIError) {
    const reason = scrub(
      `Discord answered ${error.status} (code ${error.code}) while ${what}: ${error.message}`,
      token,
    );
    if (error.status === 429) return new RetryLaterError(reason, 1_000);
    if (error.status >= 500) return new StewardError(ErrorCode.RetryLater, reason);
    return new PlatformRejectedError(reason);
  }
  if (error instanceof HTTPError) {
    // Still 5xx after discord.js's own retries: let the job's exponential backoff take over.
    return new StewardError(
      ErrorCode.RetryLater,
      scrub(`Discord answered ${error.status} while ${what}`, token),
    );
  }
  const wrapped = asStewardError(error);
  return new StewardError(wrapped.code, scrub(`${what}: ${wrapped.message}`, token), { cause: error });
}

/** True when Discord says the target no longer exists (unknown message / channel). */
export function isGone(error: unknown): boolean {
  return error instanceof DiscordAPIError && typeof error.code === 'number' && GONE_CODES.has(error.code);
}
