import type { WorkspaceSettings } from '../domain/settings.ts';
import { UserError } from '../errors.ts';
import { parseCommand } from './parse.ts';
import { runRulesCommand } from './rules.ts';
import { COMMAND_SPECS, specOf } from './spec.ts';
import { ok, renderFlags, renderHelp, renderSettings, renderStatus, renderTopics } from './render.ts';
import { showTarget } from './mentions.ts';
import type { Command, CommandContext, CommandReply, StructuredCommand, Target } from './types.ts';

const MAX_TOPICS = 50;

const refuse = (text: string): CommandReply => ({ ok: false, text, ephemeral: true });

/** A UserError becomes a private "what to type instead" refusal; anything else is rethrown. */
function refusal(error: unknown): CommandReply {
  if (error instanceof UserError)
    return refuse(error.hint ? `${error.message} ${error.hint}` : error.message);
  throw error;
}

/** Parses and runs a command; a UserError becomes a private "what to type instead" reply. */
export async function executeCommand(
  input: string | StructuredCommand,
  ctx: CommandContext,
): Promise<CommandReply> {
  let command: Command;
  try {
    command = parseCommand(input);
  } catch (error) {
    return refusal(error);
  }
  return runCommand(command, ctx);
}

/** Runs one parsed command for one actor; admin-only commands are refused for others, with nothing changed. */
export async function runCommand(command: Command, ctx: CommandContext): Promise<CommandReply> {
  try {
    return await run(command, ctx);
  } catch (error) {
    return refusal(error);
  }
}

async function run(command: Command, ctx: CommandContext): Promise<CommandReply> {
  const [group, sub] = command.kind.includes('.') ? command.kind.split('.') : [null, command.kind];
  const spec = specOf(group ?? null, sub!);
  if (spec?.adminOnly && !ctx.actor.isAdmin) {
    const who =
      ctx.platform === 'slack'
        ? 'workspace admins'
        : ctx.platform === 'discord'
          ? 'members with Manage Server'
          : 'admins';
    return refuse(`Only ${who} can use \`${spec.usage.split(' <')[0]}\`.`);
  }
  const update = (change: (s: WorkspaceSettings) => WorkspaceSettings) =>
    ctx.store.updateSettings(ctx.platform, ctx.workspaceId, change);

  switch (command.kind) {
    case 'help':
      return ok(renderHelp(COMMAND_SPECS, ctx.actor.isAdmin), { title: 'Steward commands' });
    case 'topics.list':
      return renderTopics(await ctx.store.getSettings(ctx.platform, ctx.workspaceId));
    case 'topics.add': {
      let existed = false;
      await update((s) => {
        existed = s.topics.some((t) => t.name === command.name);
        if (!existed && s.topics.length >= MAX_TOPICS) {
          throw new UserError(
            `This workspace already has ${MAX_TOPICS} topics.`,
            'Type `topics remove <name>` first.',
          );
        }
        const topic = { name: command.name, description: command.description };
        return {
          ...s,
          topics: existed ? s.topics.map((t) => (t.name === topic.name ? topic : t)) : [...s.topics, topic],
        };
      });
      return ok(`${existed ? 'Updated' : 'Added'} topic \`${command.name}\`: ${command.description}`);
    }
    case 'topics.remove': {
      const current = await ctx.store.getSettings(ctx.platform, ctx.workspaceId);
      if (!current.topics.some((t) => t.name === command.name)) {
        const names = current.topics.map((t) => `\`${t.name}\``).join(', ') || 'none yet';
        return refuse(
          `There is no topic \`${command.name}\`. Topics: ${names}. Type \`topics list\` to see them.`,
        );
      }
      await update((s) => ({ ...s, topics: s.topics.filter((t) => t.name !== command.name) }));
      return ok(`Removed topic \`${command.name}\`.`);
    }
    case 'config.moderation-channel':
      await update((s) => ({ ...s, moderationChannelId: command.channelId }));
      return ok(
        command.channelId === null
          ? 'Moderator alerts are off.'
          : `Moderator alerts go to ${showTarget({ type: 'channel', id: command.channelId }, ctx.platform)}.`,
      );
    case 'config.threshold': {
      if (ctx.labels && ctx.labels.length > 0 && !ctx.labels.includes(command.label)) {
        return refuse(
          `"${command.label}" is not a moderation label. Type \`config threshold <label> <0..1>\` with one of: ${ctx.labels.join(', ')}.`,
        );
      }
      await update((s) => {
        const thresholds = { ...s.thresholds };
        if (command.value === null) delete thresholds[command.label];
        else thresholds[command.label] = command.value;
        return { ...s, thresholds };
      });
      return ok(
        command.value === null
          ? `\`${command.label}\` uses the model's default threshold again.`
          : `\`${command.label}\` flags at ${command.value}.`,
      );
    }
    case 'config.mode':
      await update((s) => ({ ...s, moderationMode: command.mode }));
      return ok(
        command.mode === 'auto-hide'
          ? 'Flagged messages are hidden and moderators alerted.'
          : 'Moderators are alerted; nothing is hidden automatically.',
      );
    case 'config.replies':
      await update((s) => ({ ...s, replyMode: command.mode }));
      return ok(
        {
          off: 'Steward will not reply.',
          mention: 'Steward replies when mentioned.',
          topics: 'Steward replies when mentioned or when a topic comes up.',
        }[command.mode],
      );
    case 'config.sentiment-tags':
      await update((s) => ({ ...s, sentimentTags: command.value }));
      return ok(`Sentiment tags: ${command.value}.`);
    case 'config.exempt':
    case 'config.unexempt': {
      const add = command.kind === 'config.exempt';
      await update((s) => exempt(s, command.target, add));
      const shown = showTarget(command.target, ctx.platform);
      return ok(add ? `${shown} is exempt from tags and alerts.` : `${shown} is no longer exempt.`);
    }
    case 'config.show':
      return renderSettings(await ctx.store.getSettings(ctx.platform, ctx.workspaceId), ctx.platform);
    case 'rules.list':
    case 'rules.add':
    case 'rules.remove':
    case 'rules.disable':
    case 'rules.enable':
    case 'rules.test':
    case 'rules.sync':
      return runRulesCommand(command, ctx);
    case 'status':
      if (!ctx.status) return ok('Status is not available here.');
      return renderStatus(await ctx.status());
    case 'flags': {
      const options = command.status === 'all' ? { limit: 10 } : { status: command.status, limit: 10 };
      return renderFlags(await ctx.store.listFlags(ctx.platform, ctx.workspaceId, options), command.status);
    }
  }
}

function exempt(settings: WorkspaceSettings, target: Target, add: boolean): WorkspaceSettings {
  const key = target.type === 'channel' ? 'exemptChannels' : 'exemptRoles';
  const without = settings[key].filter((id) => id !== target.id);
  return { ...settings, [key]: add ? [...without, target.id] : without };
}
