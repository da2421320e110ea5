import { DiscordAPIError, HTTPError, RateLimitError } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { isGone, toStewardError } from '../../adapters/discord/errors.ts';
import { PlatformRejectedError, RetryLaterError } from '../../src/errors.ts';

const TOKEN = 'MTIzNDU2.fake.token-value-for-tests';
const body = { body: undefined, files: undefined };

describe('toStewardError: what a Discord failure does to the job', () => {
  it('GIVEN a rate limit discord.js would not wait out THEN RetryLaterError with Discord’s wait', () => {
    const error = new RateLimitError({
      timeToReset: 3_000,
      limit: 5,
      method: 'POST',
      hash: 'h',
      url: 'http://x/api/v10/channels/1/messages',
      route: '/channels/:id/messages',
      majorParameter: '1',
      global: false,
      retryAfter: 3_050,
      sublimitTimeout: 0,
      scope: 'user',
    });
    const mapped = toStewardError(error, TOKEN, 'posting');
    expect(mapped).toBeInstanceOf(RetryLaterError);
    expect((mapped as RetryLaterError).retryAfterMs).toBe(3_050);
  });

  it('GIVEN a 4xx like Unknown Message THEN PlatformRejectedError (unrecoverable) naming the code', () => {
    const error = new DiscordAPIError(
      { message: 'Unknown Message', code: 10008 },
      10008,
      404,
      'DELETE',
      'u',
      body,
    );
    const mapped = toStewardError(error, TOKEN, 'deleting');
    expect(mapped).toBeInstanceOf(PlatformRejectedError);
    expect(mapped.unrecoverable).toBe(true);
    expect(mapped.message).toContain('404 (code 10008)');
    expect(isGone(error)).toBe(true);
  });

  it('GIVEN a 5xx after discord.js’s retries THEN a retryable error (the queue backs off)', () => {
    const mapped = toStewardError(
      new HTTPError(503, 'Service Unavailable', 'POST', 'u', body),
      TOKEN,
      'posting',
    );
    expect(mapped).not.toBeInstanceOf(RetryLaterError);
    expect(mapped.unrecoverable).toBe(false);
  });

  it('GIVEN an error quoting the token THEN the mapped message does not contain it', () => {
    const mapped = toStewardError(new Error(`bad header Bot ${TOKEN}`), TOKEN, 'posting');
    expect(mapped.message).not.toContain(TOKEN);
    expect(mapped.unrecoverable).toBe(false);
  });
});
