import {
  type APIEmbed,
  type ButtonInteraction,
  GuildMember,
  MessageFlags,
  PermissionFlagsBits,
  type PermissionResolvable,
  type REST,
  Routes,
} from 'discord.js';
import type { Logger } from '../../src/logger.ts';
import {
  authoriseModAction,
  capabilityFor,
  type ModCapability,
  settles,
} from '../../src/domain/moderation-actions.ts';
import type { Store } from '../../src/store/types.ts';
import { alertAfterAction, type ModAction, parseButtonId, parseJumpLink } from './alert.ts';
import { isGone, scrub } from './errors.ts';

export interface ButtonDeps {
  rest: REST;
  store: Store;
  token: string;
  timeoutMs: number;
  log: Logger;
  /** Tells the flagged member privately what was done, with an Appeal button. */
  notice?: (flagId: string, did: string) => Promise<void>;
}

/** The Discord permission behind each capability the moderation-action rules ask for. */
const NEEDS: Record<ModCapability, { permission: PermissionResolvable; name: string }> = {
  manage_messages: { permission: PermissionFlagsBits.ManageMessages, name: 'Manage Messages' },
  moderate_members: { permission: PermissionFlagsBits.ModerateMembers, name: 'Moderate Members' },
};

/** Where the flagged message is: the alert's jump link (it knows threads), else the flag id's own parts. */
function targetOf(
  interaction: ButtonInteraction,
  flagId: string,
): { channelId: string; messageId: string } | null {
  const fromLink = parseJumpLink(interaction.message.embeds[0]?.url);
  if (fromLink) return fromLink;
  const parts = flagId.split(':');
  return parts.length >= 5 ? { channelId: parts.at(-2)!, messageId: parts.at(-1)! } : null;
}

/**
 * Whether the clicker may do this. Discord sends their permissions in the alert's channel; deleting also needs
 * Manage Messages where the flagged message is (channel overrides there may deny it), computed from the cache.
 */
function allowed(
  interaction: ButtonInteraction<'cached' | 'raw'>,
  action: ModAction,
  flagId: string,
): boolean {
  const need = NEEDS[capabilityFor(action)].permission;
  if (!interaction.memberPermissions.has(need)) return false;
  if (action === 'timeout') return true;
  const target = targetOf(interaction, flagId);
  const channel = target ? interaction.guild?.channels.cache.get(target.channelId) : undefined;
  const member = interaction.member;
  // Uncached guild or channel: the alert-channel permissions are all there is to go on.
  if (!channel || !(member instanceof GuildMember)) return true;
  return channel.permissionsFor(member).has(need);
}

/** A moderator clicked Dismiss / Delete / Timeout on an alert. */
export async function handleButton(interaction: ButtonInteraction, deps: ButtonDeps): Promise<void> {
  const parsed = parseButtonId(interaction.customId);
  if (!parsed) return;
  const { action, flagId } = parsed;
  const need = NEEDS[capabilityFor(action)];
  if (!interaction.inGuild()) return;
  const capabilities = new Set<ModCapability>(
    allowed(interaction, action, flagId) ? [capabilityFor(action)] : [],
  );
  const verdict = authoriseModAction(await deps.store.getFlag(flagId), action, {
    platform: 'discord',
    workspaceId: interaction.guildId,
    capabilities,
  });
  if (!verdict.ok) {
    const content =
      verdict.refusal === 'not_permitted'
        ? `You need the **${need.name}** permission to do that.`
        : verdict.message;
    deps.log.warn({ flagId, action, refusal: verdict.refusal }, 'moderator action refused');
    await interaction.reply({ content, flags: MessageFlags.Ephemeral });
    return;
  }
  await interaction.deferUpdate();
  const actor = interaction.user;
  try {
    const note = await act(interaction, deps, action, flagId);
    await deps.store.updateFlag(flagId, {
      status: verdict.status,
      actorId: actor.id,
      actorName: actor.username,
      action,
      ...(note ? { note } : {}),
    });
    deps.log.info({ flagId, action, actorId: actor.id }, 'moderator action');
    await interaction.editReply(updatedAlert(interaction, flagId, action, actor.id));
    if (action !== 'dismiss' && note !== 'already gone') {
      await deps
        .notice?.(flagId, action)
        .catch((error) =>
          deps.log.warn(
            { flagId, err: scrub((error as Error).message, deps.token) },
            'could not tell the member',
          ),
        );
    }
  } catch (error) {
    // The click was acknowledged already; tell the moderator privately why nothing (more) happened.
    const reason = scrub((error as Error).message, deps.token);
    deps.log.warn({ flagId, action, err: reason }, 'moderator action failed');
    await interaction.followUp({ content: `Could not do that: ${reason}`, flags: MessageFlags.Ephemeral });
  }
}

/** Performs the moderator's action on Discord; returns a note for the flag log. */
async function act(
  interaction: ButtonInteraction<'cached' | 'raw'>,
  deps: ButtonDeps,
  action: ModAction,
  flagId: string,
): Promise<string | undefined> {
  const actor = interaction.user;
  if (action === 'delete') {
    const target = targetOf(interaction, flagId);
    if (!target) throw new Error('the alert does not say which message it is about');
    try {
      await deps.rest.delete(Routes.channelMessage(target.channelId, target.messageId), {
        reason: `Steward: deleted by ${actor.username} (${flagId})`,
      });
    } catch (error) {
      if (!isGone(error)) throw error;
      return 'already gone';
    }
    return undefined;
  }
  if (action === 'timeout') {
    const flag = await deps.store.getFlag(flagId);
    const authorId =
      flag?.authorId ?? interaction.message.embeds[0]?.fields?.[0]?.value.match(/<@(\d+)>/)?.[1];
    if (!authorId) throw new Error('the alert does not say who wrote the message');
    const until = new Date(Date.now() + deps.timeoutMs).toISOString();
    await deps.rest.patch(Routes.guildMember(interaction.guildId, authorId), {
      body: { communication_disabled_until: until },
      reason: `Steward: timed out by ${actor.username} (${flagId})`,
    });
    return `until ${until}`;
  }
  return undefined;
}

/** The alert after an action: a line saying who did it; settled alerts lose their buttons' use. */
function updatedAlert(interaction: ButtonInteraction, flagId: string, action: ModAction, actorId: string) {
  const previous = (interaction.message.embeds[0]?.toJSON() ?? {}) as APIEmbed;
  const rows = interaction.message.components.map((row) => row.toJSON());
  return alertAfterAction(previous, rows, flagId, action, settles(action), `<@${actorId}>`);
}
