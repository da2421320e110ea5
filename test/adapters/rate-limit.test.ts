import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { InboundRateLimiter } from '../../adapters/rate-limit.ts';
import { deletePrefix, randomPrefix, REDIS_URL } from '../queue/fixtures.ts';

const started: InboundRateLimiter[] = [];
const prefixes: string[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((l) => l.stop()));
  await Promise.all(prefixes.splice(0).map((p) => deletePrefix(REDIS_URL, p)));
});

async function redisLimiter(prefix: string, burst: number): Promise<InboundRateLimiter> {
  const limiter = new InboundRateLimiter({ burst, windowMs: 60_000, redis: { url: REDIS_URL, prefix } });
  await limiter.start();
  started.push(limiter);
  return limiter;
}

describe('InboundRateLimiter in one process', () => {
  it('GIVEN a burst of 2 WHEN three messages arrive at once THEN the third is refused, another user is not', async () => {
    const limiter = new InboundRateLimiter({ burst: 2, windowMs: 10_000 });
    const answers = [];
    for (const m of ['m1', 'm2', 'm3']) answers.push(await limiter.allow('u', m));
    expect(answers).toEqual([true, true, false]);
    expect(await limiter.allow('other', 'm4')).toBe(true);
  });

  it('GIVEN the same message twice (app_mention + message, or a retry) WHEN checked THEN it costs one point and gets one answer', async () => {
    const limiter = new InboundRateLimiter({ burst: 1, windowMs: 10_000 });
    expect(await Promise.all([limiter.allow('u', 'm1'), limiter.allow('u', 'm1')])).toEqual([true, true]);
    expect(await limiter.allow('u', 'm2')).toBe(false);
    expect(await limiter.allow('u', 'm2')).toBe(false);
    expect(await limiter.allow('other', 'm3')).toBe(true);
  });

  it('GIVEN 100k distinct users WHEN each sends a message THEN the per-call cost stays flat (no scan of all users)', async () => {
    const limiter = new InboundRateLimiter({ burst: 5, windowMs: 10_000 });
    const chunk = async (from: number) => {
      const t0 = performance.now();
      for (let i = from; i < from + 10_000; i++) await limiter.allow(`user-${i}`, `msg-${i}`);
      return performance.now() - t0;
    };
    await chunk(0); // warm-up: JIT and the first map growth
    const early = await chunk(10_000);
    for (let from = 20_000; from < 90_000; from += 10_000) await chunk(from);
    const late = await chunk(90_000);
    // A limiter that scanned its whole map per call past a size would be hundreds of times slower here.
    expect(late).toBeLessThan(Math.max(early, 50) * 4);
  });
});

describe('InboundRateLimiter through Redis (distributed mode)', () => {
  it('GIVEN two bot processes on one Redis WHEN a user sends through both THEN they share one budget', async () => {
    const prefix = randomPrefix('ratelimit');
    prefixes.push(prefix);
    const [a, b] = [await redisLimiter(prefix, 3), await redisLimiter(prefix, 3)];
    expect(a.distributed && b.distributed).toBe(true);
    expect(await a.allow('slack:T1:U1', 'slack:T1:C1:1')).toBe(true);
    expect(await a.allow('slack:T1:U1', 'slack:T1:C1:2')).toBe(true);
    expect(await b.allow('slack:T1:U1', 'slack:T1:C1:3')).toBe(true);
    expect(await b.allow('slack:T1:U1', 'slack:T1:C1:4')).toBe(false);
    expect(await a.allow('slack:T1:U1', 'slack:T1:C1:5')).toBe(false);
    expect(await b.allow('slack:T1:U2', 'slack:T1:C1:6')).toBe(true);
  });

  it('GIVEN a message re-sent to another process WHEN checked there THEN it gets the first answer and costs nothing', async () => {
    const prefix = randomPrefix('ratelimit');
    prefixes.push(prefix);
    const [a, b] = [await redisLimiter(prefix, 1), await redisLimiter(prefix, 1)];
    expect(await a.allow('u', 'first')).toBe(true);
    expect(await b.allow('u', 'first')).toBe(true); // the retry: same answer, no second point
    expect(await b.allow('u', 'second')).toBe(false);
    expect(await a.allow('u', 'second')).toBe(false);
  });

  it('GIVEN a stopped limiter WHEN stopped again THEN nothing fails; started twice is a clear error', async () => {
    const prefix = randomPrefix('ratelimit');
    prefixes.push(prefix);
    const limiter = await redisLimiter(prefix, 1);
    await expect(limiter.start()).rejects.toThrow(/cannot start: it is started/);
    await limiter.stop();
    await limiter.stop();
  });
});
