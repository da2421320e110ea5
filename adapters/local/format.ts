import { type Action, scoreShown } from '../../src/domain/action.ts';
import type { CommandReply } from '../../src/commands/types.ts';

const percent = (score: number) => `${Math.round(score * 100)}%`;

/** How one outbound action reads in the terminal chat: what a Discord user or moderator would see. */
export function formatAction(action: Action): string[] {
  switch (action.kind) {
    case 'react':
      return [`  ${action.emoji} ${action.sentiment}`];
    case 'reply':
      return [`steward: ${action.text}`];
    case 'alert': {
      const labels = action.flagged.map((label) => {
        const words = action.reasons[label] ?? [];
        const why = words.length > 0 ? ` — words: ${words.slice(0, 5).join(', ')}` : '';
        return `    ${label} ${scoreShown(action.scores[label], action.ruleLabels?.includes(label), percent)}${why}`;
      });
      return [
        `  ⚠ [#${action.moderationChannelId}] alert for moderators: ${action.author.name} in #${action.target.channelId}${action.autoHidden ? ' (auto-hidden)' : ''}`,
        `    "${oneLine(action.excerpt, 120)}"`,
        ...labels,
        `    buttons: dismiss · delete · timeout (flag ${action.flagId})`,
      ];
    }
    case 'hide':
      return ['  🙈 message hidden (auto-hide mode)'];
    case 'timeout':
      return [`  ⏸ ${action.userId} timed out by ${action.actorName} (flag ${action.flagId})`];
    case 'warn':
      return [`  ✉ ${action.userId} warned privately (flag ${action.flagId})`];
    case 'alert-update':
      return [`  ✎ alert updated: ${action.done} by ${action.actorName} (flag ${action.flagId})`];
    case 'appeal-decision':
      return [
        `  ⚖ appeal ${action.decision === 'reverse' ? 'reversed' : 'upheld'} by ${action.actorName} (flag ${action.flagId})`,
      ];
  }
}

/** A command reply, indented under the command that asked for it. */
export function formatCommandReply(reply: CommandReply): string[] {
  const lines = reply.text.split('\n').map((line) => `  ${line}`);
  return reply.ok ? lines : [`  ✗ ${reply.text.split('\n')[0]}`, ...lines.slice(1)];
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Lines addressed to the bot: "steward, …", "steward: …", "@steward …" (any case). */
const ADDRESS = /^\s*(?:@steward\b[,:]?|steward\s*[,:])\s*/i;

export function addressed(line: string): { mentionsBot: boolean; text: string } {
  const match = ADDRESS.exec(line);
  if (!match) return { mentionsBot: false, text: line.trim() };
  const rest = line.slice(match[0].length).trim();
  // "@steward" alone is still a mention; keep the line as the text so the message is never empty.
  return { mentionsBot: true, text: rest === '' ? line.trim() : rest };
}
