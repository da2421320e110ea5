/**
 * Does the answer model answer from the library passage? `npx tsx bench/grounded-eval.ts [--model DIR] [--n 300]`.
 *
 * Issue 10 part 2, on data no reply model trained on: library items made of 2-4 lines of self_dialogue
 * **validation** conversations (one line each from different conversations, drawn with a fixed seed), each asked
 * about a word only one of its sentences holds, in wordings not used in training (reply_grounded.py has its own
 * list). The right answer is that sentence. Each answer is generated as a library answer is (the question and
 * `source: <title>. <passage>` into the encoder, greedy), then judged:
 *   - right sentence: the answer's unigram F1 with the asked sentence is ≥ 0.6 and higher than with any other;
 *   - exact: the answer is the asked sentence (case and spacing aside);
 *   - supported: every content word is in the question or the source (answer.ts isSupported);
 *   - accepted: supported and drawn from a sentence the question is about (answer.ts acceptsAnswer: what the
 *     worker requires before it shows a generated answer instead of quoting the source's best sentence).
 * Also for the quote fallback alone (bestSentence, no model) on the same questions.
 * Without --model: the bundled answer model (models/bundled/answer).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadReplyModel, modelFolder } from '../models/runtime/testing.ts';
import { acceptsAnswer, bestSentence, isSupported } from '../worker/library/answer.ts';
import { DATA, normTokens, unigramF1 } from './chitchat-data.ts';
import { selfDialogueConversations } from './samples.ts';
import { round, seededRandom, shuffle } from './stats.ts';

const QUESTIONS = [
  'can you tell me about {w}',
  'what did it say on {w}?',
  'info about {w} please',
  'I have a question about {w}',
  'what do we know about {w}?',
];
const STOP = new Set(
  `a an the and or but if then than that this these those there here what which who whom whose when where why how
is are was were be been being have has had do does did not no yes of in on at to for from by with about as into
over after before under again further once all any both each few more most other some such only own same so too
very can will just should now also its it's his her their our your my they them he she we you i me him us it one
two many much well like really know think would could`.split(/\s+/),
);

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    n: { type: 'string', default: '300' },
    seed: { type: 'string', default: '11' },
  },
});
const dir = values.model ?? modelFolder('answer');
const n = Number(values.n);
const rng = seededRandom(Number(values.seed));

const keyWords = (s: string) =>
  (s.match(/\b[A-Za-z]{4,}\b(?!')/g) ?? []).filter((w) => !STOP.has(w.toLowerCase()));

/** Library-sized items from validation lines, with a question about one sentence of each. */
function cases(): Array<{
  question: string;
  title: string;
  passage: string;
  sentences: string[];
  asked: number;
}> {
  const lines = shuffle(
    selfDialogueConversations(join(DATA, 'self_dialogue'), 'validation').flatMap((c) =>
      c.lines.filter((l) => {
        const words = l.split(/\s+/).length;
        return words >= 5 && words <= 30 && !l.includes('{') && !/[.!?]\s+\S/.test(l.trim());
      }),
    ),
    rng,
  );
  const out = [];
  let at = 0;
  while (out.length < n && at + 4 < lines.length) {
    const k = 2 + Math.floor(rng() * 3);
    const sentences = lines
      .slice(at, at + k)
      .map((l) => (/[.!?]$/.test(l.trim()) ? l.trim() : `${l.trim()}.`));
    at += k;
    const bags = sentences.map((s) => new Set(keyWords(s).map((w) => w.toLowerCase())));
    const asked = Math.floor(rng() * k);
    const only = keyWords(sentences[asked]!).filter(
      (w) => !bags.some((b, j) => j !== asked && b.has(w.toLowerCase())),
    );
    if (only.length === 0) continue;
    const word = only[Math.floor(rng() * only.length)]!;
    const question = QUESTIONS[Math.floor(rng() * QUESTIONS.length)]!.replace('{w}', word);
    const title = keyWords(sentences[0]!)[0] ?? 'Note';
    out.push({ question, title, passage: sentences.join(' '), sentences, asked });
  }
  return out;
}

function judge(answer: string, sentences: string[], asked: number) {
  const f1 = sentences.map((s) => unigramF1(answer, s));
  const right = f1[asked]! >= 0.6 && f1.every((x, j) => j === asked || x < f1[asked]!);
  const exact = normTokens(answer).join(' ') === normTokens(sentences[asked]!).join(' ');
  return { right, exact };
}

const model = await loadReplyModel(dir, 2);
try {
  const items = cases();
  const answers = await model.generate(
    items.map((c) => ({ text: c.question, context: [], source: { title: c.title, text: c.passage } })),
    16,
    40,
  );
  let right = 0;
  let exact = 0;
  let supported = 0;
  let shown = 0;
  let quoteRight = 0;
  let accepted = 0;
  const examples: unknown[] = [];
  items.forEach((c, i) => {
    const answer = answers[i]!;
    const j = judge(answer, c.sentences, c.asked);
    const ok = isSupported(answer, c.question, c.title, c.passage);
    right += Number(j.right);
    exact += Number(j.exact);
    supported += Number(ok);
    // What the member sees: the answer when the worker accepts it (supported, about what was asked), else the quote.
    const shownModel = acceptsAnswer(answer, c.question, { title: c.title, text: c.passage });
    accepted += Number(shownModel);
    const seen = shownModel ? answer : bestSentence(c.passage, c.question);
    shown += Number(judge(seen, c.sentences, c.asked).right);
    quoteRight += Number(judge(bestSentence(c.passage, c.question), c.sentences, c.asked).right);
    if (examples.length < 6) examples.push({ question: c.question, passage: c.passage, answer });
  });
  const pct = (x: number) => round((100 * x) / items.length, 1);
  console.log(
    JSON.stringify({
      model: dir,
      items: items.length,
      right_sentence_pct: pct(right),
      exact_pct: pct(exact),
      supported_pct: pct(supported),
      accepted_pct: pct(accepted),
      shown_right_pct: pct(shown),
      quote_only_right_pct: pct(quoteRight),
      examples,
    }),
  );
} finally {
  await model.dispose();
}
