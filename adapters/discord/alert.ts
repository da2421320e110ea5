import {
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIEmbed,
  ButtonStyle,
  ComponentType,
  escapeMarkdown,
} from 'discord.js';
import { type AlertAction, scoreShown } from '../../src/domain/action.ts';
import type { MessageRef } from '../../src/domain/message.ts';
import { PLATFORM_ACTIONS, type ModAction } from '../../src/domain/moderation-actions.ts';

export type { ModAction };
const MOD_ACTIONS = PLATFORM_ACTIONS.discord;
const PREFIX = 'steward';
const RED = 0xd83c3e;
const GREY = 0x808080;

/** Custom id of an alert button: `steward:<action>:<flag id>` (Discord allows 100 characters). */
export function buttonId(action: ModAction, flagId: string): string {
  const id = `${PREFIX}:${action}:${flagId}`;
  if (id.length > 100) throw new RangeError(`flag id too long for a button custom id: ${flagId}`);
  return id;
}

export function parseButtonId(customId: string): { action: ModAction; flagId: string } | null {
  const [prefix, action, ...rest] = customId.split(':');
  if (prefix !== PREFIX || !MOD_ACTIONS.includes(action as ModAction) || rest.length === 0) return null;
  return { action: action as ModAction, flagId: rest.join(':') };
}

/** Link that opens the message in Discord; threads are channels in Discord URLs. */
export function jumpLink(target: MessageRef): string {
  return `https://discord.com/channels/${target.workspaceId}/${target.threadId ?? target.channelId}/${target.messageId}`;
}

/** Channel and message ids back from a jump link (the alert embed's URL), so buttons find the message. */
export function parseJumpLink(
  url: string | null | undefined,
): { channelId: string; messageId: string } | null {
  const match = /\/channels\/\d+\/(\d+)\/(\d+)$/.exec(url ?? '');
  return match ? { channelId: match[1]!, messageId: match[2]! } : null;
}

const BUTTONS: Array<{ action: ModAction; label: string; style: ButtonStyle }> = [
  { action: 'dismiss', label: 'Dismiss', style: ButtonStyle.Secondary },
  { action: 'delete', label: 'Delete message', style: ButtonStyle.Danger },
  { action: 'timeout', label: 'Timeout (10 min)', style: ButtonStyle.Primary },
];

/** The button row; `disabled` lists the actions that can no longer be taken. */
export function alertButtons(
  flagId: string,
  disabled: ReadonlySet<ModAction> = new Set(),
): APIActionRowComponent<APIButtonComponent> {
  return {
    type: ComponentType.ActionRow,
    components: BUTTONS.map(({ action, label, style }) => ({
      type: ComponentType.Button,
      custom_id: buttonId(action, flagId),
      label,
      style,
      disabled: disabled.has(action),
    })) as APIButtonComponent[],
  };
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The moderator alert: who, where, a jump link, every label's score, the words that drove the flag, the excerpt. */
export function alertEmbed(action: AlertAction): APIEmbed {
  const target = action.target;
  const scores = Object.entries(action.scores)
    .sort(([, a], [, b]) => b - a)
    .map(([label, score]) => {
      const line = `${label}: ${scoreShown(score, action.ruleLabels?.includes(label))}`;
      return action.flagged.includes(label) ? `**${line}**` : line;
    });
  const words = action.flagged.map((label) => {
    const list = action.reasons[label] ?? [];
    return `${label}: ${list.length > 0 ? list.map((w) => `\`${w.replaceAll('`', "'")}\``).join(', ') : '—'}`;
  });
  const fields = [
    {
      name: 'Author',
      value: `<@${action.author.id}> (${clip(escapeMarkdown(action.author.name), 200)})`,
      inline: true,
    },
    { name: 'Channel', value: `<#${target.threadId ?? target.channelId}>`, inline: true },
    { name: 'Message', value: `[Jump to message](${jumpLink(target)})`, inline: true },
    { name: 'Scores', value: clip(scores.join('\n') || '—', 1024) },
    { name: 'Why', value: clip(words.join('\n') || '—', 1024) },
  ];
  if (action.autoHidden)
    fields.push({ name: 'Auto-hidden', value: 'The message was removed (auto-hide mode).' });
  return {
    title: clip(`Flagged: ${action.flagged.join(', ')}`, 256),
    url: jumpLink(target),
    color: RED,
    // A quote block keeps the flagged text visually apart; markdown is escaped so it cannot fake other fields.
    description: clip(`> ${escapeMarkdown(action.excerpt).replaceAll('\n', '\n> ')}`, 4000),
    fields,
    footer: { text: clip(action.flagId, 2048) },
    timestamp: new Date().toISOString(),
  };
}

/** The alert after a moderator acted: greyed when settled, with a line saying who did what. */
export function actedEmbed(embed: APIEmbed, line: string, settled: boolean): APIEmbed {
  const fields = [...(embed.fields ?? [])];
  const index = fields.findIndex((f) => f.name === 'Actions');
  const previous = index >= 0 ? `${fields[index]!.value}\n` : '';
  const actions = { name: 'Actions', value: clip(`${previous}${line}`, 1024) };
  if (index >= 0) fields[index] = actions;
  else fields.push(actions);
  return { ...embed, fields, ...(settled ? { color: GREY } : {}) };
}

const PAST: Record<ModAction, string> = {
  dismiss: 'Dismissed',
  delete: 'Deleted',
  timeout: 'Timed out (10 min)',
  warn: 'Warned',
};

/** The buttons already disabled in an alert's rows (raw API components), so later updates keep them so. */
function disabledIn(rows: readonly unknown[]): Set<ModAction> {
  const disabled = new Set<ModAction>();
  for (const row of rows as Array<{ components?: Array<{ custom_id?: string; disabled?: boolean }> }>) {
    for (const component of row.components ?? []) {
      const parsed = component.custom_id ? parseButtonId(component.custom_id) : null;
      if (parsed && component.disabled) disabled.add(parsed.action);
    }
  }
  return disabled;
}

/**
 * The alert after an action, from its current embed and rows (raw API shapes): a line saying who did what, and
 * the buttons that can no longer be used disabled. The chat buttons and the dashboard's updates both use it.
 */
export function alertAfterAction(
  embed: APIEmbed,
  rows: readonly unknown[],
  flagId: string,
  action: ModAction,
  settled: boolean,
  who: string,
  at = Date.now(),
) {
  const disabled = disabledIn(rows);
  for (const a of settled ? MOD_ACTIONS : ['timeout' as const]) disabled.add(a);
  return {
    embeds: [actedEmbed(embed, `${PAST[action]} by ${who} <t:${Math.floor(at / 1000)}:R>`, settled)],
    components: [alertButtons(flagId, disabled)],
  };
}
