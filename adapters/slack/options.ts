import type { QueueDriver } from '../../queue/types.ts';
import type { StatusInfo } from '../../src/commands/types.ts';
import type { Config } from '../../src/config.ts';
import type { Logger } from '../../src/logger.ts';
import type { Store } from '../../src/store/types.ts';
import { DefaultRateLimit, type InboundRateLimiter } from '../rate-limit.ts';

/** Everything the Slack adapter needs; built once at the composition root (see createSlackAdapter). */
export interface SlackAdapterOptions {
  /** Bot token (xoxb-…): events, replies, reactions, alerts. */
  botToken: string;
  /** Verifies HTTP requests; not needed in Socket Mode. */
  signingSecret?: string | undefined;
  /** App-level token (xapp-…) for Socket Mode. */
  appToken?: string | undefined;
  socketMode: boolean;
  /** HTTP receiver port (0 = any free port; see SlackAdapter.port). */
  port: number;
  /** Web API base URL; tests point it at the local emulator. */
  apiUrl?: string | undefined;
  /** Slack user ids allowed to run admin commands and act on alerts besides workspace admins and owners. */
  adminUsers: readonly string[];
  /**
   * Optional user token (xoxp-…) of a workspace admin with chat:write: Slack lets a bot token delete only the
   * bot's own messages, so deleting members' messages (Delete button, auto-hide) needs this.
   */
  userToken?: string | undefined;
  queue: QueueDriver;
  store: Store;
  logger: Logger;
  /** The per-user inbound limit, shared with the other adapters (and processes); one from tuning.rateLimit if unset. */
  rateLimiter?: InboundRateLimiter;
  /** What `/steward status` shows. */
  status?: () => Promise<StatusInfo>;
  /** Moderation labels of the loaded models, so `config threshold` refuses unknown ones. */
  labels?: readonly string[];
  tuning?: Partial<SlackTuning>;
}

/** Knobs with safe defaults; tests shorten them. */
export interface SlackTuning {
  /** Per-user limit when no rateLimiter is injected: at most `burst` messages per `windowMs`. */
  rateLimit: { burst: number; windowMs: number };
  /** Earlier turns of a thread attached as context. */
  contextTurns: number;
  /** Outbound jobs performed at once. */
  outboundConcurrency: number;
  /** Replies are split into messages of at most this many characters (Slack's hard limit is 40,000). */
  replyChunkChars: number;
  /** How long a delivery claim holds while the action is being posted. */
  deliveryLeaseMs: number;
  /** How long a confirmed delivery is remembered (longer than any retry of the job). */
  deliveryRetainMs: number;
  /** Pages (200 messages each) searched for an unconfirmed earlier post before posting again. */
  findPostedPages: number;
  /** users.info answers (names, admin flags) are reused this long. */
  userCacheMs: number;
  /** Web API request timeout. */
  requestTimeoutMs: number;
  /** Interface the HTTP receiver listens on; all interfaces when unset. */
  host: string | undefined;
  /** Path of the Events API / interactivity / slash-command endpoint. */
  endpoint: string;
}

export const DefaultSlackTuning = Object.freeze({
  rateLimit: DefaultRateLimit,
  contextTurns: 3,
  outboundConcurrency: 4,
  replyChunkChars: 3_000,
  deliveryLeaseMs: 60_000,
  deliveryRetainMs: 7 * 24 * 3_600_000,
  findPostedPages: 5,
  userCacheMs: 5 * 60_000,
  requestTimeoutMs: 15_000,
  host: undefined,
  endpoint: '/slack/events',
}) satisfies Readonly<SlackTuning>;

export function resolveTuning(overrides: Partial<SlackTuning> = {}): Readonly<SlackTuning> {
  return Object.freeze({ ...DefaultSlackTuning, ...overrides });
}

/** True when any Slack variable is set, i.e. the operator meant to connect Slack. */
export function slackRequested(config: Pick<Config, 'slack'>): boolean {
  const { slack } = config;
  return Boolean(slack.botToken || slack.signingSecret || slack.appToken || slack.userToken);
}

/**
 * What is missing or malformed in the Slack settings, one line each naming the environment variable; empty when
 * Slack can start. Token prefixes are checked so a user token pasted as the bot token fails here, not at runtime.
 */
export function slackConfigProblems(config: Pick<Config, 'slack'>): string[] {
  const { slack } = config;
  const problems: string[] = [];
  if (!slack.botToken) {
    problems.push(
      'SLACK_BOT_TOKEN is missing: the bot token (xoxb-…) from "OAuth & Permissions" of your Slack app',
    );
  } else if (!slack.botToken.startsWith('xoxb-')) {
    problems.push('SLACK_BOT_TOKEN must be a bot token starting with xoxb-');
  }
  if (slack.socketMode) {
    if (!slack.appToken) {
      problems.push(
        'SLACK_APP_TOKEN is missing: Socket Mode needs an app-level token (xapp-…) with connections:write',
      );
    } else if (!slack.appToken.startsWith('xapp-')) {
      problems.push('SLACK_APP_TOKEN must be an app-level token starting with xapp-');
    }
  } else if (!slack.signingSecret) {
    problems.push(
      'SLACK_SIGNING_SECRET is missing: the signing secret from "Basic Information" of your Slack app ' +
        '(or set SLACK_SOCKET_MODE=true with SLACK_APP_TOKEN)',
    );
  }
  if (slack.userToken && !slack.userToken.startsWith('xoxp-')) {
    problems.push('SLACK_USER_TOKEN must be a user token starting with xoxp-');
  }
  return problems;
}
