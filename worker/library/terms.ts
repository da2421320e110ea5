/**
 * Words too common to say anything about relevance. Dropping them keeps BM25 from matching every item on
 * "the" and keeps posting lists short, which is what holds retrieval under 5 ms with 100,000 items.
 */
const STOPWORDS = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have how i if in into is it its ' +
    'me my of on or our so than that the their them then there these they this to was we were what when where ' +
    "which who why will with would you your im i'm it's is there any some about just"
  ).split(' '),
);

const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu;

/** Lower-cased words of a text without stopwords (the lexical index's analyser). */
export function analyzeTerms(text: string): string[] {
  const out: string[] = [];
  for (const match of text.toLowerCase().matchAll(WORD)) {
    const word = match[0].replace(/['’]s$/u, '');
    if (!STOPWORDS.has(word)) out.push(word);
  }
  return out;
}

/** Every lower-cased word of a text, stopwords included (for overlap checks). */
export function words(text: string): string[] {
  return [...text.toLowerCase().matchAll(WORD)].map((m) => m[0]);
}

export { STOPWORDS };
