import {
  ApplicationCommandOptionType as T,
  ApplicationCommandType,
  ChannelType,
  InteractionContextType,
  type REST,
  Routes,
} from 'discord.js';
import { COMMAND_SPECS, type OptionSpec } from '../../src/commands/spec.ts';
import type { Logger } from '../../src/logger.ts';

export const COMMAND_NAME = 'steward';

const GROUP_DESCRIPTIONS: Record<string, string> = {
  topics: 'Topics the bot talks about',
  config: 'How Steward behaves in this server',
  rules: 'Moderation rules: phrases and patterns with a label',
};

const OPTION_TYPES: Record<OptionSpec['type'], T> = {
  string: T.String,
  number: T.Number,
  channel: T.Channel,
  role: T.Role,
};

/** Loosely typed command JSON: what we send and what Discord returns (with extra fields) share this shape. */
type Json = Record<string, unknown>;

const desc = (text: string) => (text.length > 100 ? `${text.slice(0, 99)}…` : text);

function option(spec: OptionSpec): Json {
  return {
    type: OPTION_TYPES[spec.type],
    name: spec.name,
    description: desc(spec.description),
    required: spec.required,
    ...(spec.choices ? { choices: spec.choices.map((c) => ({ name: c, value: c })) } : {}),
    ...(spec.min !== undefined ? { min_value: spec.min } : {}),
    ...(spec.max !== undefined ? { max_value: spec.max } : {}),
    ...(spec.type === 'channel'
      ? { channel_types: [ChannelType.GuildText, ChannelType.GuildAnnouncement, ChannelType.PublicThread] }
      : {}),
  };
}

/**
 * `/steward`, derived from the shared command specs: `topics` and `config` groups plus top-level subcommands.
 * No default_member_permissions: `topics list` and `help` are for everyone; admin subcommands check Manage Server.
 */
export function stewardCommand(): Json {
  const options: Json[] = [];
  for (const spec of COMMAND_SPECS) {
    const sub = {
      type: T.Subcommand,
      name: spec.sub,
      description: desc(spec.description),
      // Discord requires required options before optional ones.
      options: [...spec.options].sort((a, b) => Number(b.required) - Number(a.required)).map(option),
    };
    if (spec.group === null) {
      options.push(sub);
      continue;
    }
    let group = options.find((o) => o.type === T.SubcommandGroup && o.name === spec.group);
    if (!group) {
      group = {
        type: T.SubcommandGroup,
        name: spec.group,
        description: GROUP_DESCRIPTIONS[spec.group],
        options: [],
      };
      options.push(group);
    }
    (group.options as Json[]).push(sub);
  }
  return {
    type: ApplicationCommandType.ChatInput,
    name: COMMAND_NAME,
    description: 'Steward: topics, moderation settings and status',
    contexts: [InteractionContextType.Guild],
    options,
  };
}

/** The fields we control, with Discord's defaults filled in, so a live definition compares equal to ours. */
function canonicalOption(o: Json): Json {
  const choices = (o.choices as Json[] | undefined) ?? [];
  return {
    type: o.type,
    name: o.name,
    description: o.description,
    required: o.required ?? false,
    choices: choices.map((c) => ({ name: c.name, value: c.value })),
    min_value: o.min_value ?? null,
    max_value: o.max_value ?? null,
    channel_types: [...((o.channel_types as number[] | undefined) ?? [])].sort(),
    options: ((o.options as Json[] | undefined) ?? []).map(canonicalOption),
  };
}

export function canonicalCommand(command: Json): string {
  return JSON.stringify({
    type: command.type ?? ApplicationCommandType.ChatInput,
    name: command.name,
    description: command.description,
    default_member_permissions: command.default_member_permissions ?? null,
    contexts: command.contexts ?? null,
    nsfw: command.nsfw ?? false,
    options: ((command.options as Json[] | undefined) ?? []).map(canonicalOption),
  });
}

export type RegistrationResult = 'created' | 'updated' | 'unchanged';

/**
 * Registers /steward only when the live definition differs: registration counts against a daily limit and every
 * change makes clients refetch, so a restart with the same definition sends nothing but one GET.
 */
export async function registerCommands(
  rest: REST,
  applicationId: string,
  log: Logger,
): Promise<RegistrationResult> {
  const wanted = stewardCommand();
  const live = (await rest.get(Routes.applicationCommands(applicationId))) as Json[];
  const current = live.find((c) => c.name === COMMAND_NAME);
  if (current && canonicalCommand(current) === canonicalCommand(wanted)) {
    log.debug('slash command /steward is up to date');
    return 'unchanged';
  }
  // POST upserts by name: it creates the command or replaces the one with the same name, leaving others alone.
  await rest.post(Routes.applicationCommands(applicationId), { body: wanted });
  const result = current ? 'updated' : 'created';
  log.info({ result }, 'slash command /steward registered');
  return result;
}
