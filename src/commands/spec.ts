import { MODERATION_MODES, REPLY_MODES, SENTIMENT_TAG_MODES } from './choices.ts';
import { LIBRARY_SPECS } from './library-spec.ts';
import { PRIVACY_SPECS } from './privacy-spec.ts';

export type { CommandSpec, OptionSpec } from './spec-types.ts';
import type { CommandSpec, OptionSpec } from './spec-types.ts';

const channelOption = (description: string, required: boolean): OptionSpec => ({
  name: 'channel',
  type: 'channel',
  description,
  required,
});
const roleOption: OptionSpec = { name: 'role', type: 'role', description: 'A role', required: false };

/** Every command, in the order help lists them. Text and structured forms are derived from this one list. */
export const COMMAND_SPECS: readonly CommandSpec[] = [
  {
    group: 'topics',
    sub: 'add',
    usage: 'topics add <name> <description>',
    description: 'Add (or update) a topic the bot talks about',
    adminOnly: true,
    options: [
      { name: 'name', type: 'string', description: 'Short name: letters, digits, - and _', required: true },
      {
        name: 'description',
        type: 'string',
        description: 'What the topic is about, in words',
        required: true,
      },
    ],
  },
  {
    group: 'topics',
    sub: 'remove',
    usage: 'topics remove <name>',
    description: 'Remove a topic',
    adminOnly: true,
    options: [{ name: 'name', type: 'string', description: 'Name of the topic', required: true }],
  },
  {
    group: 'topics',
    sub: 'list',
    usage: 'topics list',
    description: 'List the topics',
    adminOnly: false,
    options: [],
  },
  {
    group: 'config',
    sub: 'moderation-channel',
    usage: 'config moderation-channel <#channel|off>',
    description: 'Where moderator alerts go',
    adminOnly: true,
    options: [channelOption('Channel for moderator alerts', true)],
  },
  {
    group: 'config',
    sub: 'threshold',
    usage: 'config threshold <label> <0..1|default>',
    description: 'Score at which a moderation label flags a message',
    adminOnly: true,
    options: [
      { name: 'label', type: 'string', description: 'Moderation label, e.g. offensive', required: true },
      { name: 'value', type: 'number', description: 'Threshold from 0 to 1', required: true, min: 0, max: 1 },
    ],
  },
  {
    group: 'config',
    sub: 'mode',
    usage: `config mode ${MODERATION_MODES.join('|')}`,
    description: 'Only alert moderators (suggest), or also hide flagged messages (auto-hide)',
    adminOnly: true,
    options: [
      {
        name: 'mode',
        type: 'string',
        description: 'Moderation mode',
        required: true,
        choices: MODERATION_MODES,
      },
    ],
  },
  {
    group: 'config',
    sub: 'replies',
    usage: `config replies ${REPLY_MODES.join('|')}`,
    description: 'When the bot replies: never, when mentioned, or also when a topic comes up',
    adminOnly: true,
    options: [
      { name: 'mode', type: 'string', description: 'Reply mode', required: true, choices: REPLY_MODES },
    ],
  },
  {
    group: 'config',
    sub: 'sentiment-tags',
    usage: `config sentiment-tags ${SENTIMENT_TAG_MODES.join('|')}`,
    description: 'Which messages get a sentiment reaction',
    adminOnly: true,
    options: [
      {
        name: 'mode',
        type: 'string',
        description: 'Sentiment tags',
        required: true,
        choices: SENTIMENT_TAG_MODES,
      },
    ],
  },
  {
    group: 'config',
    sub: 'exempt',
    usage: 'config exempt <#channel|@role>',
    description: 'Skip tags and alerts in a channel or for a role',
    adminOnly: true,
    options: [channelOption('Channel to exempt', false), roleOption],
  },
  {
    group: 'config',
    sub: 'unexempt',
    usage: 'config unexempt <#channel|@role>',
    description: 'Undo an exemption',
    adminOnly: true,
    options: [channelOption('Channel to stop exempting', false), roleOption],
  },
  {
    group: 'config',
    sub: 'show',
    usage: 'config show',
    description: 'Show this workspace’s settings',
    adminOnly: true,
    options: [],
  },
  ...LIBRARY_SPECS,
  ...PRIVACY_SPECS,
  {
    group: 'rules',
    sub: 'list',
    usage: 'rules list',
    description: 'The moderation rules in effect: built-in ones (threats, self-harm) and this workspace’s',
    adminOnly: true,
    options: [],
  },
  {
    group: 'rules',
    sub: 'add',
    usage: 'rules add <label> <phrase|/pattern/>',
    description:
      'Flag a phrase (whole words) or /regular expression/ under a label; label allow vouches for a wording',
    adminOnly: true,
    options: [
      {
        name: 'label',
        type: 'string',
        description: 'Label to raise, e.g. threat; allow vouches for words the model misreads',
        required: true,
      },
      {
        name: 'value',
        type: 'string',
        description: 'A phrase, or a pattern between slashes',
        required: true,
      },
    ],
  },
  {
    group: 'rules',
    sub: 'remove',
    usage: 'rules remove <id>',
    description: 'Remove one of this workspace’s rules',
    adminOnly: true,
    options: [{ name: 'id', type: 'string', description: 'Rule id from rules list', required: true }],
  },
  {
    group: 'rules',
    sub: 'disable',
    usage: 'rules disable <id>',
    description: 'Switch a built-in rule off for this workspace',
    adminOnly: true,
    options: [{ name: 'id', type: 'string', description: 'Rule id from rules list', required: true }],
  },
  {
    group: 'rules',
    sub: 'enable',
    usage: 'rules enable <id>',
    description: 'Switch a built-in rule back on',
    adminOnly: true,
    options: [{ name: 'id', type: 'string', description: 'Rule id from rules list', required: true }],
  },
  {
    group: 'rules',
    sub: 'test',
    usage: 'rules test <text>',
    description: 'Which rules a message would match (after undoing obfuscation)',
    adminOnly: true,
    options: [{ name: 'text', type: 'string', description: 'A message to try', required: true }],
  },
  {
    group: 'rules',
    sub: 'sync',
    usage: 'rules sync',
    description: 'Discord: mirror the phrase rules into one Steward-managed AutoMod keyword rule',
    adminOnly: true,
    options: [],
  },
  {
    group: null,
    sub: 'status',
    usage: 'status',
    description: 'Queue depth, workers alive, model versions, last errors',
    adminOnly: true,
    options: [],
  },
  {
    group: null,
    sub: 'flags',
    usage: 'flags [open|dismissed|actioned|all]',
    description: 'Recent moderation flags (open ones by default)',
    adminOnly: true,
    options: [
      {
        name: 'status',
        type: 'string',
        description: 'Which flags',
        required: false,
        choices: ['open', 'dismissed', 'actioned', 'all'],
      },
    ],
  },
  {
    group: null,
    sub: 'help',
    usage: 'help',
    description: 'What you can type',
    adminOnly: false,
    options: [],
  },
];

export function specOf(group: string | null, sub: string): CommandSpec | undefined {
  return COMMAND_SPECS.find((spec) => spec.group === group && spec.sub === sub);
}
