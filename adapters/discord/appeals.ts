import {
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIEmbed,
  ButtonStyle,
  ComponentType,
  DiscordAPIError,
  escapeMarkdown,
  type REST,
  Routes,
} from 'discord.js';
import type { AppealDecision } from '../../src/domain/moderation-actions.ts';
import type { FlagRecord } from '../../src/store/types.ts';

/**
 * Appeals on Discord, the platform side: the private notice with an Appeal button, the modal for the member's
 * note, the post in the moderators' channel with Uphold / Reverse, and what a decision does (lift a timeout, tell
 * the member). The rules (who may appeal or decide) are in src/domain/moderation-actions.ts.
 */
const PREFIX = 'steward';
export type AppealControl = 'appeal' | 'appeal-note' | 'appeal-uphold' | 'appeal-reverse';
const CONTROLS: readonly AppealControl[] = ['appeal', 'appeal-note', 'appeal-uphold', 'appeal-reverse'];

/** Custom id of an appeal button or modal: `steward:<control>:<flag id>` (100 characters at most). */
export function appealId(control: AppealControl, flagId: string): string {
  const id = `${PREFIX}:${control}:${flagId}`;
  if (id.length > 100) throw new RangeError(`flag id too long for a custom id: ${flagId}`);
  return id;
}

export function parseAppealId(customId: string): { control: AppealControl; flagId: string } | null {
  const [prefix, control, ...rest] = customId.split(':');
  if (prefix !== PREFIX || !CONTROLS.includes(control as AppealControl) || rest.length === 0) return null;
  return { control: control as AppealControl, flagId: rest.join(':') };
}

/** The text input of the appeal modal. */
export const NOTE_INPUT = 'note';
/** Discord: "Cannot send messages to this user" (DMs closed, or no shared server any more). */
const CANNOT_DM = 50007;

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** What the member is told was done; `did` is the flag-history action. */
function noticeText(flag: Pick<FlagRecord, 'channelId' | 'excerpt'>, did: string): string {
  const where = `<#${flag.channelId}>`;
  const what =
    did === 'timeout'
      ? `A moderator timed you out for 10 minutes because of your message in ${where}.`
      : did === 'auto-hide'
        ? `Steward removed your message in ${where} automatically: it looked against the community guidelines.`
        : `A moderator removed your message in ${where}.`;
  const quote = `> ${escapeMarkdown(clip(flag.excerpt, 300)).replaceAll('\n', '\n> ')}`;
  return `${what}\n${quote}\nIf you think this was a mistake, press **Appeal** and tell the moderators why (once per message).`;
}

function appealRow(flagId: string, disabled = false): APIActionRowComponent<APIButtonComponent> {
  return {
    type: ComponentType.ActionRow,
    components: [
      {
        type: ComponentType.Button,
        custom_id: appealId('appeal', flagId),
        label: 'Appeal',
        style: ButtonStyle.Secondary,
        disabled,
      },
    ],
  };
}

/** Opens (or finds) the DM with a member and posts there; a member who cannot be DMed is not an error. */
export async function postToMember(
  rest: REST,
  userId: string,
  body: Record<string, unknown>,
): Promise<string> {
  try {
    const dm = (await rest.post(Routes.userChannels(), { body: { recipient_id: userId } })) as { id: string };
    const sent = (await rest.post(Routes.channelMessages(dm.id), {
      body: { allowed_mentions: { parse: [] }, ...body },
    })) as { id: string };
    return `${dm.id}/${sent.id}`;
  } catch (error) {
    if (error instanceof DiscordAPIError && error.code === CANNOT_DM) return 'member cannot be sent DMs';
    throw error;
  }
}

/** The private notice after an action on a member's message, with the Appeal button. */
export function noticeBody(flag: Pick<FlagRecord, 'id' | 'channelId' | 'excerpt'>, did: string) {
  return { content: noticeText(flag, did), components: [appealRow(flag.id)] };
}

/** The modal the Appeal button opens (interaction callback type 9). */
export function appealModal(flagId: string) {
  return {
    custom_id: appealId('appeal-note', flagId),
    title: 'Appeal to the moderators',
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.TextInput,
            custom_id: NOTE_INPUT,
            label: 'Why was this a mistake?',
            style: 2, // paragraph
            min_length: 1,
            max_length: 1000,
            required: true,
          },
        ],
      },
    ],
  };
}

function decisionRow(flagId: string, disabled: boolean): APIActionRowComponent<APIButtonComponent> {
  return {
    type: ComponentType.ActionRow,
    components: [
      {
        type: ComponentType.Button,
        custom_id: appealId('appeal-uphold', flagId),
        label: 'Uphold',
        style: ButtonStyle.Secondary,
        disabled,
      },
      {
        type: ComponentType.Button,
        custom_id: appealId('appeal-reverse', flagId),
        label: 'Reverse',
        style: ButtonStyle.Danger,
        disabled,
      },
    ],
  };
}

/** The appeal as moderators see it: the flag, what was done, the member's note, and Uphold / Reverse. */
export function appealPost(flag: FlagRecord, actions: readonly string[]) {
  const note = flag.appeal?.note ?? '';
  const embed: APIEmbed = {
    title: clip(`Appeal: ${flag.flagged.join(', ')}`, 256),
    color: 0xe6a23c,
    description: clip(`> ${escapeMarkdown(flag.excerpt).replaceAll('\n', '\n> ')}`, 2000),
    fields: [
      {
        name: 'Member',
        value: `<@${flag.authorId}> (${clip(escapeMarkdown(flag.authorName), 200)})`,
        inline: true,
      },
      { name: 'Channel', value: `<#${flag.channelId}>`, inline: true },
      { name: 'Appealed', value: actions.join(', ') || '—', inline: true },
      { name: 'Their note', value: clip(escapeMarkdown(note) || '—', 1024) },
    ],
    footer: { text: clip(flag.id, 2048) },
  };
  return { embeds: [embed], components: [decisionRow(flag.id, false)], allowed_mentions: { parse: [] } };
}

/** The appeal post once decided: who decided what, when; the buttons are disabled. `who` is markdown. */
export function decidedPost(previous: APIEmbed, flagId: string, decision: AppealDecision, who: string) {
  const verb = decision === 'reverse' ? 'Reversed' : 'Upheld';
  const line = `${verb} by ${who} <t:${Math.floor(Date.now() / 1000)}:R>`;
  const fields = [
    ...(previous.fields ?? []).filter((f) => f.name !== 'Decision'),
    { name: 'Decision', value: line },
  ];
  return {
    embeds: [{ ...previous, fields, color: decision === 'reverse' ? 0x2e9d5b : 0x808080 }],
    components: [decisionRow(flagId, true)],
  };
}

/** What the member is told about the decision. */
export function decisionText(
  flag: Pick<FlagRecord, 'channelId'>,
  decision: AppealDecision,
  liftedTimeout: boolean,
) {
  return decision === 'reverse'
    ? `The moderators reviewed your appeal about your message in <#${flag.channelId}> and reversed their decision${liftedTimeout ? ': your timeout is lifted' : ''}. Sorry for the trouble.`
    : `The moderators reviewed your appeal about your message in <#${flag.channelId}> and upheld their decision.`;
}

/** Whether reversing this flag's appeal must lift a timeout (a timeout is in its history). */
export function timedOut(flag: Pick<FlagRecord, 'history'>): boolean {
  return flag.history.some((h) => h.action === 'timeout');
}

/** Removes a member's communication timeout (Discord's way to undo one). */
export async function liftTimeout(
  rest: REST,
  guildId: string,
  userId: string,
  reason: string,
): Promise<void> {
  await rest.patch(Routes.guildMember(guildId, userId), {
    body: { communication_disabled_until: null },
    reason,
  });
}
