/**
 * `npx tsx bench/context-eval.ts [--model DIR] [--limit N]`: what moderation in context (issue 14, item 5) changes.
 *
 * - Ordinary conversation (DailyDialog validation, every consecutive pair of turns): replies flagged with the
 *   parent known vs without it. Context may only add flags to echoes ("same to you", "+1") of flagged parents,
 *   so the difference is the false alerts it costs on benign chat.
 * - Echoes under offensive tweets (TweetEval offensive validation; the replies are the echo phrases of
 *   src/domain/context.ts, so this measures the mechanism, not a model): share of "same to you" / "+1" / "你也是"
 *   replies flagged with and without their parent, for offensive and for not-offensive parents.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalEngine } from '../models/runtime/local-engine.ts';
import { loadConfig } from '../src/config.ts';
import { defaultSettings } from '../src/domain/settings.ts';
import { createLogger } from '../src/logger.ts';
import { analyzeBatch } from '../worker/analyze.ts';

const { values } = parseArgs({
  options: {
    data: {
      type: 'string',
      default: process.env.STEWARD_DATASETS ?? join(import.meta.dirname, '..', '..', 'shared', 'datasets'),
    },
    model: { type: 'string' },
    limit: { type: 'string', default: '0' },
  },
});
const limit = Number(values.limit);
const cap = <T>(xs: T[]): T[] => (limit > 0 ? xs.slice(0, limit) : xs);

const env: Record<string, string> = { ...process.env } as Record<string, string>;
if (values.model) env.STEWARD_MODEL_SIGNALS = values.model;
const engine = new LocalEngine(loadConfig({ env }), createLogger({ level: 'warn' }), { reply: false });
await engine.start();
const settings = defaultSettings();

type Pair = { parent: string; text: string };
async function flaggedShare(pairs: Pair[], withParent: boolean): Promise<number> {
  let flagged = 0;
  for (let i = 0; i < pairs.length; i += 64) {
    const chunk = pairs.slice(i, i + 64);
    const out = await analyzeBatch(
      engine,
      chunk.map((p) => p.text),
      settings,
      withParent ? { parents: chunk.map((p) => p.parent) } : {},
    );
    flagged += out.filter((o) => o.analysis.moderation.flagged.length > 0).length;
  }
  return pairs.length === 0 ? 0 : (100 * flagged) / pairs.length;
}
const pct = (x: number) => `${x.toFixed(2)} %`;

const dialogues = readFileSync(join(values.data!, 'dailydialog', 'dialogues_validation.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => (JSON.parse(l) as { turns: Array<{ utterance: string }> }).turns.map((t) => t.utterance));
const chat = cap(
  dialogues.flatMap((turns) => turns.slice(1).map((text, i) => ({ parent: turns[i]!, text }))),
);
const [chatOff, chatOn] = [await flaggedShare(chat, false), await flaggedShare(chat, true)];
console.log(
  `DailyDialog validation, ${chat.length} reply pairs: flagged ${pct(chatOff)} without the parent, ${pct(chatOn)} with it`,
);

const dir = join(values.data!, 'tweeteval_offensive');
const tweets = readFileSync(join(dir, 'val_text.txt'), 'utf8').split('\n');
const labels = readFileSync(join(dir, 'val_labels.txt'), 'utf8').split('\n');
const byLabel = (l: string) => cap(tweets.filter((t, i) => labels[i]?.trim() === l && t.trim() !== ''));
for (const echo of ['same to you', '+1', '你也是']) {
  for (const [name, parents] of [
    ['offensive', byLabel('1')],
    ['not offensive', byLabel('0')],
  ] as const) {
    const pairs = parents.map((parent) => ({ parent, text: echo }));
    const [off, on] = [await flaggedShare(pairs, false), await flaggedShare(pairs, true)];
    console.log(
      `"${echo}" under ${parents.length} ${name} TweetEval validation tweets: flagged ${pct(off)} without the parent, ${pct(on)} with it`,
    );
  }
}
await engine.stop();
