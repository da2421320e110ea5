import type { MessageReaction, PartialMessageReaction, PartialUser, User } from 'discord.js';
import type { QueueDriver } from '../../queue/types.ts';
import type { Logger } from '../../src/logger.ts';
import type { InboundRateLimiter } from '../rate-limit.ts';
import { locate, textOf } from './normalise.ts';

export interface ReactionDeps {
  queue: QueueDriver;
  /** The same limiter as messages, under its own key: reactions never use up a member's message budget. */
  limiter: InboundRateLimiter;
  log: Logger;
}

/**
 * A member's reaction to someone else's message, queued as a reaction job (InboundMessage.reaction) for their
 * interest profile. The reacted message is fetched when discord.js has not cached it. Reactions by bots, to
 * one's own or a bot's message, in DMs, or on messages without text are ignored.
 */
export async function onReactionAdd(
  reaction: MessageReaction | PartialMessageReaction,
  user: User | PartialUser,
  botId: string,
  deps: ReactionDeps,
): Promise<void> {
  if (user.bot === true || user.id === botId || !reaction.message.guildId) return;
  const emoji = reaction.emoji.id ?? reaction.emoji.name ?? 'unknown';
  // Before the fetch: a flood of reactions must not turn into a flood of REST calls.
  const { guildId, channelId, id } = reaction.message;
  const allowed = await deps.limiter.allow(
    `discord-reaction:${guildId}:${user.id}`,
    `discord:${channelId}:${id}:reaction:${user.id}:${emoji}`,
  );
  if (!allowed) {
    deps.log.debug({ userId: user.id, messageId: id }, 'reactions over the rate limit; not queued');
    return;
  }
  const message = reaction.message.partial ? await reaction.message.fetch() : reaction.message;
  if (!message.inGuild() || message.author.bot || message.system || message.webhookId) return;
  if (message.author.id === user.id) return;
  const text = textOf(message, botId);
  if (text === '') return;
  const { jobId, duplicate } = await deps.queue.enqueueInbound({
    platform: 'discord',
    ...locate(message),
    messageId: message.id,
    author: { id: user.id, name: user.globalName ?? user.username ?? '', roles: [], isBot: false },
    text,
    mentionsBot: false,
    timestamp: Date.now(),
    reaction: { emoji, authorId: message.author.id },
  });
  deps.log.debug({ jobId, duplicate }, 'reaction queued');
}
