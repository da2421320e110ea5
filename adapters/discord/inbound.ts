import type { Message } from 'discord.js';
import type { QueueDriver } from '../../queue/types.ts';
import { type InboundMessageInput, inboundJobId } from '../../src/domain/message.ts';
import type { Logger } from '../../src/logger.ts';
import { expectsAddressedReply } from '../../src/domain/decide.ts';
import type { SettingsReader } from '../../src/store/types.ts';
import { normalise } from './normalise.ts';
import type { TypingIndicators } from './typing.ts';
import { compose, type Middleware as GenericMiddleware } from '../middleware.ts';
import type { InboundRateLimiter } from '../rate-limit.ts';

/** What flows through the inbound chain for one Discord message. */
export interface InboundContext {
  message: Message;
  botId: string;
  inbound?: InboundMessageInput;
}

export type Middleware = GenericMiddleware<InboundContext>;

export interface InboundDeps {
  queue: QueueDriver;
  /** Workspace settings, cached briefly: read for every mention, only to see whether replies are on. */
  settings: SettingsReader;
  limiter: InboundRateLimiter;
  typing: TypingIndicators;
  replyChainDepth: number;
  log: Logger;
}

/** Never analyse our own messages, other bots, webhooks or system messages (joins, pins…). */
export const ignoreSelfAndBots: Middleware = async ({ message, botId }, next) => {
  if (message.author.id === botId || message.author.bot || message.webhookId || message.system) return;
  await next();
};

/**
 * Per-user rate limit (shared by every bot process in distributed mode). Messages over the limit are dropped (logged, not enqueued): a flood must not starve the
 * workers, and the first messages of a flood already reach moderation, which is what moderators need to act.
 */
export function rateLimit(deps: InboundDeps): Middleware {
  return async ({ message }, next) => {
    const user = `discord:${message.guildId ?? 'dm'}:${message.author.id}`;
    if (!(await deps.limiter.allow(user, `discord:${message.channelId}:${message.id}`))) {
      deps.log.info(
        { userId: message.author.id, messageId: message.id },
        'user over the message rate limit; not queued',
      );
      return;
    }
    await next();
  };
}

export function normaliseStep(deps: InboundDeps): Middleware {
  return async (ctx, next) => {
    ctx.inbound = await normalise(ctx.message, ctx.botId, deps.replyChainDepth, deps.log);
    // Attachments or stickers alone carry no text to analyse.
    if (ctx.inbound.text === '') return;
    await next();
  };
}

export function enqueue(deps: InboundDeps): Middleware {
  return async (ctx, next) => {
    const inbound = ctx.inbound!;
    const { jobId, duplicate } = await deps.queue.enqueueInbound(inbound);
    deps.log.debug({ jobId, duplicate }, 'message queued');
    if (!duplicate) await next();
  };
}

/** A mention or DM may get a reply: show "typing…" unless replies are off for this workspace. */
export function typingStep(deps: InboundDeps): Middleware {
  return async ({ inbound, message }) => {
    if (!inbound || !(inbound.mentionsBot || inbound.direct)) return;
    const settings = await deps.settings.get('discord', inbound.workspaceId);
    if (!expectsAddressedReply(inbound, settings)) return;
    deps.typing.start(inboundJobId(inbound), message.channelId);
  };
}

/** The inbound chain: ignore self/bots → rate limit → normalise → enqueue → typing. */
export function inboundChain(deps: InboundDeps): (ctx: InboundContext) => Promise<void> {
  return compose([ignoreSelfAndBots, rateLimit(deps), normaliseStep(deps), enqueue(deps), typingStep(deps)]);
}
