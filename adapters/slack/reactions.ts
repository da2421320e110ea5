import type { QueueDriver } from '../../queue/types.ts';
import type { Logger } from '../../src/logger.ts';
import type { InboundRateLimiter } from '../rate-limit.ts';
import type { BotIdentity, SlackDirectory } from './directory.ts';
import { plainText } from './text.ts';

/** The fields of a Slack `reaction_added` event Steward reads. */
export interface SlackReactionEvent {
  type: 'reaction_added';
  user: string;
  reaction: string;
  /** Who wrote the message reacted to (absent for files and some app messages). */
  item_user?: string;
  item: { type: string; channel?: string; ts?: string };
  event_ts?: string;
}

export interface ReactionDeps {
  queue: QueueDriver;
  bot: BotIdentity;
  directory: SlackDirectory;
  /** The same limiter as messages, under its own key: reactions never use up a member's message budget. */
  limiter: InboundRateLimiter;
  log: Logger;
}

/**
 * A member's reaction to someone else's message, queued as a reaction job (InboundMessage.reaction) for their
 * interest profile; the message's text is read with conversations.history (or .replies in a thread). Reactions by
 * bots, to one's own message, a bot's message or a file, and to messages without text are ignored.
 */
export async function onReactionAdded(
  event: SlackReactionEvent,
  teamId: string,
  deps: ReactionDeps,
): Promise<void> {
  const { item } = event;
  if (item.type !== 'message' || !item.channel || !item.ts) return;
  if (event.user === deps.bot.userId || event.item_user === undefined || event.item_user === event.user)
    return;
  const allowed = await deps.limiter.allow(
    `slack-reaction:${teamId}:${event.user}`,
    `slack:${teamId}:${item.channel}:${item.ts}:reaction:${event.user}:${event.reaction}`,
  );
  if (!allowed) {
    deps.log.debug({ userId: event.user, ts: item.ts }, 'reactions over the rate limit; not queued');
    return;
  }
  const [reactor, message] = await Promise.all([
    deps.directory.user(event.user).catch(() => null),
    deps.directory.message(item.channel, item.ts),
  ]);
  if (reactor?.isBot || !message || message.bot_id !== undefined || message.user !== event.item_user) return;
  const text = plainText(message.text ?? '', deps.bot.userId, (id) => deps.directory.cachedName(id));
  if (text === '') return;
  const threadTs =
    message.thread_ts !== undefined && message.thread_ts !== item.ts ? message.thread_ts : undefined;
  const { jobId, duplicate } = await deps.queue.enqueueInbound({
    platform: 'slack',
    workspaceId: teamId,
    channelId: item.channel,
    ...(threadTs ? { threadId: threadTs } : {}),
    messageId: item.ts,
    author: { id: event.user, name: reactor?.name ?? event.user, roles: [], isBot: false },
    text,
    mentionsBot: false,
    timestamp: event.event_ts ? Math.round(Number.parseFloat(event.event_ts) * 1000) : Date.now(),
    reaction: { emoji: event.reaction, authorId: event.item_user },
  });
  deps.log.debug({ jobId, duplicate }, 'reaction queued');
}
