import {
  type APIEmbed,
  type ChatInputCommandInteraction,
  type CommandInteractionOption,
  MessageFlags,
  PermissionFlagsBits,
  type REST,
} from 'discord.js';
import { executeCommand } from '../../src/commands/run.ts';
import { specOf } from '../../src/commands/spec.ts';
import type {
  AutoModSync,
  CommandReply,
  MemberJobs,
  StatusInfo,
  StructuredCommand,
} from '../../src/commands/types.ts';
import { UserError } from '../../src/errors.ts';
import type { Logger } from '../../src/logger.ts';
import type { Store } from '../../src/store/types.ts';
import { discordAutoMod } from './automod.ts';
import { COMMAND_NAME } from './commands.ts';
import { logText } from './errors.ts';

export interface SlashDeps {
  store: Store;
  /** The queue, so forget-me reaches the finished jobs that hold a member's messages. */
  jobs: MemberJobs;
  /** For `rules sync` (Discord AutoMod). */
  rest: REST;
  status: () => Promise<StatusInfo>;
  labels?: readonly string[] | undefined;
  token: string;
  log: Logger;
}

/** `/steward [group] sub option:value…` as the shared command core expects it. */
export function structuredOf(interaction: ChatInputCommandInteraction): StructuredCommand {
  let group: string | null = null;
  let sub = '';
  let leaves: readonly CommandInteractionOption[] = interaction.options.data;
  const first = leaves[0];
  if (first?.options && first.type === 2) {
    group = first.name;
    leaves = first.options;
  }
  const leaf = leaves[0];
  if (leaf && leaf.type === 1) {
    sub = leaf.name;
    leaves = leaf.options ?? [];
  }
  const options: StructuredCommand['options'] = {};
  // Channel and role options arrive as ids; the command core takes ids (or mentions) alike.
  for (const option of leaves) options[option.name] = option.value as string | number | boolean | undefined;
  return { group, sub, options };
}

/** A command reply as an ephemeral Discord message: plain content, or an embed when it has a title or fields. */
export function renderReply(reply: CommandReply): { content: string; embeds: APIEmbed[] } {
  if (!reply.title && !reply.fields?.length) {
    return { content: reply.text.length > 2000 ? `${reply.text.slice(0, 1999)}…` : reply.text, embeds: [] };
  }
  const embed: APIEmbed = {
    ...(reply.title ? { title: reply.title.slice(0, 256) } : {}),
    description: reply.text.slice(0, 4096),
    fields: (reply.fields ?? []).slice(0, 25).map((f) => ({
      name: f.name.slice(0, 256) || '—',
      value: f.value.slice(0, 1024) || '—',
    })),
  };
  return { content: '', embeds: [embed] };
}

/**
 * Runs a slash command. Refusals are answered at once (no I/O before them); anything that touches the store is
 * deferred first, so the 3-second acknowledgement deadline holds however slow Redis or the queue is.
 */
export async function handleSlash(interaction: ChatInputCommandInteraction, deps: SlashDeps): Promise<void> {
  if (interaction.commandName !== COMMAND_NAME) return;
  const ephemeral = { flags: MessageFlags.Ephemeral } as const;
  if (!interaction.inGuild()) {
    await interaction.reply({ content: 'Use /steward in a server.', ...ephemeral });
    return;
  }
  const command = structuredOf(interaction);
  const isAdmin = interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false;
  const ctx = {
    platform: 'discord' as const,
    workspaceId: interaction.guildId,
    actor: { id: interaction.user.id, name: interaction.user.username, isAdmin },
    store: deps.store,
    jobs: deps.jobs,
    status: deps.status,
    ...(deps.labels ? { labels: deps.labels } : {}),
    automod: lazyAutoMod(deps, interaction.guildId),
  };
  const spec = specOf(command.group ?? null, command.sub);
  if (spec?.adminOnly && !isAdmin) {
    // executeCommand refuses before any I/O, with the shared wording.
    const reply = await executeCommand(command, ctx);
    await interaction.reply({ ...renderReply(reply), ...ephemeral });
    return;
  }
  await interaction.deferReply(ephemeral);
  try {
    const reply = await executeCommand(command, ctx);
    await interaction.editReply(renderReply(reply));
  } catch (error) {
    if (error instanceof UserError) {
      await interaction.editReply({ content: [error.message, error.hint].filter(Boolean).join(' ') });
      return;
    }
    deps.log.error({ err: logText(error, deps.token), command }, 'slash command failed');
    await interaction.editReply({
      content: 'Something went wrong; the error was logged. Try again in a moment.',
    });
  }
}

/** AutoMod sync for this server; the moderation channel (for AutoMod's own alerts) is read only when it runs. */
function lazyAutoMod(deps: SlashDeps, guildId: string): AutoModSync {
  return {
    async sync(keywords, allowed) {
      const settings = await deps.store.getSettings('discord', guildId);
      return discordAutoMod(deps.rest, guildId, settings.moderationChannelId).sync(keywords, allowed);
    },
  };
}
