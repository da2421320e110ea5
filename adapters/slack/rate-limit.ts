/**
 * Per-user token buckets (`burst` tokens, refilled continuously at `burst` per `windowMs`) that charge each
 * message once: Slack delivers a mention both as `app_mention` and as `message`, and re-sends events it thinks
 * were lost, so the decision for a message is remembered and repeated instead of taking another token.
 */
export class MessageRateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #decided = new Map<string, { allowed: boolean; at: number }>();

  constructor(
    private readonly burst: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether `messageKey` from `userKey` may be queued; the same message always gets the same answer. */
  allow(userKey: string, messageKey: string): boolean {
    const now = this.now();
    const known = this.#decided.get(messageKey);
    if (known) return known.allowed;
    const allowed = this.#take(userKey, now);
    this.#decided.set(messageKey, { allowed, at: now });
    if (this.#decided.size > 10_000) this.#sweep(now);
    return allowed;
  }

  #take(key: string, now: number): boolean {
    const rate = this.burst / this.windowMs;
    const bucket = this.#buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * rate);
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.#buckets.set(key, bucket);
    return allowed;
  }

  /** Bounds memory: full buckets and decisions older than Slack's retry horizon (about 5 minutes) go. */
  #sweep(now: number): void {
    for (const [key, decided] of this.#decided) if (now - decided.at > 10 * 60_000) this.#decided.delete(key);
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.at) * (this.burst / this.windowMs) >= this.burst)
        this.#buckets.delete(key);
    }
  }
}
