/**
 * `npx tsx bench/channels-zh.ts [--data DIR] [--rounds 3]` — what the signals model's Chinese channels cost per
 * Chinese message: the safety channel (models/runtime/safety-zh.ts) and the sentiment channel
 * (models/runtime/sentiment-zh.ts), each over COLD dev comments (the first 3,000), after one warm-up pass, in µs per
 * line, measured side by side in one run. Both run on the engine thread for each Chinese message.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SafetyChannel, SafetyMetaSchema } from '../models/runtime/safety-zh.ts';
import { SentimentChannel, SentimentChannelMetaSchema } from '../models/runtime/sentiment-zh.ts';
import { modelFolder } from '../models/runtime/testing.ts';

const { values: args } = parseArgs({
  options: {
    data: {
      type: 'string',
      default: process.env.STEWARD_DATASETS ?? join(import.meta.dirname, '..', '..', 'shared', 'datasets'),
    },
    rounds: { type: 'string', default: '3' },
  },
});
const folder = modelFolder('signals');
const steward = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')).steward;
if (!steward.safety_channel || !steward.sentiment_channel)
  throw new Error(`${folder}: config.json names no safety_channel or no sentiment_channel`);
const source = { role: 'signals' as const, location: folder, local: true };
const safety = await SafetyChannel.load(source, SafetyMetaSchema.parse(steward.safety_channel));
const sentiment = await SentimentChannel.load(
  source,
  SentimentChannelMetaSchema.parse(steward.sentiment_channel),
);
// COLD dev.csv: the comment is the last field and holds no comma-quoted newlines in the lines read here.
const lines = readFileSync(join(args.data, 'cold_zh', 'dev.csv'), 'utf8')
  .split('\n')
  .slice(1)
  .map((row) => row.split(',').slice(4).join(','))
  .filter(Boolean)
  .slice(0, 3000);
const rounds = Number(args.rounds);
/** µs per line of `read` over every line, after one warm-up pass. */
const timed = (read: (line: string) => unknown) => {
  for (const line of lines) read(line);
  const started = performance.now();
  for (let r = 0; r < rounds; r++) for (const line of lines) read(line);
  return Number((((performance.now() - started) * 1000) / (rounds * lines.length)).toFixed(1));
};
const chars = lines.reduce((sum, l) => sum + Array.from(l).length, 0) / lines.length;
console.log(
  JSON.stringify({
    lines: lines.length,
    rounds,
    mean_chars: Math.round(chars),
    safety_us_per_line: timed((line) => safety.read(line)),
    sentiment_us_per_line: timed((line) => sentiment.logits(line)),
  }),
);
