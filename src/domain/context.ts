import type { Analysis } from './analysis.ts';
import type { ContextTurn } from './message.ts';
import type { RuleHit } from './rules.ts';

/**
 * Moderation in context (issue 14, item 5). A short reply whose whole meaning is the message it answers — a
 * retort ("same to you", "no u", "你也是") or an endorsement ("this", "+1", "说得对") — says what its parent
 * said. When the parent is flagged, the reply takes the parent's labels, with the reason written out. The
 * phrases are listed here, in the open, like the built-in rules; anything longer or different is judged on
 * its own words only.
 */
const RETORTS = [
  'same to you',
  'same to u',
  'same 2 u',
  'you too',
  'u too',
  'you as well',
  'back at you',
  'back at ya',
  'right back at you',
  'right back at ya',
  'right back atcha',
  'so are you',
  'so r u',
  'you are too',
  "you're one too",
  'youre one too',
  'takes one to know one',
  'it takes one to know one',
  'no u',
  'no you',
  'look who is talking',
  "look who's talking",
  'i know you are but what am i',
  '你也是',
  '你才是',
  '你也一样',
  '彼此彼此',
  '说你自己吧',
  '反弹',
];

const ENDORSEMENTS = [
  'this',
  'this ^',
  '^',
  '^^',
  '^^^',
  '+1',
  'agreed',
  'i agree',
  'exactly',
  'so true',
  'facts',
  'what he said',
  'what she said',
  'what they said',
  'seconded',
  'preach',
  'well said',
  '同意',
  '同上',
  '说得对',
  '没错',
  '顶',
  '赞同',
  '附议',
];

// Filler that may surround the phrase without changing it: laughter, "lol", "and", "buddy", punctuation, emoji.
const FILLER = new Set([
  'lol',
  'lmao',
  'haha',
  'hahaha',
  'and',
  'buddy',
  'pal',
  'mate',
  'bro',
  'dude',
  'lmfao',
  'ok',
  'yeah',
  'yep',
  '哈哈',
  '哈哈哈',
]);
const PHRASES = new Map<string, string>([
  ...RETORTS.map((p) => [normalise(p), p] as const),
  ...ENDORSEMENTS.map((p) => [normalise(p), p] as const),
]);

/** Longest reply (in characters) that can be an echo; anything longer carries words of its own. */
export const MAX_ECHO_LENGTH = 60;

function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[’']/g, "'")
    .replace(/[.!?,;:~。！？，、…]+/gu, ' ')
    .replace(/\p{Extended_Pictographic}/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The echo phrase a reply consists of (filler aside), or null when the reply says something of its own. */
export function echoPhrase(text: string): string | null {
  if (text.length > MAX_ECHO_LENGTH) return null;
  const words = normalise(text)
    .split(' ')
    .filter((w) => w !== '');
  // Strip filler from both ends ("lol same to you", "you too buddy").
  let start = 0;
  let end = words.length;
  while (start < end && FILLER.has(words[start]!)) start++;
  while (end > start && FILLER.has(words[end - 1]!)) end--;
  if (start === end) return null;
  return PHRASES.get(words.slice(start, end).join(' ')) ?? null;
}

/** The turn a reply answers: the last one of its chain, when a member (not the bot) wrote it. */
export function parentTurn(context: readonly ContextTurn[], authorId: string): ContextTurn | null {
  const parent = context.at(-1);
  if (!parent || parent.fromBot || parent.authorId === authorId) return null;
  return parent;
}

/**
 * Hits that carry a flagged parent's labels over to an echoing reply, each with its reason. Empty when the reply
 * is not an echo or the parent was not flagged.
 */
export function contextHits(phrase: string, parent: Analysis['moderation']): RuleHit[] {
  return parent.flagged.map((label) => {
    const words = (parent.reasons[label] ?? []).slice(0, 3).join(', ');
    return {
      id: 'context:echo',
      label,
      match: phrase,
      why: `“${phrase}” in reply to a message flagged ${label}${words ? ` (${words})` : ''}`,
    };
  });
}
