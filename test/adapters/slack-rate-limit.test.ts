import { describe, expect, it } from 'vitest';
import { MessageRateLimiter } from '../../adapters/slack/rate-limit.ts';

describe('Slack per-user rate limit', () => {
  it('GIVEN a burst of 2 WHEN three messages arrive at once THEN the third is refused', () => {
    let now = 0;
    const limiter = new MessageRateLimiter(2, 1_000, () => now);
    expect([limiter.allow('u', 'm1'), limiter.allow('u', 'm2'), limiter.allow('u', 'm3')]).toEqual([
      true,
      true,
      false,
    ]);
    now = 500;
    expect(limiter.allow('u', 'm4')).toBe(true);
  });

  it('GIVEN the same message twice (app_mention + message, or a retry) WHEN checked THEN it costs one token and gets one answer', () => {
    const limiter = new MessageRateLimiter(1, 1_000, () => 0);
    expect(limiter.allow('u', 'm1')).toBe(true);
    expect(limiter.allow('u', 'm1')).toBe(true);
    expect(limiter.allow('u', 'm2')).toBe(false);
    expect(limiter.allow('u', 'm2')).toBe(false);
    expect(limiter.allow('other', 'm3')).toBe(true);
  });
});
