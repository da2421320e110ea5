import { PermissionFlagsBits, SnowflakeUtil } from 'discord.js';

/** What the emulator knows about the world: one application, its bot user, guilds, channels, members, messages. */

export interface EmuUser {
  id: string;
  username: string;
  bot?: boolean;
}

export interface EmuRole {
  id: string;
  name: string;
  permissions: bigint;
  /** Set on the role Discord creates for a bot when it joins (its "managed" integration role). */
  botId?: string;
}

export interface EmuMember {
  user: EmuUser;
  roles: string[];
  nick?: string;
  communicationDisabledUntil?: string | null;
}

export interface EmuChannel {
  id: string;
  /** 0 = text, 1 = DM, 11 = public thread. */
  type: number;
  name: string;
  guildId?: string;
  parentId?: string;
  /** The other side of a DM channel the bot opened. */
  recipientId?: string;
  /** Permission overwrites (type 0 = role, 1 = member); threads use their parent's. */
  overwrites?: Array<{ id: string; type: 0 | 1; allow: bigint; deny: bigint }>;
}

export interface EmuGuild {
  id: string;
  name: string;
  ownerId: string;
  roles: EmuRole[];
  members: EmuMember[];
}

/** A message as the emulator stores it: the raw Discord payload (snake_case), kept up to date by PATCH. */
export type RawMessage = Record<string, unknown> & { id: string; channel_id: string; author: EmuUser };

export interface NewMessage {
  channelId: string;
  author: EmuUser;
  content: string;
  embeds?: unknown[];
  components?: unknown[];
  /** Id of the message this one replies to. */
  replyTo?: string | undefined;
  /** User ids mentioned in the content. */
  mentions?: string[];
  /** Role ids mentioned in the content. */
  mentionRoles?: string[];
  nonce?: string | undefined;
}

export function snowflake(): string {
  return SnowflakeUtil.generate().toString();
}

export class EmulatorState {
  readonly guilds = new Map<string, EmuGuild>();
  readonly channels = new Map<string, EmuChannel>();
  readonly messages = new Map<string, RawMessage>();
  /** Messages that were deleted, kept for assertions. */
  readonly deleted = new Map<string, RawMessage>();
  /** Registered global application commands by id. */
  readonly commands = new Map<string, Record<string, unknown>>();
  /** nonce → message id, for enforce_nonce deduplication (Discord keeps these for a few minutes). */
  readonly nonces = new Map<string, string>();
  /** AutoMod rules by guild id (GET/POST/PATCH /guilds/:id/auto-moderation/rules). */
  readonly autoModRules = new Map<string, Array<Record<string, unknown> & { id: string }>>();

  constructor(
    readonly applicationId: string,
    readonly botUser: EmuUser,
  ) {}

  member(guildId: string, userId: string): EmuMember | undefined {
    return this.guilds.get(guildId)?.members.find((m) => m.user.id === userId);
  }

  /** Effective guild permissions of a member: @everyone plus each of their roles (Administrator implies all). */
  permissionsOf(guildId: string, userId: string): bigint {
    const guild = this.guilds.get(guildId);
    const member = this.member(guildId, userId);
    if (!guild || !member) return 0n;
    if (guild.ownerId === userId) return allPermissions();
    let bits = guild.roles.find((r) => r.id === guild.id)?.permissions ?? 0n;
    for (const roleId of member.roles) bits |= guild.roles.find((r) => r.id === roleId)?.permissions ?? 0n;
    return (bits & PermissionFlagsBits.Administrator) !== 0n ? allPermissions() : bits;
  }

  /** Permissions in a channel: guild permissions, then @everyone, role and member overwrites, as Discord applies them. */
  permissionsIn(guildId: string, userId: string, channelId: string): bigint {
    let bits = this.permissionsOf(guildId, userId);
    if ((bits & PermissionFlagsBits.Administrator) !== 0n) return bits;
    const channel = this.channels.get(channelId);
    const source = channel?.parentId ? this.channels.get(channel.parentId) : channel;
    const overwrites = source?.overwrites ?? [];
    const roles = new Set(this.member(guildId, userId)?.roles ?? []);
    const apply = (o: { allow: bigint; deny: bigint }) => {
      bits = (bits & ~o.deny) | o.allow;
    };
    for (const o of overwrites) if (o.type === 0 && o.id === guildId) apply(o);
    let allow = 0n;
    let deny = 0n;
    for (const o of overwrites) {
      if (o.type === 0 && roles.has(o.id)) {
        allow |= o.allow;
        deny |= o.deny;
      }
    }
    apply({ allow, deny });
    for (const o of overwrites) if (o.type === 1 && o.id === userId) apply(o);
    return bits;
  }

  userPayload(user: EmuUser): Record<string, unknown> {
    return {
      id: user.id,
      username: user.username,
      global_name: user.username,
      discriminator: '0',
      avatar: null,
      bot: user.bot ?? false,
    };
  }

  /** A member as Discord sends it; `channelId` makes `permissions` the ones in that channel (interactions). */
  memberPayload(
    guildId: string,
    member: EmuMember,
    withUser = true,
    channelId?: string,
  ): Record<string, unknown> {
    return {
      ...(withUser ? { user: this.userPayload(member.user) } : {}),
      nick: member.nick ?? null,
      roles: member.roles,
      joined_at: new Date(0).toISOString(),
      deaf: false,
      mute: false,
      flags: 0,
      communication_disabled_until: member.communicationDisabledUntil ?? null,
      permissions: (channelId
        ? this.permissionsIn(guildId, member.user.id, channelId)
        : this.permissionsOf(guildId, member.user.id)
      ).toString(),
    };
  }

  channelPayload(channel: EmuChannel): Record<string, unknown> {
    const base: Record<string, unknown> = { id: channel.id, type: channel.type, name: channel.name };
    if (channel.guildId) {
      base.guild_id = channel.guildId;
      base.position = 0;
      base.permission_overwrites = (channel.overwrites ?? []).map((o) => ({
        id: o.id,
        type: o.type,
        allow: o.allow.toString(),
        deny: o.deny.toString(),
      }));
    }
    if (channel.parentId) {
      base.parent_id = channel.parentId;
      base.owner_id = this.botUser.id;
      base.thread_metadata = {
        archived: false,
        auto_archive_duration: 1440,
        archive_timestamp: new Date().toISOString(),
        locked: false,
      };
    }
    if (channel.type === 1) {
      const user = [...this.guilds.values()]
        .flatMap((g) => g.members)
        .find((m) => m.user.id === channel.recipientId);
      base.recipients = user ? [this.userPayload(user.user)] : [];
    }
    return base;
  }

  /** The full GUILD_CREATE payload. */
  guildPayload(guild: EmuGuild): Record<string, unknown> {
    const channels = [...this.channels.values()].filter((c) => c.guildId === guild.id);
    return {
      id: guild.id,
      name: guild.name,
      icon: null,
      owner_id: guild.ownerId,
      unavailable: false,
      large: false,
      member_count: guild.members.length,
      features: [],
      emojis: [],
      stickers: [],
      voice_states: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
      joined_at: new Date(0).toISOString(),
      roles: guild.roles.map((role, position) => ({
        id: role.id,
        name: role.name,
        permissions: role.permissions.toString(),
        position,
        color: 0,
        hoist: false,
        managed: role.botId !== undefined,
        mentionable: false,
        flags: 0,
        ...(role.botId ? { tags: { bot_id: role.botId } } : {}),
      })),
      channels: channels.filter((c) => c.type !== 11).map((c) => this.channelPayload(c)),
      threads: channels.filter((c) => c.type === 11).map((c) => this.channelPayload(c)),
      members: guild.members.map((m) => this.memberPayload(guild.id, m)),
    };
  }

  /** Stores a message as Discord would render it (author, member, mentions, reply reference) and returns it. */
  storeMessage(input: NewMessage): RawMessage {
    const channel = this.channels.get(input.channelId);
    const guildId = channel?.guildId;
    const referenced = input.replyTo ? this.messages.get(input.replyTo) : undefined;
    const mentionIds = new Set(input.mentions ?? []);
    // A reply pings the replied-to author by default, and Discord lists them in mentions.
    if (referenced && !input.author.bot) mentionIds.add(referenced.author.id);
    const mentions = [...mentionIds].map((id) => {
      const member = guildId ? this.member(guildId, id) : undefined;
      const user = member?.user ?? (id === this.botUser.id ? this.botUser : { id, username: `user${id}` });
      return {
        ...this.userPayload(user),
        ...(member && guildId ? { member: this.memberPayload(guildId, member, false) } : {}),
      };
    });
    const member = guildId ? this.member(guildId, input.author.id) : undefined;
    const message: RawMessage = {
      id: snowflake(),
      channel_id: input.channelId,
      ...(guildId ? { guild_id: guildId } : {}),
      author: this.userPayload(input.author) as unknown as EmuUser,
      ...(member && guildId ? { member: this.memberPayload(guildId, member, false) } : {}),
      content: input.content,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions,
      mention_roles: input.mentionRoles ?? [],
      attachments: [],
      embeds: input.embeds ?? [],
      components: input.components ?? [],
      pinned: false,
      type: referenced ? 19 : 0,
      flags: 0,
      ...(input.nonce ? { nonce: input.nonce } : {}),
      ...(referenced
        ? {
            message_reference: {
              type: 0,
              message_id: referenced.id,
              channel_id: referenced.channel_id,
              ...(guildId ? { guild_id: guildId } : {}),
            },
            // Discord nests only one level of referenced_message.
            referenced_message: { ...referenced, referenced_message: undefined },
          }
        : {}),
    };
    this.messages.set(message.id, message);
    return message;
  }

  /** The bot's DM channel with a user (created on first use, like POST /users/@me/channels). */
  dmChannel(userId: string): EmuChannel {
    const existing = [...this.channels.values()].find((c) => c.type === 1 && c.recipientId === userId);
    if (existing) return existing;
    const channel: EmuChannel = { id: snowflake(), type: 1, name: '', recipientId: userId };
    this.channels.set(channel.id, channel);
    return channel;
  }

  /** Guild id of a channel (threads and text channels); undefined for DMs. */
  guildOf(channelId: string): string | undefined {
    return this.channels.get(channelId)?.guildId;
  }
}

function allPermissions(): bigint {
  return Object.values(PermissionFlagsBits).reduce((all, bit) => all | bit, 0n);
}
