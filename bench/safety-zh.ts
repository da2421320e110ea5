/**
 * `npx tsx bench/safety-zh.ts [--data DIR] [--rounds 3]` — what the signals model's Chinese safety channel
 * (models/runtime/safety-zh.ts) costs per Chinese message: every read of COLD dev comments (the first 3,000), after
 * one warm-up pass, in µs per line. The channel runs on the engine thread for each Chinese message.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SafetyChannel, SafetyMetaSchema } from '../models/runtime/safety-zh.ts';
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
if (!steward.safety_channel) throw new Error(`${folder}: config.json names no safety_channel`);
const meta = SafetyMetaSchema.parse(steward.safety_channel);
const channel = await SafetyChannel.load({ role: 'signals', location: folder, local: true }, meta);
// COLD dev.csv: the comment is the last field and holds no comma-quoted newlines in the lines read here.
const lines = readFileSync(join(args.data, 'cold_zh', 'dev.csv'), 'utf8')
  .split('\n')
  .slice(1)
  .map((row) => row.split(',').slice(4).join(','))
  .filter(Boolean)
  .slice(0, 3000);
for (const line of lines) channel.read(line);
const rounds = Number(args.rounds);
const started = performance.now();
for (let r = 0; r < rounds; r++) for (const line of lines) channel.read(line);
const us = ((performance.now() - started) * 1000) / (rounds * lines.length);
const chars = lines.reduce((sum, l) => sum + Array.from(l).length, 0) / lines.length;
console.log(
  JSON.stringify({
    lines: lines.length,
    rounds,
    mean_chars: Math.round(chars),
    us_per_line: Number(us.toFixed(1)),
  }),
);
