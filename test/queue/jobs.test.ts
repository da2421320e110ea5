import { describe, expect, it } from 'vitest';
import { fromBullId, redisOptionsFromUrl, toBullId } from '../../queue/bullmq-ids.ts';
import {
  backoffDelay,
  classifyError,
  DefaultJobPolicy,
  parseInboundJob,
  prepareInbound,
} from '../../queue/jobs.ts';
import { inboundJobId, MAX_TEXT_LENGTH } from '../../src/domain/message.ts';
import { MalformedInputError, PlatformRejectedError, RetryLaterError } from '../../src/errors.ts';
import { inbound } from './fixtures.ts';

describe('job ids on BullMQ', () => {
  it('GIVEN domain ids with ":" THEN they map one-to-one onto ids without ":"', () => {
    const ids = [
      'discord:g:c:m',
      'discord:g:c:m:react',
      'a|b:c',
      'a%7Cb',
      'a%3Ab:c',
      '%25|:',
      '',
      'malformed:abc',
    ];
    const mapped = ids.map(toBullId);
    expect(mapped.every((id) => !id.includes(':'))).toBe(true);
    expect(new Set(mapped).size).toBe(ids.length);
    expect(mapped.map(fromBullId)).toEqual(ids);
  });
});

describe('redis URL', () => {
  it('GIVEN a URL with credentials, database and TLS THEN ioredis options carry them', () => {
    expect(redisOptionsFromUrl('rediss://user:p%40ss@redis.example:6380/2')).toEqual({
      host: 'redis.example',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 2,
      tls: {},
    });
    expect(redisOptionsFromUrl('redis://[::1]')).toEqual({ host: '::1', port: 6379 });
  });
});

describe('inbound job preparation', () => {
  it('GIVEN a valid message THEN the job id is its ref and the payload is kept as sent', () => {
    const message = inbound();
    const prepared = prepareInbound(message);
    expect(prepared).toMatchObject({ jobId: inboundJobId(message), invalidReason: null });
    expect(prepared.data.payload).toBe(message);
    expect(prepareInbound(message).data.nonce).not.toBe(prepared.data.nonce);
  });

  it('GIVEN the same garbage twice THEN it gets the same malformed id (redeliveries stay one failure)', () => {
    const a = prepareInbound({ junk: [1, 2, 3] });
    expect(a.jobId).toMatch(/^malformed:[0-9a-f]{32}$/);
    expect(prepareInbound({ junk: [1, 2, 3] }).jobId).toBe(a.jobId);
    expect(a.invalidReason).toMatch(/platform/);
    expect(prepareInbound(undefined).jobId).toMatch(/^malformed:/);
  });

  it('GIVEN a huge payload THEN only a preview is stored', () => {
    const prepared = prepareInbound({ blob: 'x'.repeat(2_000_000) });
    expect(prepared.data.payload).toMatchObject({ truncated: true });
    expect(JSON.stringify(prepared.data.payload).length).toBeLessThan(70_000);
  });

  it('GIVEN stored job data THEN parsing applies defaults or names the problem', () => {
    expect(parseInboundJob({ payload: inbound(), nonce: 'n' })).toMatchObject({ context: [], direct: false });
    expect(() => parseInboundJob({ payload: inbound({ text: 'x'.repeat(MAX_TEXT_LENGTH + 1) }) })).toThrow(
      /longer than 40000/,
    );
    expect(() => parseInboundJob(null)).toThrow(MalformedInputError);
  });
});

describe('error classification', () => {
  const policy = DefaultJobPolicy;
  it('GIVEN errors THEN 429s wait, bad input fails at once, the rest retry', () => {
    expect(classifyError(new RetryLaterError('slow down', 1500), 0, policy)).toEqual({
      kind: 'retry-later',
      delayMs: 1500,
    });
    expect(classifyError(new PlatformRejectedError('missing_access'), 0, policy).kind).toBe('unrecoverable');
    expect(classifyError(new MalformedInputError('bad'), 0, policy).kind).toBe('unrecoverable');
    expect(classifyError(new Error('ECONNRESET'), 0, policy).kind).toBe('retry');
    expect(classifyError('weird', 0, policy).kind).toBe('retry');
  });

  it('GIVEN a platform that keeps saying 429 THEN after maxRetryLaterDelays it counts as a failure', () => {
    const error = new RetryLaterError('slow down', 10);
    expect(classifyError(error, policy.maxRetryLaterDelays, policy).kind).toBe('retry');
  });

  it('GIVEN retries THEN the delay doubles each time', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, policy))).toEqual([1000, 2000, 4000, 8000]);
  });
});
