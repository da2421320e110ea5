import { cleanContent, type Message } from 'discord.js';
import type { ContextTurn, InboundMessageInput } from '../../src/domain/message.ts';
import type { Logger } from '../../src/logger.ts';

/** Workspace id of direct messages: they have no guild, and share one settings record. */
export const DM_WORKSPACE = 'dm';

/** Where a Discord message lives in domain terms: a thread's parent is the channel, the thread is the thread. */
export function locate(message: Message): { workspaceId: string; channelId: string; threadId?: string } {
  const channel = message.channel;
  const workspaceId = message.guildId ?? DM_WORKSPACE;
  if (channel.isThread() && channel.parentId)
    return { workspaceId, channelId: channel.parentId, threadId: channel.id };
  return { workspaceId, channelId: message.channelId };
}

/** The bot's own integration role: Discord clients often insert it when a member types "@Steward". */
function botRoleId(message: Message): string | undefined {
  return message.guild?.members.me?.roles.botRole?.id;
}

/** Text as the models see it: the bot's own mention removed, other mentions as readable @names. */
export function textOf(message: Message, botId: string): string {
  const roleId = botRoleId(message);
  const own = roleId ? `<@!?${botId}>|<@&${roleId}>` : `<@!?${botId}>`;
  const withoutBot = message.content.replace(new RegExp(own, 'g'), ' ');
  return cleanContent(withoutBot, message.channel).replace(/\s+/g, ' ').trim();
}

function authorName(message: Message): string {
  return message.member?.displayName ?? message.author.globalName ?? message.author.username;
}

/**
 * The messages this one replies to, oldest first, at most `depth`. The first is usually in the cache (Discord sends
 * it along); older ones cost one REST GET each. A deleted or unreadable link ends the chain.
 */
export async function replyChain(
  message: Message,
  botId: string,
  depth: number,
  log: Logger,
): Promise<ContextTurn[]> {
  const turns: ContextTurn[] = [];
  let current: Message = message;
  while (turns.length < depth && current.reference?.messageId) {
    try {
      current = await current.fetchReference();
    } catch (error) {
      log.debug(
        { err: (error as Error).message, messageId: current.reference?.messageId },
        'reply chain ends',
      );
      break;
    }
    turns.unshift({
      authorId: current.author.id,
      authorName: authorName(current),
      text: textOf(current, botId),
      fromBot: current.author.id === botId,
    });
  }
  return turns;
}

/** A Discord message as an InboundMessage (validated by the queue driver). */
export async function normalise(
  message: Message,
  botId: string,
  depth: number,
  log: Logger,
): Promise<InboundMessageInput> {
  const context = await replyChain(message, botId, depth, log);
  const repliedToBot = message.mentions.repliedUser?.id === botId || context.at(-1)?.fromBot === true;
  const roleId = botRoleId(message);
  const mentionsBotRole = roleId !== undefined && message.mentions.roles.has(roleId);
  return {
    platform: 'discord',
    ...locate(message),
    messageId: message.id,
    author: {
      id: message.author.id,
      name: authorName(message),
      roles: message.member
        ? [...message.member.roles.cache.keys()].filter((id) => id !== message.guildId)
        : [],
      isBot: message.author.bot,
    },
    text: textOf(message, botId),
    mentionsBot: message.mentions.users.has(botId) || mentionsBotRole || repliedToBot,
    timestamp: message.createdTimestamp,
    context,
    direct: !message.inGuild(),
  };
}
