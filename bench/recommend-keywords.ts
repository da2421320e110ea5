/**
 * Library items described by their topic's own conversations, as an admin (or a channel's history) could: the
 * words that members of a topic use far more than members of the library's other topics. Drawn from
 * self_dialogue **train** only, leaving out every 10th conversation of each topic (the slice constants are
 * chosen on, `--split train --every 10`), so neither that slice nor validation ever shaped a description.
 */
import type { LibraryItem } from '../src/domain/library.ts';
import { contentWords } from '../src/domain/profile.ts';

/** A word must be used by at least this many members of the topic (rarer ones are names of one chat). */
const MIN_MEMBERS = 5;

/**
 * Each item's text with "Keywords: …" appended: its topic's `count` words of highest log-odds between the
 * topic's members and the other topics' members (each member a document: one person's lines).
 */
export function withKeywords(
  library: readonly LibraryItem[],
  train: ReadonlyArray<{ topic: string; lines: string[] }>,
  count: number,
): LibraryItem[] {
  const topics = library.map((item) => item.id);
  const members = new Map(topics.map((t) => [t, 0]));
  const df = new Map(topics.map((t) => [t, new Map<string, number>()]));
  const index = new Map<string, number>();
  for (const conversation of train) {
    const seen = df.get(conversation.topic);
    if (!seen) continue;
    // The slice is every 10th conversation of each topic, counted within the topic (as `--every 10` does).
    const i = index.get(conversation.topic) ?? 0;
    index.set(conversation.topic, i + 1);
    if (i % 10 === 0) continue;
    for (const side of [0, 1]) {
      members.set(conversation.topic, members.get(conversation.topic)! + 1);
      const words = new Set(conversation.lines.filter((_, j) => j % 2 === side).flatMap(contentWords));
      for (const w of words) seen.set(w, (seen.get(w) ?? 0) + 1);
    }
  }
  const logit = (k: number, n: number) => Math.log((k + 1) / (n - k + 1));
  return library.map((item) => {
    const own = df.get(item.id)!;
    const n = members.get(item.id)!;
    const otherN = topics.filter((t) => t !== item.id).reduce((s, t) => s + members.get(t)!, 0);
    const scored: Array<[string, number]> = [];
    for (const [word, k] of own) {
      if (k < MIN_MEMBERS) continue;
      const otherK = topics.filter((t) => t !== item.id).reduce((s, t) => s + (df.get(t)!.get(word) ?? 0), 0);
      scored.push([word, logit(k, n) - logit(otherK, otherN)]);
    }
    const words = scored
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([w]) => w);
    return { ...item, text: `${item.text}. Keywords: ${words.join(', ')}` };
  });
}
