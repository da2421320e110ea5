/** Discord's limit on a message's content. */
export const DISCORD_MAX_CONTENT = 2_000;

/**
 * Splits text into parts of at most `max` characters, preferring paragraph, line, sentence and word breaks so that
 * no word is cut unless it alone is longer than a part. Code points are never split.
 */
export function splitMessage(text: string, max = DISCORD_MAX_CONTENT): string[] {
  const parts: string[] = [];
  let rest = text.trim();
  while ([...rest].length > max) {
    const window = [...rest].slice(0, max).join('');
    const cut = bestBreak(window);
    parts.push(window.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest !== '' || parts.length === 0) parts.push(rest);
  return parts;
}

function bestBreak(window: string): number {
  const floor = Math.floor(window.length / 2);
  for (const separator of ['\n\n', '\n', '. ', ' ']) {
    const at = window.lastIndexOf(separator);
    if (at >= floor) return at + separator.length;
  }
  return window.length;
}
