import { webApi } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { deleteRefusal, scrubUrls, toStewardError } from '../../adapters/slack/errors.ts';
import { ErrorCode, PlatformRejectedError, RetryLaterError } from '../../src/errors.ts';

const C = webApi.ErrorCode;
const TOKEN = 'xoxb-secret-token-123';

describe('Slack errors → job fate', () => {
  it('GIVEN a 429 with Retry-After WHEN mapped THEN the job waits that long', () => {
    const error = toStewardError({ code: C.RateLimitedError, retryAfter: 7 }, 'posting', [TOKEN]);
    expect(error).toBeInstanceOf(RetryLaterError);
    expect((error as RetryLaterError).retryAfterMs).toBe(7_000);
  });

  it('GIVEN a 5xx or a network error WHEN mapped THEN the job retries with backoff', () => {
    for (const raw of [
      { code: C.HTTPError, statusCode: 503 },
      { code: C.RequestError, message: 'ECONNRESET' },
    ]) {
      const error = toStewardError(raw, 'posting', [TOKEN]);
      expect(error.unrecoverable).toBe(false);
      expect(error.code).toBe(ErrorCode.RetryLater);
    }
  });

  it('GIVEN channel_not_found WHEN mapped THEN the job fails for good with Slack reason', () => {
    const error = toStewardError(
      { code: C.PlatformError, data: { error: 'channel_not_found' } },
      'posting a reply',
      [],
    );
    expect(error).toBeInstanceOf(PlatformRejectedError);
    expect(error.message).toBe('Slack refused posting a reply: channel_not_found');
  });

  it('GIVEN missing_scope WHEN mapped THEN the needed scope is named', () => {
    const raw = { code: C.PlatformError, data: { error: 'missing_scope', needed: 'reactions:write' } };
    expect(toStewardError(raw, 'reacting', []).message).toMatch(/needs scope reactions:write/);
  });

  it('GIVEN a transient Slack error WHEN mapped THEN it is retried', () => {
    expect(
      toStewardError({ code: C.PlatformError, data: { error: 'internal_error' } }, 'x', []).unrecoverable,
    ).toBe(false);
  });

  it('GIVEN an unknown error that quotes the token WHEN mapped THEN the token is scrubbed', () => {
    const error = toStewardError(new Error(`bad header Bearer ${TOKEN}`), 'posting', [TOKEN]);
    expect(error.message).not.toContain(TOKEN);
    expect(scrubUrls('https://hooks.slack.com/commands/T1/123/abcDEF')).toBe(
      'https://hooks.slack.com/commands/T1/123/[redacted]',
    );
  });

  it('GIVEN cant_delete_message with only a bot token WHEN explained THEN the fix is named', () => {
    expect(deleteRefusal('cant_delete_message', false)).toMatch(/SLACK_USER_TOKEN/);
    expect(deleteRefusal('cant_delete_message', true)).not.toMatch(/SLACK_USER_TOKEN/);
  });
});
