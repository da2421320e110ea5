/**
 * Does the reply model's cross-attention follow the answer? `npx tsx bench/attention-validity.ts [--model DIR]`.
 *
 * Each library item below has two sentences about different things. For each item the answer is one sentence,
 * then the other; ReplyModel.attend weighs the whole passage (every word, not the top 12). An explanation worth
 * showing puts more weight on the words of the sentence that was answered than on the other sentence's: the
 * script prints how often it does (50 % is chance) and the mean weight on each. Words in both sentences count for
 * neither. Without --model: the bundled weights with source_prefix declared (they were never trained on passages,
 * so this measures the floor); a model from `reply.py train --grounded` is what it is meant to judge.
 */
import { rmSync } from 'node:fs';
import { loadReplyModel, sourceReadingReplyFolder } from '../models/runtime/testing.ts';

const ITEMS: Array<[string, string, string]> = [
  [
    'Monthly meetup',
    'We meet on the first Friday of every month at 6pm in the Central Library, room 3.',
    'Bring snacks and a laptop if you want to hack on the bot together.',
  ],
  [
    'Donations',
    'You can support the server through our Open Collective page.',
    'Every cent pays for hosting and the yearly domain name.',
  ],
  [
    'Where to ask for help',
    'Post coding questions in #help with your error message.',
    'Moderators answer within a day, usually faster on weekends.',
  ],
  [
    'Code of conduct',
    'Be kind and respectful to other members.',
    'Harassment, slurs and personal attacks get a warning, then a ban.',
  ],
  [
    'Summer hackathon',
    'The summer hackathon runs for two weeks in July.',
    'Prizes include stickers, shirts and a mechanical keyboard.',
  ],
  [
    'Voice channels',
    'Voice chat opens every evening in the Lounge channel.',
    'Music bots are not allowed there because they disturb talks.',
  ],
  [
    'Book club',
    'The book club reads one novel each month.',
    'This season we discuss science fiction by Ursula Le Guin.',
  ],
  [
    'Server roles',
    'Ask an admin for the Contributor role after your first merged pull request.',
    'Artists can request the Designer role by posting their portfolio.',
  ],
];

const i = process.argv.indexOf('--model');
const given = i >= 0 ? process.argv[i + 1] : undefined;
const dir = given ?? sourceReadingReplyFolder();
const model = await loadReplyModel(dir, 1);
const words = (s: string) => new Set(s.split(/\s+/).map((w) => w.replace(/^\W+|\W+$/gu, '').toLowerCase()));

let followed = 0;
let cases = 0;
let own = 0;
let other = 0;
for (const [title, first, second] of ITEMS) {
  const request = {
    text: `tell me about ${title.toLowerCase()}`,
    context: [],
    source: { title, text: `${first} ${second}` },
  };
  for (const [answer, mine, theirs] of [
    [first, words(first), words(second)],
    [second, words(second), words(first)],
  ] as const) {
    const weighed = await model.attend(request, answer, Number.POSITIVE_INFINITY);
    if (!weighed) throw new Error(`${dir}: the model reads no sources (no steward.source_prefix)`);
    let a = 0;
    let b = 0;
    for (const { word, weight } of weighed) {
      const w = word.toLowerCase();
      if (mine.has(w) && !theirs.has(w)) a += weight;
      else if (theirs.has(w) && !mine.has(w)) b += weight;
    }
    cases += 1;
    if (a > b) followed += 1;
    own += a;
    other += b;
  }
}
console.log(
  JSON.stringify({
    model: given ?? 'bundled reply weights, source_prefix declared',
    cases,
    attention_follows_answer: `${followed}/${cases}`,
    mean_weight_on_answered_sentence: Math.round((own / cases) * 1000) / 1000,
    mean_weight_on_other_sentence: Math.round((other / cases) * 1000) / 1000,
  }),
);
await model.dispose();
if (!given) rmSync(dir, { recursive: true, force: true });
