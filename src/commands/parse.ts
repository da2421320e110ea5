import { TopicSchema } from '../domain/settings.ts';
import { UserError } from '../errors.ts';
import { MODERATION_MODES, REPLY_MODES, SENTIMENT_TAG_MODES } from './choices.ts';
import { parseChannel, parseTarget } from './mentions.ts';
import { COMMAND_SPECS, type CommandSpec, specOf } from './spec.ts';
import type { Command, StructuredCommand, Target } from './types.ts';

const GROUPS = ['topics', 'config', 'rules'] as const;
const FLAG_FILTERS = ['open', 'dismissed', 'actioned', 'all'] as const;
const OFF_WORDS = ['off', 'none', 'disable'];

type Args = Record<string, string | undefined>;

/**
 * Parses `/steward …` in either form: the text after the command name (Slack, local terminal) or the
 * group/sub/options Discord delivers. Bad input throws a UserError whose hint says what to type instead.
 */
export function parseCommand(input: string | StructuredCommand): Command {
  return typeof input === 'string' ? parseText(input) : parseStructured(input);
}

function parseText(raw: string): Command {
  // Tolerate the command name itself, as typed in the terminal ("/config show") or pasted ("/steward status").
  const text = raw.trim().replace(/^\/(?:steward(?=\s|$))?\s*/i, '');
  if (text === '') return { kind: 'help' };
  const first = nextWord(text);
  const head = first.word.toLowerCase();
  if (isGroup(head)) {
    const second = nextWord(first.rest);
    if (second.word === '') throw unknownSub(head, '');
    const spec = findSpec(head, second.word.toLowerCase());
    return build(spec, positional(spec, second.rest));
  }
  const spec = findSpec(null, head);
  return build(spec, positional(spec, first.rest));
}

function parseStructured(input: StructuredCommand): Command {
  const group = input.group ? input.group.toLowerCase() : null;
  const spec = findSpec(group, input.sub.toLowerCase());
  const args: Args = {};
  for (const [key, value] of Object.entries(input.options ?? {})) {
    if (value !== null && value !== undefined) args[key] = String(value);
  }
  return build(spec, args);
}

function isGroup(word: string): word is (typeof GROUPS)[number] {
  return (GROUPS as readonly string[]).includes(word);
}

function nextWord(text: string): { word: string; rest: string } {
  const trimmed = text.trimStart();
  const match = /^\S+/.exec(trimmed);
  const word = match?.[0] ?? '';
  return { word, rest: trimmed.slice(word.length).trim() };
}

function findSpec(group: string | null, sub: string): CommandSpec {
  const spec = specOf(group, sub);
  if (!spec) throw group === null ? unknownCommand(sub) : unknownSub(group, sub);
  return spec;
}

function unknownCommand(word: string): UserError {
  return new UserError(`There is no command "${word}".`, 'Type `help` to see every command.');
}

function unknownSub(group: string, sub: string): UserError {
  const usages = COMMAND_SPECS.filter((s) => s.group === group).map((s) => `\`${s.usage}\``);
  const what = sub === '' ? `\`${group}\` needs a subcommand.` : `There is no \`${group} ${sub}\`.`;
  return new UserError(what, `Type one of: ${usages.join(', ')}.`);
}

/** Text arguments by option name: every option takes one word, except the last one, which takes the rest. */
function positional(spec: CommandSpec, rest: string): Args {
  const args: Args = {};
  // exempt/unexempt have two optional options in the structured form but one word in text.
  const names = spec.sub.endsWith('exempt') ? ['target'] : spec.options.map((o) => o.name);
  let remaining = rest;
  names.forEach((name, index) => {
    if (remaining === '') return;
    if (index === names.length - 1) {
      args[name] = remaining;
      remaining = '';
    } else {
      const next = nextWord(remaining);
      args[name] = next.word;
      remaining = next.rest;
    }
  });
  if (remaining !== '' || (names.length === 0 && rest !== '')) {
    throw new UserError(`\`${spec.usage.split(' <')[0]}\` takes no more words.`, `Type \`${spec.usage}\`.`);
  }
  return args;
}

function required(spec: CommandSpec, args: Args, name: string): string {
  const value = args[name]?.trim();
  if (value === undefined || value === '') {
    throw new UserError(`Missing <${name}>.`, `Type \`${spec.usage}\`.`);
  }
  return value;
}

function choice<T extends string>(spec: CommandSpec, args: Args, name: string, choices: readonly T[]): T {
  const value = required(spec, args, name).toLowerCase();
  const found = choices.find((c) => c === value);
  if (!found)
    throw new UserError(`"${value}" is not one of ${choices.join(', ')}.`, `Type \`${spec.usage}\`.`);
  return found;
}

function topicName(spec: CommandSpec, args: Args): string {
  const name = required(spec, args, 'name');
  const parsed = TopicSchema.shape.name.safeParse(name);
  if (!parsed.success) {
    throw new UserError(
      `"${name}" is not a valid topic name (letters, digits, - and _, up to 50).`,
      `Type \`${spec.usage}\`, e.g. \`topics add movies films, cinema and what to watch\`.`,
    );
  }
  return name;
}

const DECIMAL = /^(?:\d{1,4}(?:\.\d{0,6})?|\.\d{1,6})$/;

function thresholdValue(spec: CommandSpec, args: Args): number | null {
  const raw = required(spec, args, 'value').toLowerCase();
  if (['default', 'reset'].includes(raw)) return null;
  const percent = raw.endsWith('%');
  const digits = percent ? raw.slice(0, -1) : raw;
  // Plain decimals only: Number() would also read 0x1, 1e0, 0b1 and " " (as 0).
  const value = DECIMAL.test(digits) ? Number(digits) / (percent ? 100 : 1) : Number.NaN;
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new UserError(
      `"${raw}" is not a number from 0 to 1.`,
      `Type \`${spec.usage}\`, e.g. \`config threshold offensive 0.7\`.`,
    );
  }
  return value;
}

function exemptTarget(spec: CommandSpec, args: Args): Target {
  if (args.channel) return { type: 'channel', id: parseChannel(args.channel, spec.usage) };
  if (args.role) return { type: 'role', id: args.role.replace(/^<@&(\d+)>$/, '$1') };
  return parseTarget(required(spec, args, 'target'), spec.usage);
}

function build(spec: CommandSpec, args: Args): Command {
  switch (`${spec.group ?? ''} ${spec.sub}`.trim()) {
    case 'topics add': {
      const name = topicName(spec, args);
      const description = required(spec, args, 'description');
      if (description.length > 500) {
        throw new UserError('That description is longer than 500 characters.', 'Type a shorter description.');
      }
      return { kind: 'topics.add', name, description };
    }
    case 'topics remove':
      return { kind: 'topics.remove', name: topicName(spec, args) };
    case 'topics list':
      return { kind: 'topics.list' };
    case 'config moderation-channel': {
      const raw = required(spec, args, 'channel');
      if (OFF_WORDS.includes(raw.toLowerCase()))
        return { kind: 'config.moderation-channel', channelId: null };
      return { kind: 'config.moderation-channel', channelId: parseChannel(raw, spec.usage) };
    }
    case 'config threshold':
      return {
        kind: 'config.threshold',
        label: required(spec, args, 'label').toLowerCase(),
        value: thresholdValue(spec, args),
      };
    case 'config mode':
      return { kind: 'config.mode', mode: choice(spec, args, 'mode', MODERATION_MODES) };
    case 'config replies':
      return { kind: 'config.replies', mode: choice(spec, args, 'mode', REPLY_MODES) };
    case 'config sentiment-tags':
      return { kind: 'config.sentiment-tags', value: choice(spec, args, 'mode', SENTIMENT_TAG_MODES) };
    case 'config exempt':
      return { kind: 'config.exempt', target: exemptTarget(spec, args) };
    case 'config unexempt':
      return { kind: 'config.unexempt', target: exemptTarget(spec, args) };
    case 'config show':
      return { kind: 'config.show' };
    case 'rules list':
      return { kind: 'rules.list' };
    case 'rules add':
      return {
        kind: 'rules.add',
        label: required(spec, args, 'label').toLowerCase(),
        value: required(spec, args, 'value'),
      };
    case 'rules remove':
    case 'rules disable':
    case 'rules enable':
      return { kind: `rules.${spec.sub as 'remove' | 'disable' | 'enable'}`, id: required(spec, args, 'id') };
    case 'rules test':
      return { kind: 'rules.test', text: required(spec, args, 'text') };
    case 'rules sync':
      return { kind: 'rules.sync' };
    case 'status':
      return { kind: 'status' };
    case 'flags':
      return { kind: 'flags', status: args.status ? choice(spec, args, 'status', FLAG_FILTERS) : 'open' };
    default:
      return { kind: 'help' };
  }
}
