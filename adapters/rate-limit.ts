import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import { LifecycleError } from '../src/errors.ts';
import type { Logger } from '../src/logger.ts';

/** At most `burst` messages per user in each `windowMs` (whole seconds: the Redis limiter counts in seconds). */
export interface RateLimit {
  burst: number;
  windowMs: number;
}

export const DefaultRateLimit = Object.freeze({ burst: 5, windowMs: 10_000 }) satisfies Readonly<RateLimit>;

export interface InboundRateLimiterOptions extends RateLimit {
  /** Distributed mode: the counters live in this Redis, under `<prefix>:ratelimit:`, shared by every bot process. */
  redis?: { url: string; prefix: string } | undefined;
  logger?: Logger | undefined;
  /** How many per-message decisions are remembered locally (bounded; each for `decisionTtlMs`). */
  maxDecisions?: number;
}

/**
 * Slack re-sends an event it thinks was lost for up to about 5 minutes; a decision is remembered longer, so a
 * re-sent message gets the answer the first delivery got.
 */
const DECISION_TTL_MS = 10 * 60_000;

/**
 * The per-user inbound rate limit of every adapter (rate-limiter-flexible): counters in memory in one process,
 * in Redis when bot processes share the load. Each message is charged once: Slack delivers a mention both as
 * `app_mention` and as `message` and re-sends events, so the decision for a message key is remembered (in an
 * LRU here, and in Redis in distributed mode, where the re-sent event may reach another process).
 */
export class InboundRateLimiter {
  readonly #redis: Redis | null;
  readonly #limiter: RateLimiterAbstract;
  readonly #decisions: LRUCache<string, Promise<boolean>>;
  readonly #keyPrefix: string;
  #state: 'new' | 'started' | 'stopped' = 'new';

  constructor(options: InboundRateLimiterOptions) {
    const points = options.burst;
    const duration = Math.max(1, Math.ceil(options.windowMs / 1000));
    this.#decisions = new LRUCache({ max: options.maxDecisions ?? 10_000, ttl: DECISION_TTL_MS });
    if (options.redis) {
      this.#keyPrefix = `${options.redis.prefix}:ratelimit`;
      // lazyConnect: no I/O before start(); no offline queue, so a Redis outage falls to the insurance limiter
      // at once instead of holding messages.
      this.#redis = new Redis(options.redis.url, { lazyConnect: true, enableOfflineQueue: false });
      this.#redis.on('error', (error: Error) =>
        options.logger?.warn({ err: error.message }, 'rate-limit Redis connection error'),
      );
      this.#limiter = new RateLimiterRedis({
        storeClient: this.#redis,
        keyPrefix: this.#keyPrefix,
        points,
        duration,
        rejectIfRedisNotReady: true,
        // While Redis is unreachable each process limits on its own rather than letting every message through.
        insuranceLimiter: new RateLimiterMemory({ points, duration }),
      });
    } else {
      this.#keyPrefix = 'ratelimit';
      this.#redis = null;
      this.#limiter = new RateLimiterMemory({ points, duration });
    }
  }

  /** Whether the limiter shares its counters through Redis. */
  get distributed(): boolean {
    return this.#redis !== null;
  }

  async start(): Promise<void> {
    if (this.#state !== 'new')
      throw new LifecycleError(`the rate limiter cannot start: it is ${this.#state}`);
    this.#state = 'started';
    await this.#redis?.connect();
  }

  /** Closes the Redis connection. Idempotent. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    if (this.#redis && this.#redis.status !== 'end') await this.#redis.quit().catch(() => {});
  }

  /**
   * Whether `messageKey` from `userKey` may be queued. The same message always gets the same answer and is
   * charged once. Keys should name the platform and workspace (`discord:<guild>:<user>`).
   */
  allow(userKey: string, messageKey: string): Promise<boolean> {
    const known = this.#decisions.get(messageKey);
    if (known) return known;
    const decision = this.#decide(userKey, messageKey);
    this.#decisions.set(messageKey, decision);
    decision.catch(() => this.#decisions.delete(messageKey));
    return decision;
  }

  async #decide(userKey: string, messageKey: string): Promise<boolean> {
    const redis = this.#redis?.status === 'ready' ? this.#redis : null;
    const shared = `${this.#keyPrefix}:msg:${messageKey}`;
    if (redis) {
      const earlier = await redis.get(shared);
      if (earlier !== null) return earlier === '1';
    }
    const allowed = await this.#consume(userKey);
    if (redis) {
      const set = await redis.set(shared, allowed ? '1' : '0', 'PX', DECISION_TTL_MS, 'NX');
      // Another process decided the same message meanwhile: its answer stands, so both say the same.
      if (set === null) {
        const theirs = await redis.get(shared);
        if (theirs !== null) return theirs === '1';
      }
    }
    return allowed;
  }

  async #consume(userKey: string): Promise<boolean> {
    try {
      await this.#limiter.consume(userKey);
      return true;
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return false;
      throw rejection;
    }
  }
}

/** A limiter for one process (no Redis); what an adapter built without one from the composition root uses. */
export function localRateLimiter(limit: RateLimit = DefaultRateLimit): InboundRateLimiter {
  return new InboundRateLimiter({ burst: limit.burst, windowMs: limit.windowMs });
}
