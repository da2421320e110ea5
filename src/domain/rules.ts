import { z } from 'zod';
import { foldLeet } from './deobfuscate.ts';

/**
 * The transparent rule layer beside the moderation model: phrases and patterns, each with the label it raises.
 * No public data labels threats or self-harm incitement, so a model trained here cannot be relied on for them;
 * these rules can be, and admins can read every one (`/steward rules list`), add their own, and switch built-in
 * ones off. Rules match the normalised text (see deobfuscate), so "k y s" and "k.y.s" match "kys".
 */
export const RuleSchema = z.object({
  /** Built-in ids start with "builtin:"; a workspace's own get "r1", "r2"… */
  id: z.string().min(1).max(40),
  label: z
    .string()
    .min(1)
    .max(40)
    .regex(/^[a-z][a-z0-9_]*$/, 'lower-case letters, digits and _'),
  /** phrase: whole words, case-insensitive; pattern: a JavaScript regular expression, case-insensitive. */
  kind: z.enum(['phrase', 'pattern']),
  value: z.string().min(1).max(200),
});
export type Rule = z.infer<typeof RuleSchema>;

/** One rule that matched a message, and the words it matched. */
export interface RuleHit {
  id: string;
  label: string;
  match: string;
  /** The reason shown to moderators, when it is more than “rule “match”” (moderation in context). */
  why?: string;
}

const YOU = String.raw`(?:you|u|ya|yu)`;
const YOURSELF = String.raw`(?:yourself|urself|your\s+self|yoself|ur\s+self)`;
const WILL = String.raw`(?:i\s*(?:'|’)?\s*ll|i\s+will|i\s*(?:'|’)?\s*m\s+(?:going\s+to|gonna)|i\s+am\s+(?:going\s+to|gonna)|im\s+(?:going\s+to|gonna)|gonna|we\s*(?:'|’)?\s*ll|we\s+will)`;
const HARM = String.raw`(?:kill|hurt|stab|shoot|murder|strangle|beat\s+(?:the\s+\w+\s+out\s+of|up)|break\s+your\s+(?:legs|neck|face)|slit\s+your\s+throat|end)`;

/** Built-in rules: threats of violence and incitement to self-harm. Tested against benign look-alikes. */
export const BUILTIN_RULES: readonly Rule[] = Object.freeze([
  {
    id: 'builtin:threat-will-harm',
    label: 'threat',
    kind: 'pattern',
    value: String.raw`\b${WILL}\s+(?:\w+\s+)?${HARM}\s+${YOU}\b`,
  },
  {
    id: 'builtin:threat-where-you-live',
    label: 'threat',
    kind: 'pattern',
    value: String.raw`\b(?:find|know|found)\s+(?:out\s+)?where\s+${YOU}\s+live`,
  },
  {
    id: 'builtin:threat-you-are-dead',
    label: 'threat',
    kind: 'pattern',
    value: String.raw`\b${YOU}\s*(?:'|’)?\s*(?:re|r|are)\s+(?:so\s+)?(?:dead|going\s+to\s+die|gonna\s+die)\b(?!\s+(?:to\s+me|to\s+us|inside|tired|wrong|serious))`,
  },
  { id: 'builtin:threat-watch-your-back', label: 'threat', kind: 'phrase', value: 'watch your back' },
  {
    id: 'builtin:threat-next-time-i-see-you',
    label: 'threat',
    kind: 'pattern',
    value: String.raw`\b(?:${HARM}|get)\s+${YOU}\s+(?:next\s+time|when)\s+i\s+see\s+${YOU}`,
  },
  {
    id: 'builtin:threat-bomb-shoot-up',
    label: 'threat',
    kind: 'pattern',
    value: String.raw`\b${WILL}\s+(?:bomb|shoot\s+up|blow\s+up)\s+(?:the|your|this)\s+\w+`,
  },
  { id: 'builtin:self-harm-kys', label: 'self_harm', kind: 'pattern', value: String.raw`\bkys\b` },
  {
    id: 'builtin:self-harm-kill-yourself',
    label: 'self_harm',
    kind: 'pattern',
    value: String.raw`\b(?:kill|hang|shoot|off|neck|end|hurt|cut)\s+${YOURSELF}\b`,
  },
  {
    id: 'builtin:self-harm-jump-off',
    label: 'self_harm',
    kind: 'pattern',
    value: String.raw`\b(?:go|just|pls|please|should)\s+(?:go\s+)?jump\s+(?:off|from)\s+(?:a|the)\s+(?:bridge|building|roof|cliff)`,
  },
  {
    id: 'builtin:self-harm-drink-bleach',
    label: 'self_harm',
    kind: 'pattern',
    value: String.raw`\b(?:go\s+)?drink\s+(?:some\s+)?bleach\b`,
  },
  {
    id: 'builtin:self-harm-go-die',
    label: 'self_harm',
    kind: 'pattern',
    value: String.raw`\b(?:go|just|pls|please)\s+(?:go\s+)?die\b(?!\s+(?:hard|trying|laughing))`,
  },
  {
    id: 'builtin:self-harm-should-die',
    label: 'self_harm',
    kind: 'pattern',
    value: String.raw`\b${YOU}\s+(?:should|deserve\s+to|need\s+to|ought\s+to)\s+(?:just\s+)?(?:die|kill\s+${YOURSELF})\b`,
  },
  {
    id: 'builtin:self-harm-nobody-miss',
    label: 'self_harm',
    kind: 'pattern',
    value: String.raw`\b(?:nobody|no\s+one|noone)\s+(?:would|will)\s+(?:miss|care\s+if)\s+${YOU}\b`,
  },
  {
    id: 'builtin:self-harm-world-better',
    label: 'self_harm',
    kind: 'pattern',
    value: String.raw`\bworld\s+(?:would\s+be|is)\s+better\s+(?:off\s+)?without\s+${YOU}\b`,
  },
]) as readonly Rule[];

/** The compiled form of a rule list: built once per settings version, reused for every message. */
export class RuleSet {
  readonly #compiled: Array<{ rule: Rule; re: RegExp }>;

  constructor(rules: readonly Rule[]) {
    this.#compiled = rules.map((rule) => ({ rule, re: compileRule(rule) }));
  }

  get size(): number {
    return this.#compiled.length;
  }

  /**
   * Every rule that matches the (normalised) text, with the words it matched. Each rule also sees the text with
   * every digit-for-letter swap undone ("f1nd wh3re u l1ve"), which deobfuscate only does for lexicon words.
   */
  match(text: string): RuleHit[] {
    const folded = foldLeet(text);
    const hits: RuleHit[] = [];
    for (const { rule, re } of this.#compiled) {
      const m = re.exec(text) ?? (folded === text ? null : re.exec(folded));
      if (m) hits.push({ id: rule.id, label: rule.label, match: m[0].trim() });
    }
    return hits;
  }
}

/** A rule's regular expression; throws a RangeError with the reason for an invalid or unsafe pattern. */
export function compileRule(rule: Pick<Rule, 'kind' | 'value'>): RegExp {
  if (rule.kind === 'phrase') {
    const words = rule.value.trim().split(/\s+/).map(escapeRegExp);
    return new RegExp(String.raw`(?<![\p{L}\p{N}])${words.join(String.raw`\s+`)}(?![\p{L}\p{N}])`, 'iu');
  }
  // Nested quantifiers are how a pattern takes exponential time on a crafted message; refuse them outright.
  if (/\([^)]*[+*][^)]*\)\s*[+*{]/.test(rule.value))
    throw new RangeError('nested repetition such as (a+)+ is not allowed in a pattern');
  try {
    return new RegExp(rule.value, 'iu');
  } catch (error) {
    throw new RangeError(`not a valid regular expression: ${(error as Error).message}`);
  }
}

/** The rules in effect for a workspace: built-ins minus the ones it switched off, then its own. */
export function effectiveRules(settings: {
  rules: readonly Rule[];
  disabledRules: readonly string[];
}): Rule[] {
  const off = new Set(settings.disabledRules);
  return [...BUILTIN_RULES.filter((r) => !off.has(r.id)), ...settings.rules];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
