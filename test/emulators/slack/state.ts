/** A Slack user as users.info returns it (the fields Steward reads). */
export interface EmuUser {
  id: string;
  name: string;
  realName?: string;
  isAdmin?: boolean;
  isOwner?: boolean;
  isBot?: boolean;
}

export interface EmuChannel {
  id: string;
  name: string;
  isIm?: boolean;
  /** The user on the other side of a DM channel. */
  user?: string;
}

/** A message in the emulated workspace; deleted ones stay (flagged) so tests can assert on them. */
export interface EmuMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  user?: string;
  botId?: string;
  text: string;
  blocks?: unknown[];
  /** Message metadata (`event_type`, `event_payload`), returned only to `include_all_metadata` reads. */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  reactions: Array<{ name: string; users: string[] }>;
  deleted: boolean;
  edited: boolean;
}

/** Who a token belongs to; tokens are looked up, never echoed back. */
export interface EmuToken {
  userId: string;
  kind: 'bot' | 'user' | 'app';
}

/** The workspace the emulator serves: one team, its users, channels and messages. */
export class SlackWorkspace {
  readonly team = { id: 'T0EMU0001', name: 'Emulated', domain: 'emulated' };
  readonly bot = { userId: 'U0STEWARD', botId: 'B0STEWARD', name: 'steward' };
  readonly users = new Map<string, EmuUser>();
  readonly channels = new Map<string, EmuChannel>();
  readonly messages: EmuMessage[] = [];
  readonly tokens = new Map<string, EmuToken>();
  #clock = 1_700_000_000;
  #seq = 0;

  constructor(botToken: string) {
    this.tokens.set(botToken, { userId: this.bot.userId, kind: 'bot' });
    this.addUser({ id: this.bot.userId, name: this.bot.name, isBot: true });
  }

  addUser(user: EmuUser): EmuUser {
    this.users.set(user.id, user);
    return user;
  }

  addChannel(channel: EmuChannel): EmuChannel {
    this.channels.set(channel.id, channel);
    return channel;
  }

  /** A user token (e.g. an admin's, for deleting members' messages). */
  addUserToken(token: string, userId: string): void {
    this.tokens.set(token, { userId, kind: 'user' });
  }

  /** An app-level token (xapp-…), good only for apps.connections.open (Socket Mode). */
  addAppToken(token: string): void {
    this.tokens.set(token, { userId: 'A0STEWARD', kind: 'app' });
  }

  /** Slack timestamps are unique per channel and ordered; a counter keeps them deterministic. */
  nextTs(): string {
    this.#seq += 1;
    return `${this.#clock + this.#seq}.${String(this.#seq).padStart(6, '0')}`;
  }

  /** Opens (or finds) the DM channel between the bot and a user. */
  dmWith(userId: string): EmuChannel {
    for (const channel of this.channels.values()) if (channel.isIm && channel.user === userId) return channel;
    return this.addChannel({ id: `D${userId.slice(1)}`, name: userId, isIm: true, user: userId });
  }

  /** Resolves a channel argument: a user id posts into the DM with that user, as on Slack. */
  resolveChannel(id: string): EmuChannel | undefined {
    if (this.channels.has(id)) return this.channels.get(id);
    if (/^[UW]/.test(id) && this.users.has(id)) return this.dmWith(id);
    return undefined;
  }

  addMessage(
    message: Omit<EmuMessage, 'ts' | 'reactions' | 'deleted' | 'edited'> & { ts?: string },
  ): EmuMessage {
    const stored: EmuMessage = {
      reactions: [],
      deleted: false,
      edited: false,
      ...message,
      ts: message.ts ?? this.nextTs(),
    };
    this.messages.push(stored);
    return stored;
  }

  findMessage(channel: string, ts: string): EmuMessage | undefined {
    return this.messages.find((m) => m.channel === channel && m.ts === ts && !m.deleted);
  }

  /** Live messages of a thread, parent first (conversations.replies). */
  thread(channel: string, ts: string): EmuMessage[] {
    return this.messages
      .filter((m) => m.channel === channel && !m.deleted && (m.ts === ts || m.threadTs === ts))
      .sort((a, b) => Number(a.ts) - Number(b.ts));
  }

  /** Messages the bot posted into a channel (thread replies included), oldest first. */
  botMessages(channel?: string): EmuMessage[] {
    return this.messages.filter(
      (m) => m.botId === this.bot.botId && (channel === undefined || m.channel === channel),
    );
  }
}

/** The shape of a message in Web API responses and event payloads. */
export function messageJson(message: EmuMessage, withMetadata = false): Record<string, unknown> {
  return {
    ...(withMetadata && message.metadata ? { metadata: message.metadata } : {}),
    type: 'message',
    ts: message.ts,
    text: message.text,
    ...(message.user ? { user: message.user } : {}),
    ...(message.botId ? { bot_id: message.botId } : {}),
    ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
    ...(message.blocks ? { blocks: message.blocks } : {}),
    ...(message.reactions.length > 0
      ? { reactions: message.reactions.map((r) => ({ name: r.name, users: r.users, count: r.users.length })) }
      : {}),
  };
}

export function userJson(user: EmuUser, teamId: string): Record<string, unknown> {
  const realName = user.realName ?? user.name;
  return {
    id: user.id,
    team_id: teamId,
    name: user.name,
    real_name: realName,
    is_admin: user.isAdmin ?? false,
    is_owner: user.isOwner ?? false,
    is_bot: user.isBot ?? false,
    deleted: false,
    profile: { real_name: realName, display_name: user.name },
  };
}
