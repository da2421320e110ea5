import { deobfuscate, revealedWords } from '../domain/deobfuscate.ts';
import {
  ALLOW_LABEL,
  BUILTIN_RULES,
  compileRule,
  effectiveRules,
  type Rule,
  RuleSchema,
  RuleSet,
} from '../domain/rules.ts';
import { UserError } from '../errors.ts';
import { ok } from './render.ts';
import type { Command, CommandContext, CommandReply } from './types.ts';

type RulesCommand = Extract<Command, { kind: `rules.${string}` }>;

const MAX_RULES = 200;

/** `/steward rules …`: list, add, remove, switch built-ins off and on, try a message, sync to Discord AutoMod. */
export async function runRulesCommand(command: RulesCommand, ctx: CommandContext): Promise<CommandReply> {
  const settings = () => ctx.store.getSettings(ctx.platform, ctx.workspaceId);
  const update = (change: Parameters<CommandContext['store']['updateSettings']>[2]) =>
    ctx.store.updateSettings(ctx.platform, ctx.workspaceId, change);
  switch (command.kind) {
    case 'rules.list': {
      const s = await settings();
      const off = new Set(s.disabledRules);
      // The workspace's own rules first and whole; the built-ins' long patterns shortened, so the list fits one
      // Discord embed (4,096 characters) and a Slack section instead of being cut off before the workspace's rules.
      const lines = [
        ...s.rules.map((r) => `\`${r.id}\` ${r.label} ${show(r)}`),
        ...BUILTIN_RULES.map(
          (r) => `\`${r.id}\` ${r.label} ${off.has(r.id) ? '(off) ' : ''}${show(r, SHOWN_PATTERN)}`,
        ),
        'Built-in patterns are shortened here: `rules test <text>` shows which rules a message matches.',
      ];
      return ok(lines.join('\n'), { title: `Moderation rules (${effectiveRules(s).length} in effect)` });
    }
    case 'rules.add': {
      const rule = ruleFrom(command.label, command.value);
      let id = '';
      await update((s) => {
        if (s.rules.length >= MAX_RULES)
          throw new UserError(
            `This workspace already has ${MAX_RULES} rules.`,
            'Type `rules remove <id>` first.',
          );
        const taken = new Set(s.rules.map((r) => r.id));
        let n = s.rules.length + 1;
        while (taken.has(`r${n}`)) n += 1;
        id = `r${n}`;
        return { ...s, rules: [...s.rules, { ...rule, id }] };
      });
      return ok(`Added rule \`${id}\`: ${rule.label} ${show(rule)}`);
    }
    case 'rules.remove': {
      if (command.id.startsWith('builtin:'))
        return refuse(
          `\`${command.id}\` is built in.`,
          `Type \`rules disable ${command.id}\` to switch it off.`,
        );
      let found = false;
      await update((s) => {
        found = s.rules.some((r) => r.id === command.id);
        return { ...s, rules: s.rules.filter((r) => r.id !== command.id) };
      });
      return found
        ? ok(`Removed rule \`${command.id}\`.`)
        : refuse(`There is no rule \`${command.id}\`.`, 'Type `rules list`.');
    }
    case 'rules.disable':
    case 'rules.enable': {
      if (!BUILTIN_RULES.some((r) => r.id === command.id))
        return refuse(
          `\`${command.id}\` is not a built-in rule.`,
          'Only built-in rules are switched on and off; remove your own with `rules remove <id>`.',
        );
      const disable = command.kind === 'rules.disable';
      await update((s) => {
        const others = s.disabledRules.filter((id) => id !== command.id);
        return { ...s, disabledRules: disable ? [...others, command.id] : others };
      });
      return ok(`Built-in rule \`${command.id}\` is ${disable ? 'off' : 'on again'}.`);
    }
    case 'rules.test': {
      const text = deobfuscate(command.text);
      const hits = new RuleSet(effectiveRules(await settings())).match(text, revealedWords(command.text));
      const read = text === command.text ? '' : `Read as: "${text}"\n`;
      if (hits.length === 0) return ok(`${read}No rule matches.`);
      return ok(`${read}${hits.map((h) => `\`${h.id}\` → ${h.label} (“${h.match}”)`).join('\n')}`);
    }
    case 'rules.sync': {
      if (!ctx.automod)
        return refuse('`rules sync` mirrors rules into Discord AutoMod; it is only available on Discord.');
      const phrases = effectiveRules(await settings()).filter((r) => r.kind === 'phrase');
      const words = (allow: boolean) =>
        phrases.filter((r) => (r.label === ALLOW_LABEL) === allow).map((r) => r.value.toLowerCase());
      return ok(await ctx.automod.sync(words(false), words(true)));
    }
  }
}

function ruleFrom(label: string, value: string): Omit<Rule, 'id'> {
  const pattern = /^\/(.+)\/$/s.exec(value.trim());
  const rule = {
    label,
    kind: pattern ? ('pattern' as const) : ('phrase' as const),
    // A phrase may be typed in quotes; the quotes are not part of it.
    value: pattern
      ? pattern[1]!
      : value
          .trim()
          .replace(/^["“'](.*)["”']$/s, '$1')
          .trim(),
  };
  const parsed = RuleSchema.omit({ id: true }).safeParse(rule);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(
      `That rule is not valid: ${issue?.path.join('.') || 'value'} ${issue?.message ?? ''}.`,
      'Type `rules add threat "i will hurt you"` or `rules add threat /\\bhurt (you|u)\\b/`.',
    );
  }
  try {
    compileRule(parsed.data);
  } catch (error) {
    throw new UserError(
      `That pattern cannot be used: ${(error as Error).message}.`,
      'Type a simpler pattern.',
    );
  }
  return parsed.data;
}

/** Characters of a built-in pattern shown by `rules list`. */
const SHOWN_PATTERN = 30;

const show = (rule: Pick<Rule, 'kind' | 'value'>, longest = Number.POSITIVE_INFINITY) =>
  rule.kind === 'phrase'
    ? `phrase “${rule.value}”`
    : rule.kind === 'obfuscated'
      ? rule.value
      : `pattern \`/${rule.value.length > longest ? `${rule.value.slice(0, longest)}…` : rule.value}/\``;

const refuse = (text: string, hint?: string): CommandReply => ({
  ok: false,
  text: hint ? `${text} ${hint}` : text,
  ephemeral: true,
});
