import { OAuth2Scopes, PermissionFlagsBits } from 'discord.js';

/** Exactly the permissions Steward uses: read and answer, react, alert with embeds, delete, time out. */
export const DISCORD_BOT_PERMISSIONS: bigint = [
  PermissionFlagsBits.ViewChannel,
  PermissionFlagsBits.SendMessages,
  PermissionFlagsBits.SendMessagesInThreads,
  PermissionFlagsBits.ReadMessageHistory,
  PermissionFlagsBits.AddReactions,
  PermissionFlagsBits.ManageMessages,
  PermissionFlagsBits.ModerateMembers,
  PermissionFlagsBits.EmbedLinks,
  PermissionFlagsBits.UseApplicationCommands,
].reduce((all, bit) => all | bit, 0n);

/** The OAuth2 URL that adds the bot to a server with the permissions above (`steward invite-url`). */
export function discordInviteUrl(applicationId: string): string {
  if (!/^\d{5,25}$/.test(applicationId)) {
    throw new TypeError(`a Discord application id is a number (snowflake), got "${applicationId}"`);
  }
  const params = new URLSearchParams({
    client_id: applicationId,
    scope: [OAuth2Scopes.Bot, OAuth2Scopes.ApplicationsCommands].join(' '),
    permissions: DISCORD_BOT_PERMISSIONS.toString(),
  });
  return `https://discord.com/oauth2/authorize?${params.toString()}`;
}
