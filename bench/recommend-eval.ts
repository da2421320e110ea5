/**
 * `npx tsx bench/recommend-eval.ts [--split validation|train] [--max N | --every N] [--keywords N]`
 *
 * Issue 11's recommendation target on self_dialogue: each conversation's two speakers are two members (one
 * speaker's lines = that member's history); the library is one item per topic folder with a one-line
 * description, written once by hand below (an admin's words, not tuned on the data). A member counts as right
 * when their conversation's topic is their top recommendation. The main figure runs `steward recommend`'s own
 * code (runRecommend over JSONL); the ablations rank the same profiles with one part of the score switched off,
 * and with other weights of the lexical part. Constants are chosen on `--split train --every 10` (every tenth
 * train conversation of each topic), never on validation. `--keywords N` appends N words per topic drawn from
 * the rest of train (bench/recommend-keywords.ts) to the items' one-line descriptions.
 */
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createThreadEngine } from '../models/runtime/index.ts';
import { runRecommend } from '../app/cli/recommend.ts';
import { loadConfig } from '../src/config.ts';
import type { LibraryItem } from '../src/domain/library.ts';
import { contentWords, foldMessage } from '../src/domain/profile.ts';
import { createLogger } from '../src/logger.ts';
import { Catalog } from '../worker/recommend/catalog.ts';
import { DefaultRankOptions, recommend } from '../worker/recommend/rank.ts';
import { withKeywords } from './recommend-keywords.ts';
import { selfDialogueConversations } from './samples.ts';

const DATA = process.env.STEWARD_DATASETS ?? join(import.meta.dirname, '..', '..', 'shared', 'datasets');

/** One line per topic folder, as an admin would describe a channel or resource. */
export const TOPIC_LIBRARY: LibraryItem[] = [
  [
    'disney',
    'Disney',
    'Disney animated films and their characters, Pixar, princesses, songs and the theme parks',
  ],
  ['fashion', 'Fashion', 'Clothes, style and outfits, designers, shoes, brands and what to wear'],
  ['icehockey', 'Ice hockey', 'The NHL: teams, players, games, goals, playoffs and the Stanley Cup'],
  ['movies', 'Movies', 'Films, actors, directors, cinema and what to watch next'],
  ['music', 'Music', 'Songs, albums, bands, singers, genres and concerts'],
].map(([id, title, text]) => ({ id: id!, title: title!, text: text!, topic: id!, kind: 'channel' as const }));

/** Conversations of the split's five library topics, with the upstream filtering rule (models/training/common.py). */
function conversations(split: string): Array<{ topic: string; lines: string[] }> {
  return selfDialogueConversations(
    join(DATA, 'self_dialogue'),
    split,
    TOPIC_LIBRARY.map((i) => i.id),
  );
}

async function main() {
  const { values } = parseArgs({
    options: {
      split: { type: 'string', default: 'validation' },
      max: { type: 'string' },
      every: { type: 'string' },
      keywords: { type: 'string' },
    },
  });
  const keywords = Number(values.keywords ?? 0);
  if (keywords > 0 && values.split === 'train' && values.every !== '10')
    throw new Error(
      '--keywords draws on train outside every 10th conversation: evaluate train with --every 10',
    );
  const library =
    keywords > 0 ? withKeywords(TOPIC_LIBRARY, conversations('train'), keywords) : TOPIC_LIBRARY;
  let convs = conversations(values.split!);
  if (values.every) {
    // Every Nth conversation of each topic: a slice spread over all of a topic's files.
    const n = Number(values.every);
    convs = TOPIC_LIBRARY.flatMap((t) => convs.filter((c) => c.topic === t.id).filter((_, i) => i % n === 0));
  } else if (values.max) {
    // An even spread over the topics when only part is wanted.
    const per = Math.ceil(Number(values.max) / TOPIC_LIBRARY.length);
    convs = TOPIC_LIBRARY.flatMap((t) => convs.filter((c) => c.topic === t.id).slice(0, per));
  }
  const members = convs.flatMap((c, i) =>
    [0, 1].map((side) => ({
      user: `${c.topic}/${i}/${side === 0 ? 'A' : 'B'}`,
      topic: c.topic,
      lines: c.lines.filter((_, j) => j % 2 === side),
    })),
  );
  const input = members.flatMap((m) => m.lines.map((text) => `${JSON.stringify({ user: m.user, text })}\n`));

  const config = loadConfig({ env: { ...process.env, LOG_LEVEL: 'silent' } });
  const engine = createThreadEngine(config, createLogger({ level: 'warn' }));
  await engine.start();
  const started = performance.now();
  const output = new PassThrough();
  const chunks: string[] = [];
  output.on('data', (c: Buffer) => chunks.push(c.toString()));
  await runRecommend({
    input: Readable.from(input),
    output,
    engine,
    library,
    json: true,
    each: false,
    limit: 1,
  });
  const seconds = (performance.now() - started) / 1000;
  const top = new Map<string, string>();
  for (const line of chunks.join('').split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as { user: string; recommendations: Array<{ id: string }> };
    if (r.recommendations[0]) top.set(r.user, r.recommendations[0].id);
  }
  const rows: Record<string, [number, number]> = {};
  let right = 0;
  for (const m of members) {
    const ok = top.get(m.user) === m.topic;
    right += ok ? 1 : 0;
    rows[m.topic] ??= [0, 0];
    const row = rows[m.topic]!;
    row[0] += ok ? 1 : 0;
    row[1] += 1;
  }
  const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)} %`;
  console.log(
    `self_dialogue ${values.split}: ${members.length} members (${convs.length} conversations, ${input.length} lines), library of ${library.length} topic items${keywords > 0 ? ` with ${keywords} keywords each from train` : ''}, ${seconds.toFixed(1)} s`,
  );
  console.log(`  topic is the top recommendation (steward recommend): ${pct(right, members.length)}`);
  for (const [topic, [a, b]] of Object.entries(rows))
    console.log(`    ${topic.padEnd(10)} ${pct(a, b)} of ${b}`);

  // Ablations: the same profiles (folded as the worker does), one part of the score at a time.
  const catalog = await Catalog.build(library, (texts) => engine.embed(texts));
  const vectors = await engine.embed(members.flatMap((m) => m.lines));
  let k = 0;
  const profiles = members.map((m) => {
    let p = null as ReturnType<typeof foldMessage> | null;
    for (const line of m.lines) {
      const words = contentWords(line);
      const vector = vectors[k++]!;
      // As Recommender.observe: a line without content words says nothing and is not folded in.
      if (words.length === 0) continue;
      p = foldMessage(p, { platform: 'local', workspaceId: 'eval', userId: m.user }, vector, words, 0);
    }
    return p;
  });
  for (const [name, lexicalWeight] of [
    ['embedding only', 0],
    ['words only', 1],
    [`both (default)`, DefaultRankOptions.lexicalWeight],
    ...[0.5, 0.6, 0.7, 0.8, 0.9].map((w) => [`lexical ${w}`, w] as const),
  ] as const) {
    const hits = members.filter(
      (m, i) =>
        recommend(catalog, { profile: profiles[i] ?? null }, { lexicalWeight, limit: 1 })[0]?.id === m.topic,
    );
    console.log(`  ablation, ${name.padEnd(15)} ${pct(hits.length, members.length)}`);
  }
  await engine.stop();
}

await main();
