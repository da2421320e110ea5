#!/usr/bin/env node
// Checks reply_attention.py's graph surgery: the decoder with cross_attentions.* outputs gives the same logits
// and the same generated ids as the decoder without them.
//
//   node models/training/parity_attention.mjs <before_dir> <after_dir> [--dtype q8|fp32]
//
// Inputs: the 8 contexts of <after_dir>/parity.json, plus 42 more (chat lines and question<sep>source: … inputs
// in the grounded layout), 50 in all. For each: greedy generation (20 new tokens, batch 1) in both folders (ids
// must be equal) and a teacher-forced first-step forward (logits must be bit-identical, max |diff| == 0). Also
// checks that the after folder's generate() returns cross_attentions (steps x layers) whose rows sum to 1.
// Exit 0 = identical, 1 = a difference, 2 = usage.
import fs from 'node:fs';
import path from 'node:path';

const argv = process.argv.slice(2);
if (argv.length < 2) {
  console.error('usage: parity_attention.mjs <before_dir> <after_dir> [--dtype q8|fp32]');
  process.exit(2);
}
const [before, after] = argv.slice(0, 2).map((d) => path.resolve(d));
const dtype = argv.includes('--dtype') ? argv[argv.indexOf('--dtype') + 1] : 'q8';

const { AutoTokenizer, AutoModelForSeq2SeqLM, env } = await import('@huggingface/transformers');
env.allowRemoteModels = false;
env.allowLocalModels = true;

const parity = JSON.parse(fs.readFileSync(path.join(after, 'parity.json'), 'utf8'));
const CHAT = [
  'Do you like hockey?', 'What is your favorite movie?', 'I just watched Star Wars again.', 'Who sings that song?',
  'How was the game last night?', 'I love the Beatles.', 'Have you read Harry Potter?', 'That ending was so sad.',
  'What music do you listen to?', 'The Lakers lost again.', 'I prefer comedies to horror films.',
  'Did you see the new Batman?', 'My favorite band is Queen.<sep>Mine too! Freddie was amazing.',
  'Yes<sep>What did you think of it?', 'Football season starts soon.', 'I have never been to a concert.',
  'Which team do you support?', 'Frozen all the way!<sep>Who is your favorite character?', 'lol that is funny',
  'Can you recommend a good book?', 'The soundtrack was great.',
];
const SOURCES = [
  ['when is the next meetup?', 'Monthly meetup', 'We meet on the first Friday of every month at 6pm in the Central Library, room 3.'],
  ['how do I donate?', 'Donations', 'You can support the server through our Open Collective page; every cent pays for hosting.'],
  ['where do I ask coding questions?', 'Where to ask for help', 'Post coding questions in #help with your error message and what you tried.'],
  ['what are the rules?', 'Code of conduct', 'Be kind. Harassment, slurs and personal attacks get a warning, then a ban.'],
  ['what is Star Wars?', 'Star Wars', 'Star Wars is an American epic space opera media franchise created by George Lucas.'],
  ['tell me about the Beatles', 'The Beatles', 'The Beatles were an English rock band formed in Liverpool in 1960.'],
  ['who is Freddie Mercury?', 'Freddie Mercury', 'Freddie Mercury was a British singer and songwriter, lead vocalist of the rock band Queen.'],
];
const texts = [
  ...parity.cases.map((c) => c.text),
  ...CHAT,
  ...SOURCES.map(([q, t, p]) => `${q}<sep>source: ${t}. ${p}`),
  ...SOURCES.map(([q, t, p]) => `${q.toUpperCase()}<sep>source: ${t}. ${p} ${p}`),
].slice(0, 50);
while (texts.length < 50) texts.push(CHAT[texts.length % CHAT.length]);

const load = (dir) => AutoModelForSeq2SeqLM.from_pretrained(dir, { dtype, local_files_only: true });
const tokenizer = await AutoTokenizer.from_pretrained(after, { local_files_only: true });
const [a, b] = [await load(before), await load(after)];
const sizeOf = (dir) =>
  fs
    .readdirSync(path.join(dir, 'onnx'))
    .filter((f) => f.startsWith('decoder'))
    .map((f) => `${f} ${fs.statSync(path.join(dir, 'onnx', f)).size}`);
console.log('before:', sizeOf(before).join(', '));
console.log('after: ', sizeOf(after).join(', '));

let idsEqual = 0;
let maxDiff = 0;
let worstRow = 0;
for (const text of texts) {
  const inputs = tokenizer([text]);
  const gen = { ...inputs, max_new_tokens: 20, do_sample: false, num_beams: 1 };
  const ra = (await a.generate(gen)).tolist()[0].join(',');
  const out = await b.generate({ ...gen, output_attentions: true, return_dict_in_generate: true });
  if (ra === out.sequences.tolist()[0].join(',')) idsEqual += 1;
  else console.log(`ids differ for ${JSON.stringify(text)}`);
  for (const step of out.cross_attentions) {
    for (const layer of step) {
      const [batch, heads, , enc] = layer.dims;
      for (let r = 0; r < batch * heads; r += 1) {
        let sum = 0;
        for (let j = 0; j < enc; j += 1) sum += layer.data[r * enc + j];
        worstRow = Math.max(worstRow, Math.abs(sum - 1));
      }
    }
  }
  await out.past_key_values?.dispose?.();
  // One teacher-forced step on the same decoder input: logits must be the same numbers.
  const decoder_input_ids = inputs.input_ids.slice(null, [0, 1]);
  decoder_input_ids.data.fill(0n);
  const la = (await a({ ...inputs, decoder_input_ids })).logits.data;
  const lb = (await b({ ...inputs, decoder_input_ids })).logits.data;
  for (let i = 0; i < la.length; i += 1) maxDiff = Math.max(maxDiff, Math.abs(la[i] - lb[i]));
}
console.log(
  JSON.stringify({ inputs: texts.length, greedy_ids_equal: idsEqual, max_abs_logit_diff: maxDiff, attention_row_sum_max_error: worstRow }),
);
await a.dispose();
await b.dispose();
process.exit(idsEqual === texts.length && maxDiff === 0 && worstRow < 1e-4 ? 0 : 1);
