import { randomBytes } from 'node:crypto';
import type { InteractionRecord } from './interactions.ts';
import type { DiscordEmulator } from './server.ts';
import { type EmuUser, type RawMessage, snowflake } from './state.ts';

/** Gateway events a test pushes at the bot, shaped like Discord's. */

export interface SayInput {
  channelId: string;
  author: EmuUser;
  content: string;
  replyTo?: string;
  /** User ids mentioned; put `<@id>` in the content as well, as Discord clients do. */
  mentions?: string[];
  /** Role ids mentioned (`<@&id>` in the content). */
  mentionRoles?: string[];
}

/** A user posts a message: it is stored (so GET and DELETE work) and dispatched as MESSAGE_CREATE. */
export function say(emulator: DiscordEmulator, input: SayInput): RawMessage {
  const message = emulator.state.storeMessage(input);
  // The gateway adds channel_type; discord.js needs it to build a DM channel it has not seen yet.
  const channelType = emulator.state.channels.get(input.channelId)?.type ?? 0;
  emulator.gateway.dispatch('MESSAGE_CREATE', { ...message, channel_type: channelType });
  return message;
}

const OPTION_TYPES = { string: 3, number: 10, channel: 7, role: 8 } as const;

export interface SlashInput {
  user: EmuUser;
  channelId: string;
  group?: string;
  sub: string;
  options?: Array<{ name: string; type: keyof typeof OPTION_TYPES; value: string | number }>;
}

/** A user runs `/steward [group] sub option:value…`. */
export function slash(emulator: DiscordEmulator, input: SlashInput): InteractionRecord {
  const { state } = emulator;
  const options = (input.options ?? []).map((o) => ({
    name: o.name,
    type: OPTION_TYPES[o.type],
    value: o.value,
  }));
  const leaf = { name: input.sub, type: 1, options };
  const resolved: Record<string, Record<string, unknown>> = {};
  for (const option of input.options ?? []) {
    if (option.type === 'channel') {
      const channel = state.channels.get(String(option.value));
      resolved.channels ??= {};
      resolved.channels[String(option.value)] = {
        ...(channel ? state.channelPayload(channel) : { id: option.value, type: 0, name: 'unknown' }),
        permissions: '0',
      };
    }
    if (option.type === 'role') {
      resolved.roles ??= {};
      resolved.roles[String(option.value)] = {
        id: option.value,
        name: 'role',
        permissions: '0',
        position: 1,
        color: 0,
      };
    }
  }
  const command = [...state.commands.values()].find((c) => c.name === 'steward');
  const data = {
    id: (command?.id as string | undefined) ?? snowflake(),
    name: 'steward',
    type: 1,
    options: input.group ? [{ name: input.group, type: 2, options: [leaf] }] : [leaf],
    ...(Object.keys(resolved).length > 0 ? { resolved } : {}),
  };
  return pushInteraction(emulator, { type: 2, user: input.user, channelId: input.channelId, data });
}

export interface ClickInput {
  user: EmuUser;
  /** The message the button sits on (an alert the bot posted). */
  messageId: string;
  customId: string;
}

/** A user clicks a button on a message. */
export function click(emulator: DiscordEmulator, input: ClickInput): InteractionRecord {
  const message = emulator.state.messages.get(input.messageId);
  if (!message) throw new Error(`emulator: no message ${input.messageId} to click on`);
  return pushInteraction(emulator, {
    type: 3,
    user: input.user,
    channelId: message.channel_id,
    data: { custom_id: input.customId, component_type: 2 },
    message,
  });
}

export interface ModalSubmitInput {
  user: EmuUser;
  /** Where the modal was opened (the DM or channel of the button that opened it). */
  channelId: string;
  customId: string;
  /** Text input values by custom id. */
  fields: Record<string, string>;
}

/** A user submits a modal the bot showed (MODAL_SUBMIT, with the text inputs in action rows). */
export function submitModal(emulator: DiscordEmulator, input: ModalSubmitInput): InteractionRecord {
  const components = Object.entries(input.fields).map(([custom_id, value]) => ({
    type: 1,
    components: [{ type: 4, custom_id, value }],
  }));
  return pushInteraction(emulator, {
    type: 5,
    user: input.user,
    channelId: input.channelId,
    data: { custom_id: input.customId, components },
  });
}

function pushInteraction(
  emulator: DiscordEmulator,
  input: {
    type: number;
    user: EmuUser;
    channelId: string;
    data: Record<string, unknown>;
    message?: RawMessage;
  },
): InteractionRecord {
  const { state } = emulator;
  const channel = state.channels.get(input.channelId);
  const guildId = channel?.guildId;
  const member = guildId ? state.member(guildId, input.user.id) : undefined;
  const record: InteractionRecord = {
    id: snowflake(),
    token: `itok_${randomBytes(24).toString('hex')}`,
    type: input.type,
    channelId: input.channelId,
    ...(guildId ? { guildId } : {}),
    ...(input.message ? { messageId: input.message.id } : {}),
    createdAt: Date.now(),
    callbacks: [],
    followups: [],
  };
  emulator.rest.interactions.records.set(record.id, record);
  emulator.gateway.dispatch('INTERACTION_CREATE', {
    id: record.id,
    application_id: state.applicationId,
    type: input.type,
    data: input.data,
    token: record.token,
    version: 1,
    channel_id: input.channelId,
    channel: channel ? state.channelPayload(channel) : { id: input.channelId, type: 1 },
    ...(guildId && member
      ? {
          guild_id: guildId,
          guild: { id: guildId, locale: 'en-US', features: [] },
          member: state.memberPayload(guildId, member, true, input.channelId),
          guild_locale: 'en-US',
          context: 0,
          authorizing_integration_owners: { 0: guildId },
        }
      : { user: state.userPayload(input.user), context: 1, authorizing_integration_owners: {} }),
    app_permissions: state.permissionsIn(guildId ?? '', state.botUser.id, input.channelId).toString(),
    locale: 'en-US',
    entitlements: [],
    attachment_size_limit: 10_485_760,
    ...(input.message ? { message: input.message } : {}),
  });
  return record;
}
