import { type AlertAction, scoreShown } from '../../src/domain/action.ts';
import { escapeMrkdwn } from './text.ts';

/** action_id of each alert button; the value of every button is the flag id. */
export const ALERT_BUTTONS = Object.freeze({
  dismiss: 'steward_dismiss',
  delete: 'steward_delete',
  warn: 'steward_warn',
});
export type AlertButton = keyof typeof ALERT_BUTTONS;
export const ALERT_ACTIONS_BLOCK = 'steward-alert-actions';

export function buttonOf(actionId: string): AlertButton | undefined {
  return (Object.keys(ALERT_BUTTONS) as AlertButton[]).find((k) => ALERT_BUTTONS[k] === actionId);
}

/** Block Kit section text is capped at 3,000 characters. */
const SECTION_MAX = 2_900;
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export type Block = Record<string, unknown>;
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });

/** Plain-text fallback of an alert (notifications, screen readers). */
export function alertFallback(action: AlertAction): string {
  return `Steward flagged a message by ${escapeMrkdwn(action.author.name)} in <#${action.target.channelId}>: ${escapeMrkdwn(action.flagged.join(', '))}`;
}

/**
 * A moderator alert: who, where, a link, the score per label, the words that drove each flag and the excerpt,
 * then Dismiss / Delete message / Warn user. Slack has no timeout for regular members, so the third button warns
 * the author by DM instead.
 */
export function alertBlocks(action: AlertAction, permalink: string | null): Block[] {
  const ref = action.target;
  const scores = Object.entries(action.scores)
    .sort(([, a], [, b]) => b - a)
    .map(
      ([label, score]) =>
        `${action.flagged.includes(label) ? '*' : ''}${label}${action.flagged.includes(label) ? '*' : ''} ${scoreShown(score, action.ruleLabels?.includes(label))}`,
    )
    .join(' · ');
  const why = action.flagged
    .map((label) => {
      const words = action.reasons[label] ?? [];
      const shown =
        words.length > 0
          ? words
              .slice(0, 8)
              .map((w) => `\`${escapeMrkdwn(w.replaceAll('`', "'"))}\``)
              .join(', ')
          : '_no single words stood out_';
      return `• *${label}*: ${shown}`;
    })
    .join('\n');
  const excerpt = escapeMrkdwn(action.excerpt)
    .split('\n')
    .map((line) => `>${line}`)
    .join('\n');
  const buttons: Block[] = [
    button('Dismiss', ALERT_BUTTONS.dismiss, action.flagId),
    // Kept in auto-hide mode too: if the hide failed (token scope), a moderator can retry once it is fixed.
    deleteButton(action.flagId),
    button('Warn user', ALERT_BUTTONS.warn, action.flagId),
  ];
  return [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: action.autoHidden ? 'Flagged and hidden message' : 'Flagged message',
      },
    },
    {
      type: 'section',
      fields: [
        mrkdwn(`*Author*\n<@${action.author.id}>`),
        mrkdwn(`*Channel*\n<#${ref.channelId}>`),
        mrkdwn(`*Flagged for*\n${escapeMrkdwn(action.flagged.join(', '))}`),
        mrkdwn(`*Message*\n${permalink ? `<${permalink}|Open in Slack>` : 'link unavailable'}`),
      ],
    },
    { type: 'section', text: mrkdwn(clip(`*Scores*\n${scores}`, SECTION_MAX)) },
    { type: 'section', text: mrkdwn(clip(`*Why*\n${why}`, SECTION_MAX)) },
    { type: 'section', text: mrkdwn(clip(`*Excerpt*\n${excerpt}`, SECTION_MAX)) },
    { type: 'actions', block_id: ALERT_ACTIONS_BLOCK, elements: buttons },
    {
      type: 'context',
      elements: [
        mrkdwn(
          `flag \`${clip(action.flagId, 200)}\`${action.autoHidden ? ' · hidden automatically (auto-hide mode)' : ''}`,
        ),
      ],
    },
  ];
}

function button(text: string, actionId: string, value: string): Block {
  return {
    type: 'button',
    text: { type: 'plain_text', text },
    action_id: actionId,
    value: clip(value, 2_000),
  };
}

function deleteButton(flagId: string): Block {
  return {
    ...button('Delete message', ALERT_BUTTONS.delete, flagId),
    style: 'danger',
    confirm: {
      title: { type: 'plain_text', text: 'Delete this message?' },
      text: { type: 'plain_text', text: 'The member’s message is removed from the channel for everyone.' },
      confirm: { type: 'plain_text', text: 'Delete' },
      deny: { type: 'plain_text', text: 'Cancel' },
    },
  };
}

/**
 * The alert after a moderator acted (or an action failed): the buttons go when the flag is settled, and a
 * context line says who did what, so the channel shows the outcome to every moderator.
 */
export function resolvedBlocks(original: readonly Block[], note: string, settled: boolean): Block[] {
  const kept = settled ? original.filter((b) => b.type !== 'actions') : [...original];
  return [...kept, { type: 'context', elements: [mrkdwn(clip(note, SECTION_MAX))] }];
}
