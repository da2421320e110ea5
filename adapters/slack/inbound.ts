import type { EnqueueResult, QueueDriver } from '../../queue/types.ts';
import type { InboundMessageInput } from '../../src/domain/message.ts';
import type { Logger } from '../../src/logger.ts';
import type { BotIdentity, SlackDirectory } from './directory.ts';
import { plainText } from './text.ts';
import { compose, type Middleware as GenericMiddleware } from '../middleware.ts';
import type { InboundRateLimiter } from '../rate-limit.ts';

/** The fields of a Slack `message` / `app_mention` event Steward reads. */
export interface SlackMessageEvent {
  type: string;
  subtype?: string;
  channel: string;
  channel_type?: string;
  user?: string;
  bot_id?: string;
  app_id?: string;
  text?: string;
  ts: string;
  thread_ts?: string;
  team?: string;
}

/** What flows through the inbound chain for one Slack event. */
export interface InboundContext {
  event: SlackMessageEvent;
  teamId: string;
  /** x-slack-retry-num of a re-sent event. */
  retryNum?: number | undefined;
  inbound?: InboundMessageInput;
  result?: EnqueueResult;
}

export type Middleware = GenericMiddleware<InboundContext>;

export interface InboundDeps {
  queue: QueueDriver;
  bot: BotIdentity;
  directory: SlackDirectory;
  limiter: InboundRateLimiter;
  contextTurns: number;
  log: Logger;
}

/**
 * Subtypes that are still a member writing something new. Everything else (message_changed, message_deleted,
 * bot_message, channel_join, …) is an edit, a system notice or a bot, and is not analysed.
 */
const MEMBER_SUBTYPES = new Set(['thread_broadcast', 'file_share', 'me_message']);

/** Never analyse our own messages, other bots, edits or system notices. */
export function ignoreSelfAndBots(deps: InboundDeps): Middleware {
  return async ({ event }, next) => {
    if (event.subtype !== undefined && !MEMBER_SUBTYPES.has(event.subtype)) return;
    if (event.bot_id !== undefined || event.user === undefined) return;
    if (event.user === deps.bot.userId) return;
    await next();
  };
}

/**
 * Per-user rate limit (shared by every bot process in distributed mode), charged once per message. Messages over the limit are dropped (logged, not enqueued): a flood must not starve the
 * workers, and its first messages already reach moderation.
 */
export function rateLimit(deps: InboundDeps): Middleware {
  return async ({ event, teamId }, next) => {
    const user = `slack:${teamId}:${event.user}`;
    if (!(await deps.limiter.allow(user, `slack:${teamId}:${event.channel}:${event.ts}`))) {
      deps.log.info({ userId: event.user, ts: event.ts }, 'user over the message rate limit; not queued');
      return;
    }
    await next();
  };
}

/** The event as an InboundMessage: workspace = team, message id = ts, thread context from conversations.replies. */
export function normaliseStep(deps: InboundDeps): Middleware {
  return async (ctx, next) => {
    ctx.inbound = await normalise(ctx.event, ctx.teamId, deps);
    // A bare mention or a file without a caption carries no text to analyse.
    if (ctx.inbound.text === '') return;
    await next();
  };
}

export async function normalise(
  event: SlackMessageEvent,
  teamId: string,
  deps: InboundDeps,
): Promise<InboundMessageInput> {
  const { bot, directory } = deps;
  const userId = event.user!;
  const raw = event.text ?? '';
  // A reply inside a thread has thread_ts ≠ ts; the parent of a thread has thread_ts = ts (or none).
  const threadTs =
    event.thread_ts !== undefined && event.thread_ts !== event.ts ? event.thread_ts : undefined;
  const [name, context] = await Promise.all([
    directory.nameOf(userId),
    threadTs
      ? directory.threadContext(event.channel, threadTs, event.ts, deps.contextTurns)
      : Promise.resolve([]),
  ]);
  const direct = event.channel_type === 'im';
  // A reply in a thread right after the bot spoke is talking to the bot, like a Discord reply to its message.
  const answersBot = context.at(-1)?.fromBot === true;
  return {
    platform: 'slack',
    workspaceId: teamId,
    channelId: event.channel,
    ...(threadTs ? { threadId: threadTs } : {}),
    messageId: event.ts,
    author: { id: userId, name, roles: [], isBot: false },
    text: plainText(raw, bot.userId, (id) => directory.cachedName(id)),
    mentionsBot: event.type === 'app_mention' || raw.includes(`<@${bot.userId}>`) || answersBot,
    timestamp: Math.round(Number.parseFloat(event.ts) * 1000),
    context,
    direct,
  };
}

/** Enqueues; a re-sent event (or the `message` twin of an `app_mention`) maps to the same job id. */
export function enqueue(deps: InboundDeps): Middleware {
  return async (ctx, next) => {
    ctx.result = await deps.queue.enqueueInbound(ctx.inbound!);
    deps.log.debug(
      { jobId: ctx.result.jobId, duplicate: ctx.result.duplicate, retryNum: ctx.retryNum },
      'message queued',
    );
    await next();
  };
}

/** The inbound chain: ignore self/bots → rate limit → normalise → enqueue. */
export function inboundChain(deps: InboundDeps): (ctx: InboundContext) => Promise<void> {
  return compose([ignoreSelfAndBots(deps), rateLimit(deps), normaliseStep(deps), enqueue(deps)]);
}
