/**
 * Reply latency with and without cross-attention, side by side in one run (interleaved, so load on the machine
 * hits every variant alike): `npx tsx bench/reply-attention.ts [--runs 40] [--before DIR]`.
 *
 * - generate: the platform path (ReplyModel.generate), library requests, batch 1, greedy-free seeded sampling;
 * - generateWithAttention: the same plus the generation's cross-attention mapped to passage words;
 * - generate + attend: generate, then the teacher-forced pass that analyze --reply runs for a library answer;
 * - with --before DIR (a reply folder whose decoder lacks the cross_attentions outputs): plain generate on it, to
 *   see what exposing the outputs costs every reply.
 * The reply model is the bundled one with source_prefix declared (models/runtime/testing.ts), so passages are read.
 */
import { rmSync } from 'node:fs';
import { loadReplyModel, sourceReadingReplyFolder } from '../models/runtime/testing.ts';
import type { ReplyRequest } from '../src/engine.ts';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const runs = Number(arg('--runs') ?? 40);
const before = arg('--before');
const MAX_TOKENS = 20;

const LIBRARY = [
  [
    'when is the next meetup?',
    'Monthly meetup',
    'We meet on the first Friday of every month at 6pm in the Central Library, room 3.',
  ],
  [
    'how can I donate?',
    'Donations',
    'You can support the server through our Open Collective page; every cent pays for hosting.',
  ],
  [
    'where do I ask coding questions?',
    'Where to ask for help',
    'Post coding questions in #help with your error message and what you tried.',
  ],
  [
    'what are the rules here?',
    'Code of conduct',
    'Be kind. Harassment, slurs and personal attacks get a warning, then a ban.',
  ],
] as const;
const requests: ReplyRequest[] = LIBRARY.map(([text, title, passage]) => ({
  text,
  context: [],
  source: { title, text: passage },
}));

const dir = sourceReadingReplyFolder();
const model = await loadReplyModel(dir, 1);
const oldDir = before ? sourceReadingCopy(before) : undefined;
const old = oldDir ? await loadReplyModel(oldDir, 1) : undefined;
const times: Record<string, number[]> = {};
const time = async (name: string, run: () => Promise<unknown>) => {
  const t0 = performance.now();
  await run();
  const list = times[name] ?? [];
  list.push(performance.now() - t0);
  times[name] = list;
};

// Warm-up: first runs allocate the sessions' buffers.
for (const request of requests) {
  await model.generateWithAttention([request], 1, MAX_TOKENS);
  await old?.generate([request], 1, MAX_TOKENS);
}
for (let i = 0; i < runs; i += 1) {
  const request = {
    ...requests[i % requests.length]!,
    text: `${requests[i % requests.length]!.text} (${i})`,
  };
  await time('generate', () => model.generate([request], 1, MAX_TOKENS));
  await time('generateWithAttention', () => model.generateWithAttention([request], 1, MAX_TOKENS));
  await time('generate + attend', async () => {
    const [text] = await model.generate([request], 1, MAX_TOKENS);
    await model.attend(request, text!);
  });
  await time('attend alone', () => model.attend(request, request.source!.text));
  if (old) await time('generate, decoder without the outputs', () => old.generate([request], 1, MAX_TOKENS));
}
const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!;
console.log(`reply latency, batch 1, <= ${MAX_TOKENS} new tokens, ${runs} runs each, interleaved`);
for (const [name, xs] of Object.entries(times))
  console.log(
    `${name.padEnd(40)} p50 ${p(xs, 0.5).toFixed(1).padStart(6)} ms   p90 ${p(xs, 0.9).toFixed(1).padStart(6)} ms`,
  );
await model.dispose();
await old?.dispose();
rmSync(dir, { recursive: true, force: true });
if (oldDir) rmSync(oldDir, { recursive: true, force: true });

/** A folder's files under a source-reading config, like sourceReadingReplyFolder does for the bundled one. */
function sourceReadingCopy(folder: string): string {
  const previous = process.env.STEWARD_TEST_MODEL_REPLY;
  process.env.STEWARD_TEST_MODEL_REPLY = folder;
  try {
    return sourceReadingReplyFolder();
  } finally {
    if (previous === undefined) delete process.env.STEWARD_TEST_MODEL_REPLY;
    else process.env.STEWARD_TEST_MODEL_REPLY = previous;
  }
}
