import type { webApi } from '@slack/bolt';
import { LRUCache } from 'lru-cache';
import type { ContextTurn } from '../../src/domain/message.ts';
import type { Logger } from '../../src/logger.ts';
import { plainText } from './text.ts';

/** The bot's identity in the workspace, from auth.test at start. */
export interface BotIdentity {
  teamId: string;
  userId: string;
  botId: string;
}

export interface SlackUser {
  id: string;
  name: string;
  isAdmin: boolean;
  isBot: boolean;
}

export interface RawMessage {
  ts?: string;
  thread_ts?: string;
  user?: string;
  bot_id?: string;
  text?: string;
  subtype?: string;
}

/**
 * Cached users.info lookups (display names for the models and alerts, admin flags for permissions) and thread
 * context. Lookups that fail degrade (id as name, no context) instead of dropping the message.
 */
export class SlackDirectory {
  /** users.info answers, each reused for `cacheMs`; bounded, least recently used evicted first. */
  readonly #users: LRUCache<string, SlackUser>;

  constructor(
    private readonly web: webApi.WebClient,
    private readonly bot: BotIdentity,
    cacheMs: number,
    private readonly log: Logger,
  ) {
    // A stale entry stays (noDeleteOnStaleGet) so cachedName can still render it until users.info answers anew.
    this.#users = new LRUCache<string, SlackUser>({
      max: 10_000,
      ttl: Math.max(1, cacheMs),
      noDeleteOnStaleGet: true,
    });
  }

  /** The user, or null when Slack does not know them; errors other than user_not_found propagate. */
  async user(id: string): Promise<SlackUser | null> {
    const cached = this.#users.get(id);
    if (cached) return cached;
    let result: webApi.UsersInfoResponse;
    try {
      result = await this.web.users.info({ user: id });
    } catch (error) {
      if ((error as { data?: { error?: string } }).data?.error === 'user_not_found') return null;
      throw error;
    }
    const u = result.user;
    if (!u?.id) return null;
    const user: SlackUser = {
      id: u.id,
      name: u.profile?.display_name || u.real_name || u.name || u.id,
      isAdmin: Boolean(u.is_admin || u.is_owner || u.is_primary_owner),
      isBot: Boolean(u.is_bot),
    };
    this.#users.set(id, user);
    return user;
  }

  /** A display name, falling back to the id when the lookup fails. */
  async nameOf(id: string): Promise<string> {
    try {
      return (await this.user(id))?.name ?? id;
    } catch (error) {
      this.log.debug(
        { err: (error as Error).message, userId: id },
        'users.info failed; using the id as name',
      );
      return id;
    }
  }

  /** A name already in the cache (for rendering mentions without a request per mention). */
  cachedName(id: string): string | undefined {
    // An expired name still renders a mention better than the bare id (get() would drop it).
    return this.#users.peek(id, { allowStale: true })?.name;
  }

  /** One message by its channel and ts, top level or in a thread; null when it is gone or cannot be read. */
  async message(channel: string, ts: string): Promise<RawMessage | null> {
    try {
      const top = await this.web.conversations.history({ channel, latest: ts, inclusive: true, limit: 1 });
      const found = ((top.messages ?? []) as RawMessage[]).find((m) => m.ts === ts);
      if (found) return found;
      // A reply inside a thread is not in the channel's history; conversations.replies finds it by its ts.
      const thread = await this.web.conversations.replies({ channel, ts, limit: 200 });
      return ((thread.messages ?? []) as RawMessage[]).find((m) => m.ts === ts) ?? null;
    } catch (error) {
      this.log.debug({ err: (error as Error).message, channel, ts }, 'message unavailable');
      return null;
    }
  }

  /** The last `turns` messages of a thread before `beforeTs`, oldest first. */
  async threadContext(
    channel: string,
    threadTs: string,
    beforeTs: string,
    turns: number,
  ): Promise<ContextTurn[]> {
    if (turns <= 0) return [];
    let messages: RawMessage[];
    try {
      const result = await this.web.conversations.replies({ channel, ts: threadTs, limit: 200 });
      messages = (result.messages ?? []) as RawMessage[];
    } catch (error) {
      this.log.debug({ err: (error as Error).message, channel, threadTs }, 'thread context unavailable');
      return [];
    }
    const earlier = messages
      .filter((m) => m.ts !== undefined && Number(m.ts) < Number(beforeTs) && (m.text ?? '') !== '')
      .sort((a, b) => Number(a.ts) - Number(b.ts))
      .slice(-turns);
    const result: ContextTurn[] = [];
    for (const m of earlier) {
      const fromBot = m.bot_id === this.bot.botId || m.user === this.bot.userId;
      const authorId = m.user ?? m.bot_id ?? 'unknown';
      result.push({
        authorId,
        authorName: fromBot ? 'Steward' : await this.nameOf(authorId),
        text: plainText(m.text ?? '', this.bot.userId, (id) => this.cachedName(id)).slice(0, 4_000),
        fromBot,
      });
    }
    return result;
  }
}
