import { PermissionFlagsBits } from 'discord.js';
import type { DiscordEmulator } from './server.ts';
import { type EmuUser, snowflake } from './state.ts';

/** Ids of a seeded test community: a guild with general, mod and a thread, and members of each kind. */
export interface Community {
  guildId: string;
  general: string;
  mod: string;
  thread: string;
  dm: string;
  users: { admin: EmuUser; moderator: EmuUser; member: EmuUser; otherBot: EmuUser };
  roles: { admin: string; moderator: string; bot: string };
}

const { ViewChannel, SendMessages, ReadMessageHistory, ManageGuild, ManageMessages, ModerateMembers } =
  PermissionFlagsBits;

/** Seeds one guild; call before the client logs in so READY/GUILD_CREATE carry it. */
export function seedCommunity(emulator: DiscordEmulator): Community {
  const { state } = emulator;
  const guildId = snowflake();
  const user = (username: string, bot = false): EmuUser => ({ id: snowflake(), username, bot });
  const users = {
    admin: user('ada'),
    moderator: user('mo'),
    member: user('mel'),
    otherBot: user('otherbot', true),
  };
  const roles = { admin: snowflake(), moderator: snowflake(), bot: snowflake() };
  state.guilds.set(guildId, {
    id: guildId,
    name: 'Test Community',
    ownerId: snowflake(),
    roles: [
      { id: guildId, name: '@everyone', permissions: ViewChannel | SendMessages | ReadMessageHistory },
      { id: roles.moderator, name: 'Moderators', permissions: ManageMessages | ModerateMembers },
      { id: roles.admin, name: 'Admins', permissions: ManageGuild | ManageMessages | ModerateMembers },
      // The role Discord gives the bot on joining; members sometimes mention it instead of the bot user.
      {
        id: roles.bot,
        name: 'Steward',
        permissions: ManageMessages | ModerateMembers,
        botId: state.botUser.id,
      },
    ],
    members: [
      { user: users.admin, roles: [roles.admin] },
      { user: users.moderator, roles: [roles.moderator] },
      { user: users.member, roles: [] },
      { user: users.otherBot, roles: [] },
      { user: state.botUser, roles: [roles.bot] },
    ],
  });
  const channel = (name: string, type = 0, parentId?: string) => {
    const id = snowflake();
    state.channels.set(id, { id, type, name, guildId, ...(parentId ? { parentId } : {}) });
    return id;
  };
  const general = channel('general');
  const mod = channel('mod-alerts');
  const thread = channel('a-thread', 11, general);
  const dm = snowflake();
  state.channels.set(dm, { id: dm, type: 1, name: 'dm' });
  return { guildId, general, mod, thread, dm, users, roles };
}

/** Seeds another guild while the bot is connected: Discord sends GUILD_CREATE when the bot joins a server. */
export function joinCommunity(emulator: DiscordEmulator): Community {
  const community = seedCommunity(emulator);
  emulator.gateway.dispatch(
    'GUILD_CREATE',
    emulator.state.guildPayload(emulator.state.guilds.get(community.guildId)!),
  );
  return community;
}
