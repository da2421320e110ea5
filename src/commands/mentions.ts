import { UserError } from '../errors.ts';
import type { Target } from './types.ts';

// Platform mention syntaxes, as they arrive in command text:
//   Discord  <#123> channel, <@&456> role, <@789> / <@!789> member
//   Slack    <#C123|name> or <#C123> channel, <!subteam^S123|@name> user group, <@U123|name> member
//   typed    #name / @name (local terminal, or Slack without escaping)
const DISCORD_CHANNEL = /^<#(\d+)>$/;
const DISCORD_ROLE = /^<@&(\d+)>$/;
const SLACK_CHANNEL = /^<#([A-Z0-9]+)(?:\|[^>]*)?>$/;
const SLACK_GROUP = /^<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>$/;
const MEMBER = /^<@!?([\w]+)(?:\|[^>]*)?>$/;
const TYPED = /^([#@])([\p{L}\p{N}_.-]+)$/u;
// A bare Slack channel id (public C…, private G…) is unambiguous; a bare Discord snowflake is not.
const SLACK_CHANNEL_ID = /^[CG][A-Z0-9]{6,}$/;
const BARE_ID = /^[\w-]{1,100}$/;

/** Channel or role named by a mention, or null when the text is no mention at all. */
export function mentionTarget(raw: string): Target | null {
  const text = raw.trim();
  const channel = DISCORD_CHANNEL.exec(text) ?? SLACK_CHANNEL.exec(text);
  if (channel) return { type: 'channel', id: channel[1]! };
  const role = DISCORD_ROLE.exec(text) ?? SLACK_GROUP.exec(text);
  if (role) return { type: 'role', id: role[1]! };
  const typed = TYPED.exec(text);
  if (typed) return { type: typed[1] === '#' ? 'channel' : 'role', id: typed[2]! };
  if (SLACK_CHANNEL_ID.test(text)) return { type: 'channel', id: text };
  return null;
}

/** A channel given as a mention or a bare id. */
export function parseChannel(raw: string, usage: string): string {
  const text = raw.trim();
  const target = mentionTarget(text);
  if (target?.type === 'channel') return target.id;
  if (target?.type === 'role') throw new UserError(`${text} is a role, not a channel.`, `Type \`${usage}\`.`);
  if (MEMBER.test(text)) throw new UserError(`${text} is a member, not a channel.`, `Type \`${usage}\`.`);
  if (BARE_ID.test(text)) return text;
  throw new UserError(`"${text}" is not a channel.`, `Type \`${usage}\`, e.g. #moderators.`);
}

/** A channel or a role for exemptions; a bare id is refused because it could be either. */
export function parseTarget(raw: string, usage: string): Target {
  const text = raw.trim();
  const target = mentionTarget(text);
  if (target) return target;
  if (MEMBER.test(text)) {
    throw new UserError(`${text} is a member; exemptions apply to channels and roles.`, `Type \`${usage}\`.`);
  }
  throw new UserError(
    `"${text}" is neither a #channel nor an @role.`,
    `Type \`${usage}\`, e.g. #off-topic or @mods.`,
  );
}

/** How a target is shown back to the user on its platform. */
export function showTarget(target: Target, platform: string): string {
  if (platform === 'discord') return target.type === 'channel' ? `<#${target.id}>` : `<@&${target.id}>`;
  if (platform === 'slack') return target.type === 'channel' ? `<#${target.id}>` : `<!subteam^${target.id}>`;
  return `${target.type === 'channel' ? '#' : '@'}${target.id}`;
}
