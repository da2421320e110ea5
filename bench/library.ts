/**
 * Issue 10's latency figures, run by `npm run bench` (after the model phase) or alone:
 * `npx tsx bench/library.ts [--items 100000] [--quick]`.
 *
 * - retrieval: hybrid search (minisearch BM25 + clustered embedding search) over a 100,000-item library. Item
 *   texts are Self-dialogue lines (real words for BM25); embedding 100,000 × 17 passages would take hours on
 *   2 cores, so the vectors are 2,000 real embeddings of such lines, each shared by 50 items with small noise
 *   added (realistic clusters for the inverted file). Queries are other real lines, embedded for real.
 * - reply with retrieval: one request at a time through GroundedReplies (retrieve → plan → generate up to 20
 *   tokens → finish), the bundled models, a small library the questions are about.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalEngine } from '../models/runtime/local-engine.ts';
import { type Config, loadConfig } from '../src/config.ts';
import type { LibraryItem } from '../src/domain/library.ts';
import { createLogger } from '../src/logger.ts';
import { generateReplies } from '../worker/analyze.ts';
import { DefaultGroundingOptions } from '../worker/library/answer.ts';
import { bundledBackground, LibraryIndex, NULL_LINES } from '../worker/library/index.ts';
import { GroundedReplies } from '../worker/library/replies.ts';
import { LibraryIndexes } from '../worker/library/sync.ts';
import { MemoryStore } from '../src/store/memory.ts';
import { loadSamples } from './samples.ts';

export interface LibraryFigures {
  library_items: number;
  retrieval_p50_ms: number;
  retrieval_p99_ms: number;
  library_index_build_s: number;
  /** One-off after each library change: the null lines searched for the library-relative threshold. */
  library_cutoff_ms: number;
  reply_with_retrieval_p50_ms: number | null;
  reply_with_retrieval_p90_ms: number | null;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100;
};

/** Deterministic small Gaussian-ish noise. */
function noisy(v: Float32Array, seed: number): Float32Array {
  let x = seed >>> 0 || 1;
  const out = new Float32Array(v.length);
  let norm = 0;
  for (let i = 0; i < v.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = v[i]! + (x / 2 ** 32 - 0.5) * 0.1;
    norm += out[i]! * out[i]!;
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < v.length; i++) out[i]! /= norm;
  return out;
}

const QA: Array<[LibraryItem, string]> = [
  [
    {
      id: 'meetup',
      title: 'Monthly meetup',
      text: 'We meet on the first Friday of every month at 6pm in the Central Library, room 3.',
      kind: 'event',
    },
    'when is the monthly meetup?',
  ],
  [
    {
      id: 'help',
      title: 'Where to ask for help',
      text: 'Post coding questions in #help with your error message and what you tried.',
      kind: 'channel',
    },
    'where do I ask for help with code?',
  ],
  [
    {
      id: 'donate',
      title: 'Donations',
      text: 'Support the server through our Open Collective page; every cent pays for hosting.',
      kind: 'faq',
      url: 'https://example.org/donate',
    },
    'how can I donate to the server?',
  ],
];

export async function runLibraryBench(options: {
  config: Config;
  items?: number;
  quick?: boolean;
  say?: (line: string) => void;
}): Promise<LibraryFigures> {
  const say = options.say ?? (() => {});
  const count = options.items ?? (options.quick ? 20_000 : 100_000);
  const logger = createLogger({ level: 'warn' });
  const engine = new LocalEngine(options.config, logger);
  await engine.start();
  try {
    const lines = loadSamples(4_000).texts;
    const base = lines.slice(0, 2_000);
    const queries = lines.slice(2_000, 2_200);
    const vectors: Float32Array[] = [];
    for (let i = 0; i < base.length; i += 64)
      vectors.push(...(await engine.embedSearch(base.slice(i, i + 64))));
    const queryVectors: Float32Array[] = [];
    for (let i = 0; i < queries.length; i += 64)
      queryVectors.push(...(await engine.embedSearch(queries.slice(i, i + 64))));

    const t0 = performance.now();
    const index = new LibraryIndex();
    for (let i = 0; i < count; i++) {
      const j = i % base.length;
      const item: LibraryItem = { id: `item-${i}`, title: `Item ${i}`, text: base[j]!, kind: 'faq' };
      index.upsert(item, noisy(vectors[j]!, i + 1));
    }
    index.search(queries[0]!, queryVectors[0]!, 3); // builds the clusters
    const buildS = (performance.now() - t0) / 1000;
    const times: number[] = [];
    for (let round = 0; round < 2; round++) {
      queries.forEach((q, k) => {
        const started = performance.now();
        index.search(q, queryVectors[k]!, 3);
        if (round === 1) times.push(performance.now() - started);
      });
    }
    // The library-relative threshold (LibraryIndex.cutoff): paid once after each change, by the next request.
    const nullLines = bundledBackground().slice(0, NULL_LINES);
    index.useNullQueries(nullLines, await engine.embedSearch([...nullLines]));
    const cutoffStarted = performance.now();
    index.cutoff(DefaultGroundingOptions.quantile);
    const cutoffMs = Math.round(performance.now() - cutoffStarted);
    const figures: LibraryFigures = {
      library_items: count,
      retrieval_p50_ms: pct(times, 50),
      retrieval_p99_ms: pct(times, 99),
      library_index_build_s: Math.round(buildS * 10) / 10,
      library_cutoff_ms: cutoffMs,
      reply_with_retrieval_p50_ms: null,
      reply_with_retrieval_p90_ms: null,
    };
    say(
      `  library retrieval over ${count} items: p50 ${figures.retrieval_p50_ms} ms, p99 ${figures.retrieval_p99_ms} ms (target p50 ≤ 5); index built in ${figures.library_index_build_s} s, threshold after a change ${cutoffMs} ms`,
    );

    const store = new MemoryStore();
    await store.start();
    await store.putLibraryItems(
      'local',
      'bench',
      QA.map(([item]) => item),
    );
    const embed = (texts: string[]) => engine.embedSearch(texts);
    const replies = new GroundedReplies(new LibraryIndexes(store, embed), embed, (requests) =>
      generateReplies(engine, requests),
    );
    const replyTimes: number[] = [];
    const rounds = options.quick ? 6 : 20;
    for (let i = 0; i < rounds + 2; i++) {
      const question = QA[i % QA.length]![1];
      const started = performance.now();
      await replies.reply([
        {
          platform: 'local',
          workspaceId: 'bench',
          request: { text: question, context: [] },
          reason: 'mention',
        },
      ]);
      if (i >= 2) replyTimes.push(performance.now() - started);
    }
    await store.stop();
    figures.reply_with_retrieval_p50_ms = pct(replyTimes, 50);
    figures.reply_with_retrieval_p90_ms = pct(replyTimes, 90);
    say(
      `  reply with retrieval (≤ ${options.config.worker.maxReplyTokens} tokens): p50 ${figures.reply_with_retrieval_p50_ms} ms, p90 ${figures.reply_with_retrieval_p90_ms} ms (target p50 ≤ 150)`,
    );
    return figures;
  } finally {
    await engine.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { items: { type: 'string' }, quick: { type: 'boolean', default: false } },
  });
  process.chdir(join(import.meta.dirname, '..'));
  const config = loadConfig({ overrides: { 'worker.maxReplyTokens': 20 } });
  const figures = await runLibraryBench({
    config,
    quick: values.quick === true,
    say: (l) => console.log(l),
    ...(values.items ? { items: Number(values.items) } : {}),
  });
  console.log(JSON.stringify(figures));
}
