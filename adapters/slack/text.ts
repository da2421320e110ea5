import { boundText, MAX_TEXT_LENGTH } from '../../src/domain/message.ts';

/**
 * Escapes the three characters Slack treats as control sequences, so generated text can never ping
 * @channel / @here or a user (`<!channel>`, `<@U…>`) or forge links.
 */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/**
 * Splits text into chunks of at most `max` characters, preferring paragraph, then line, then word boundaries,
 * so long replies read as separate messages. Never returns an empty chunk.
 */
export function splitText(text: string, max: number): string[] {
  if (max < 1) throw new RangeError('max must be at least 1');
  const chunks: string[] = [];
  let rest = text.trim();
  while (rest.length > max) {
    const window = rest.slice(0, max + 1);
    let cut = -1;
    for (const separator of ['\n\n', '\n', '. ', ' ']) {
      const at = window.lastIndexOf(separator);
      // A boundary in the first half would leave tiny chunks; cut hard instead.
      if (at > max / 2) {
        cut = separator === '. ' ? at + 1 : at;
        break;
      }
    }
    if (cut <= 0 || cut > max) cut = max;
    // Do not split a surrogate pair (emoji) in half.
    const code = rest.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
    chunks.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest.length > 0) chunks.push(rest);
  return chunks.filter((chunk) => chunk.length > 0);
}

/** Longest label a mention expands to (Slack display names are at most 80 characters). */
const MAX_LABEL = 80;
const label = (text: string) => (text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL)}…` : text);

/**
 * Slack message text as the models should read it: the bot's own mention removed, other mentions, channels
 * and links as their readable labels, entities decoded. (Slack escapes &, < and > in message text.) Expansion
 * is bounded: labels are clipped, and when names would grow the text past `max`, mentions stay as their ids
 * (never longer than Slack's own markup), and what is still too long is cut to its head and tail — a message
 * with hundreds of mentions is moderated like any other, never dropped as too large.
 */
export function plainText(
  text: string,
  botUserId: string,
  names: (userId: string) => string | undefined,
  max: number = MAX_TEXT_LENGTH,
): string {
  const named = readable(text, botUserId, (id, given) => label(given || names(id) || id));
  if (named.length <= max) return named;
  return boundText(
    readable(text, botUserId, (id) => id),
    max,
  );
}

function readable(text: string, botUserId: string, mention: (id: string, label?: string) => string): string {
  return text
    .replaceAll(`<@${botUserId}>`, ' ')
    .replace(
      /<@([UW][A-Z0-9]+)(?:\|([^>]*))?>/g,
      (_m, id: string, given?: string) => `@${mention(id, given)}`,
    )
    .replace(
      /<#([CG][A-Z0-9]+)(?:\|([^>]*))?>/g,
      (_m, id: string, given?: string) => `#${label(given || id)}`,
    )
    .replace(/<!(here|channel|everyone)(?:\|[^>]*)?>/g, '@$1')
    .replace(/<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>/g, (_m, given?: string) => label(given || '@group'))
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, '$2')
    .replace(/<(https?:[^>]+)>/g, '$1')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Slack emoji names for the sentiment tags (reactions.add takes names, not characters). */
const EMOJI_NAMES: Record<string, string> = {
  '😟': 'worried',
  '😐': 'neutral_face',
  '😊': 'blush',
  '🙂': 'slightly_smiling_face',
  '😀': 'grinning',
  '😠': 'angry',
  '😢': 'cry',
  '👍': '+1',
  '👎': '-1',
  '❤️': 'heart',
};

const SENTIMENT_NAMES: Record<string, string> = {
  negative: 'worried',
  neutral: 'neutral_face',
  positive: 'blush',
};

/** The Slack name of an emoji: a known character, an already-named `:emoji:`, or the sentiment's default. */
export function slackEmojiName(emoji: string, sentiment: string): string {
  const named = /^:?([a-z0-9_+'-]+):?$/.exec(emoji)?.[1];
  return EMOJI_NAMES[emoji] ?? named ?? SENTIMENT_NAMES[sentiment] ?? 'speech_balloon';
}
