/**
 * Words too common to say anything about relevance. Dropping them keeps BM25 from matching every item on
 * "the" and keeps posting lists short, which is what holds retrieval under 5 ms with 100,000 items.
 */
const STOPWORDS = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have how i if in into is it its ' +
    'me my of on or our so than that the their them then there these they this to was we were what when where ' +
    "which who why will with would you your im i'm it's is there any some about just " +
    // Chinese function and question words, as Intl.Segmenter splits them (words() below)
    '的 了 是 在 吗 呢 吧 啊 我 你 您 他 她 它 我们 你们 他们 这 那 这个 那个 有 和 与 也 就 都 会 要 请问 什么 ' +
    '怎么 哪里 哪儿 哪 几 谁 一个 可以 能 被 把 给 到 去 来 说 什么时候 为什么 如何 多少 哪些 哪个 是不是 没有 ' +
    '可不可以 应该 样'
  ).split(' '),
);

const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu;

/** Lower-cased words of a text without stopwords (the lexical index's analyser); Chinese split as in words(). */
export function analyzeTerms(text: string): string[] {
  const out: string[] = [];
  for (const word of words(text)) {
    const term = word.replace(/['’]s$/u, '');
    if (!STOPWORDS.has(term)) out.push(term);
  }
  return out;
}

const HAN = /\p{Script=Han}/u;
let zhWords: Intl.Segmenter | undefined;

/** Where a sentence ends: . ? ! before whitespace (not "3.5" or "e.g."), 。！？； anywhere, or a line break. */
const SENTENCE_END = /(?<=[.?!])\s+|(?<=[。！？；])|\n+/u;

/** The non-empty sentences of a text, trimmed, in order (library passages, quotes, recommendation blurbs). */
export function sentences(text: string): string[] {
  return text
    .split(SENTENCE_END)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Every lower-cased word of a text, stopwords included (for overlap checks). Chinese has no spaces: its runs are
 * split into words by Intl.Segmenter, so "停车免费吗" shares 停车 and 免费 with a passage, not nothing.
 */
export function words(text: string): string[] {
  const lower = text.toLowerCase();
  if (!HAN.test(lower)) return Array.from(lower.matchAll(WORD), (m) => m[0]);
  const out: string[] = [];
  for (const match of lower.matchAll(WORD)) {
    const word = match[0];
    if (!HAN.test(word)) {
      out.push(word);
      continue;
    }
    zhWords ??= new Intl.Segmenter('zh', { granularity: 'word' });
    for (const part of zhWords.segment(word)) if (part.isWordLike) out.push(part.segment);
  }
  return out;
}

export { STOPWORDS };
