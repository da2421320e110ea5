import type { QueueDriver } from '../../queue/types.ts';
import type { StatusInfo } from '../../src/commands/types.ts';
import type { Logger } from '../../src/logger.ts';
import type { SettingsReader, Store } from '../../src/store/types.ts';
import { DefaultRateLimit, type InboundRateLimiter } from '../rate-limit.ts';

/** Everything the Discord adapter needs; built once at the composition root. */
export interface DiscordAdapterOptions {
  token: string;
  /** Application id; when unset it is learnt from READY (commands are registered after login either way). */
  applicationId?: string | undefined;
  /** REST base URL (`…/api`); tests point it at the local emulator. */
  apiUrl?: string | undefined;
  queue: QueueDriver;
  store: Store;
  /** Workspace settings, read briefly cached (whether replies are on, for the typing indicator). */
  settings: SettingsReader;
  logger: Logger;
  /** The per-user inbound limit, shared with the other adapters (and processes); one from tuning.rateLimit if unset. */
  rateLimiter?: InboundRateLimiter;
  /** What `/steward status` shows; defaults to collectStatus over the queue and the store. */
  status?: () => Promise<StatusInfo>;
  /** Moderation labels of the loaded models, so `config threshold` refuses unknown ones. */
  labels?: readonly string[];
  tuning?: Partial<DiscordTuning>;
}

/** Knobs with safe defaults; tests shorten them. */
export interface DiscordTuning {
  /** Per-user limit when no rateLimiter is injected: at most `burst` messages per `windowMs`. */
  rateLimit: { burst: number; windowMs: number };
  /** Earlier messages of a reply chain attached as context. */
  replyChainDepth: number;
  /** Outbound jobs performed at once. */
  outboundConcurrency: number;
  /** Rate limits up to this long are waited out inside discord.js; longer ones delay the job (RetryLaterError). */
  maxInlineRateLimitMs: number;
  /** discord.js REST retries of a 5xx / network error before the job's own backoff takes over. */
  restRetries: number;
  restTimeoutMs: number;
  /** How long a delivery claim holds while the action is being posted. */
  deliveryLeaseMs: number;
  /** How long a confirmed delivery is remembered (longer than any retry of the job). */
  deliveryRetainMs: number;
  /** A typing indicator is kept up at most this long while waiting for a reply. */
  typingMaxMs: number;
  /** Register /steward (diffed against the live definition) on start. */
  registerCommands: boolean;
  /** Timeout applied by the Timeout button. */
  timeoutMs: number;
}

export const DefaultDiscordTuning = Object.freeze({
  rateLimit: DefaultRateLimit,
  replyChainDepth: 3,
  outboundConcurrency: 4,
  maxInlineRateLimitMs: 2_000,
  restRetries: 2,
  restTimeoutMs: 15_000,
  deliveryLeaseMs: 60_000,
  deliveryRetainMs: 7 * 24 * 3_600_000,
  typingMaxMs: 30_000,
  registerCommands: true,
  timeoutMs: 10 * 60_000,
}) satisfies Readonly<DiscordTuning>;

export function resolveTuning(overrides: Partial<DiscordTuning> = {}): Readonly<DiscordTuning> {
  return Object.freeze({ ...DefaultDiscordTuning, ...overrides });
}
