/**
 * `npm run eval:chitchat` (= `npx tsx bench/chitchat-eval.ts [--n 1000] [--seed 7] [--dump FILE]`)
 *
 * Issue 10 part 3: small talk answered from the chit-chat bank (worker/chitchat) versus free generation and a
 * TF-IDF nearest-context baseline, all in one run, on self_dialogue **validation** (N samples drawn with a fixed
 * seed; the message is a line, the 2 lines before it are the context, the human reply is the line after it).
 * Reports unigram F1 against the human reply for each system, distinct-2 of the system's replies, and the
 * chit-chat latency (one message at a time, retrieval + rerank) p50/p90. The messages are answered in order as one
 * channel, so the per-channel memory (a remembered reply is not said again, its word pairs count against a
 * candidate) is at work as in a busy channel; `--no-memory` answers each in a channel of its own. Writes 50 random
 * (context, message, reply, human) samples to --dump for reading.
 *
 * `--tune`: the same measures on the train conversations held out from the bank (`--split train-heldout`), with
 * every retrieved candidate scored once by the model, then a coordinate search over the rank weights. The shipped
 * weights (worker/chitchat/rank.ts) come from there, never from validation.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalEngine } from '../models/runtime/local-engine.ts';
import { loadConfig } from '../src/config.ts';
import type { ReplyRequest, ReplyScore } from '../src/engine.ts';
import { createLogger } from '../src/logger.ts';
import { ChitchatBank } from '../worker/chitchat/bank.ts';
import {
  type CandidateFeatures,
  candidateFeatures,
  DefaultRankWeights,
  firstStage,
  modelScore,
  type RankWeights,
  shortlistOf,
  typicalReplyWords,
  wordPairs,
} from '../worker/chitchat/rank.ts';
import { ChitchatReplies, DefaultChitchatOptions } from '../worker/chitchat/replies.ts';
import { normaliseReply } from '../worker/chitchat/shortlist.ts';
import { distinctN, loadSamples, type Sample, TfidfNearest, turnsOf, unigramF1 } from './chitchat-data.ts';
import { percentile, round, seededRandom, shuffle } from './stats.ts';

const WORK = join(import.meta.dirname, '..', 'models', 'training', 'work', 'chitchat');
const BANK = join(import.meta.dirname, '..', 'models', 'bundled', 'chitchat', 'bank.jsonl.gz');

const requestOf = (s: Sample): ReplyRequest => ({ text: s.message, context: turnsOf(s) });
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function main() {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '7' },
      split: { type: 'string' },
      tune: { type: 'boolean', default: false },
      dump: { type: 'string', default: join(dirname(BANK), 'eval-samples.jsonl') },
      'no-generation': { type: 'boolean', default: false },
      'min-distinct2': { type: 'string', default: '0' },
      rerank: { type: 'string', default: String(DefaultChitchatOptions.rerank) },
      'no-model': { type: 'boolean', default: false },
      'no-memory': { type: 'boolean', default: false },
      'score-shortlist': { type: 'string', default: '0' },
    },
  });
  const split = (values.split ?? (values.tune ? 'train-heldout' : 'validation')) as
    | 'validation'
    | 'train-heldout';
  const n = Number(values.n);
  const seed = Number(values.seed);
  const samples = loadSamples(split, n, seed);
  const t0 = performance.now();
  const bank = await ChitchatBank.load(BANK);
  console.error(
    `bank: ${bank.pairs.length} pairs, loaded and indexed in ${Math.round(performance.now() - t0)} ms`,
  );
  const config = loadConfig({ env: { ...process.env, LOG_LEVEL: 'silent' } });
  const engine = new LocalEngine(config, createLogger({ level: 'warn' }));
  await engine.start();
  const score = (requests: ReplyRequest[], candidates: string[]) => engine.scoreReplies(requests, candidates);
  try {
    const baseline = new TfidfNearest(bank);
    const baselineF1 = mean(samples.map((s) => unigramF1(baseline.reply(s.message), s.human)));
    const out: Record<string, unknown> = { split, n: samples.length, seed, bankPairs: bank.pairs.length };
    out.baselineF1 = round(baselineF1, 4);
    if (values.tune) {
      Object.assign(
        out,
        await tune(
          bank,
          samples,
          values['no-model'] ? null : score,
          Number(values['min-distinct2']),
          Number(values.rerank),
          values['no-memory'] ? 0 : DefaultChitchatOptions.remember,
          Number(values['score-shortlist']),
        ),
      );
    } else {
      const chitchat = ChitchatReplies.of(bank, score);
      const replies: string[] = [];
      const ms: number[] = [];
      // One channel, messages in order (the per-channel memory at work); --no-memory: each its own channel.
      for (const [k, s] of samples.entries()) {
        const started = performance.now();
        const channel = values['no-memory'] ? `eval:${k}` : 'eval';
        const [answer] = await chitchat.reply([{ request: requestOf(s), channel }]);
        ms.push(performance.now() - started);
        replies.push(answer!.text ?? '');
      }
      const systemF1 = mean(samples.map((s, i) => unigramF1(replies[i]!, s.human)));
      out.systemF1 = round(systemF1, 4);
      out.vsBaseline = round(systemF1 / baselineF1, 3);
      out.distinct2 = round(distinctN(replies, 2), 3);
      out.humanDistinct2 = round(
        distinctN(
          samples.map((s) => s.human),
          2,
        ),
        3,
      );
      out.latencyP50Ms = round(percentile(ms, 50), 1);
      out.latencyP90Ms = round(percentile(ms, 90), 1);
      if (!values['no-generation']) {
        const generated = await engine.reply(samples.map(requestOf));
        out.generationF1 = round(mean(samples.map((s, i) => unigramF1(generated[i]!, s.human))), 4);
        out.generationDistinct2 = round(distinctN(generated, 2), 3);
      }
      const picked = shuffle(
        samples.map((s, i) => ({
          context: s.context,
          message: s.message,
          reply: replies[i],
          human: s.human,
        })),
        seededRandom(seed + 1),
      ).slice(0, 50);
      mkdirSync(dirname(values.dump!), { recursive: true });
      writeFileSync(values.dump!, `${picked.map((p) => JSON.stringify(p)).join('\n')}\n`);
      out.dump = values.dump;
    }
    console.log(JSON.stringify(out));
  } finally {
    await engine.stop();
  }
}

interface Scored {
  human: string;
  replies: string[];
  features: CandidateFeatures[];
  given: ReplyScore[];
  alone: ReplyScore[];
}

/** Scores every candidate of every sample once, then searches the weights coordinate by coordinate. */
async function tune(
  bank: ChitchatBank,
  samples: Sample[],
  /** null: the retrieval-side features only (lm and pmi held at 0; no model call). */
  score: ((requests: ReplyRequest[], candidates: string[]) => Promise<ReplyScore[]>) | null,
  minDistinct2: number,
  rerank: number,
  remember: number,
  /**
   * > 0: only the best `scoreShortlist` candidates by the shipped retrieval-side weights are kept and scored by
   * the model, and only lm and pmi are searched (the rest stay as shipped): a quick look at the model's weight.
   */
  scoreShortlist = 0,
): Promise<Record<string, unknown>> {
  const typical = typicalReplyWords(bank);
  const aloneCache = new Map<number, ReplyScore>();
  // Model scores are the slow part and do not depend on the weights: kept between runs (same split, n, seed, bank).
  const cacheFile = join(
    WORK,
    `tune-scores-${samples.length}${scoreShortlist > 0 ? `-top${scoreShortlist}` : ''}.json`,
  );
  const cached = existsSync(cacheFile)
    ? (JSON.parse(readFileSync(cacheFile, 'utf8')) as Array<Record<string, [ReplyScore, ReplyScore]>>)
    : [];
  const scored: Scored[] = [];
  for (const [n, s] of samples.entries()) {
    const echo = normaliseReply(s.message);
    const hits = bank
      .search(s.message, DefaultChitchatOptions.retrieve)
      .filter((h) => normaliseReply(bank.pairs[h.index]!.reply) !== echo);
    const all = candidateFeatures(bank, s.message, hits, typical);
    const features =
      scoreShortlist > 0 ? shortlistOf(all, DefaultRankWeights, scoreShortlist).map((i) => all[i]!) : all;
    const replies = features.map((f) => bank.pairs[f.index]!.reply);
    const hit = cached[n];
    if (score === null) {
      const none = features.map(() => ({ logProb: 0, tokens: 1 }));
      scored.push({ human: s.human, replies, features, given: none, alone: none });
      continue;
    }
    if (hit && features.every((f) => hit[f.index])) {
      const rows = features.map((f) => hit[f.index]!);
      scored.push({
        human: s.human,
        replies,
        features,
        given: rows.map((r) => r[0]),
        alone: rows.map((r) => r[1]),
      });
      continue;
    }
    const given = await score(
      replies.map(() => requestOf(s)),
      replies,
    );
    const missing = features.filter((f) => !aloneCache.has(f.index));
    const alone = await score(
      missing.map(() => ({ text: '', context: [] })),
      missing.map((f) => bank.pairs[f.index]!.reply),
    );
    missing.forEach((f, k) => {
      aloneCache.set(f.index, alone[k]!);
    });
    scored.push({
      human: s.human,
      replies,
      features,
      given,
      alone: features.map((f) => aloneCache.get(f.index)!),
    });
  }
  mkdirSync(WORK, { recursive: true });
  if (score !== null)
    writeFileSync(
      cacheFile,
      JSON.stringify(
        scored.map((s) => Object.fromEntries(s.features.map((f, i) => [f.index, [s.given[i], s.alone[i]]]))),
      ),
    );
  // Word pairs and normalised text of every candidate, once (measure runs hundreds of times).
  const pairsOf = scored.map((s) => s.replies.map((r) => wordPairs(r)));
  const keysOf = scored.map((s) => s.replies.map((r) => normaliseReply(r)));
  /**
   * Unigram F1 of the replies chosen under `w`, and their distinct-2 (per 1,000 replies, averaged). The samples
   * are answered in order as one channel, as ChitchatReplies does: the last `remember` replies are never said
   * again and their word pairs count against a candidate (`repeat`).
   */
  const measure = (w: RankWeights) => {
    const recent: Array<{ key: string; pairs: string[] }> = [];
    const heard = new Map<string, number>();
    const said = new Map<string, number>();
    const bump = (map: Map<string, number>, key: string, by: number) => {
      const n = (map.get(key) ?? 0) + by;
      if (n === 0) map.delete(key);
      else map.set(key, n);
    };
    const chosen = scored.map((s, n) => {
      const open = s.features.flatMap((f, i) => {
        if (said.has(keysOf[n]![i]!)) return [];
        const pairs = pairsOf[n]![i]!;
        const share = pairs.length === 0 ? 0 : pairs.filter((p) => heard.has(p)).length / pairs.length;
        return [{ i, f: { ...f, repeat: -share } }];
      });
      if (open.length === 0) return '';
      const shortlist = shortlistOf(
        open.map((o) => o.f),
        w,
        rerank,
      );
      let best = shortlist[0]!;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (const k of shortlist) {
        const i = open[k]!.i;
        const total = firstStage(open[k]!.f, w) + modelScore(s.given[i]!, s.alone[i]!, w);
        if (total > bestScore) {
          bestScore = total;
          best = k;
        }
      }
      const i = open[best]!.i;
      if (remember > 0) {
        const entry = { key: keysOf[n]![i]!, pairs: [...new Set(pairsOf[n]![i]!)] };
        recent.push(entry);
        bump(said, entry.key, 1);
        for (const p of entry.pairs) bump(heard, p, 1);
        if (recent.length > remember) {
          const gone = recent.shift()!;
          bump(said, gone.key, -1);
          for (const p of gone.pairs) bump(heard, p, -1);
        }
      }
      return s.replies[i]!;
    });
    return {
      f1: mean(chosen.map((reply, i) => unigramF1(reply, scored[i]!.human))),
      distinct2: mean(
        Array.from({ length: Math.ceil(chosen.length / 1000) }, (_, k) =>
          distinctN(chosen.slice(k * 1000, (k + 1) * 1000), 2),
        ),
      ),
    };
  };
  // The objective: F1, with replies at least as varied as `minDistinct2` (a bank of human lines can reach a high
  // F1 by always choosing the same safe line; a member would see that).
  const f1Of = (w: RankWeights) => {
    const m = measure(w);
    return m.f1 - 10 * Math.max(0, minDistinct2 - m.distinct2);
  };
  const only = (key: keyof RankWeights, values: number[]) =>
    scoreShortlist > 0 && key !== 'lm' && key !== 'pmi' ? [DefaultRankWeights[key]] : values;
  const grid: Record<keyof RankWeights, number[]> = {
    bm25: only('bm25', [0, 0.25, 0.5, 1, 2, 4]),
    consensus: only('consensus', [0, 2, 4, 8, 16, 32, 64, 128, 256]),
    agreement: only('agreement', [0, 1, 2, 4, 8, 16, 32, 64, 128, 256]),
    centroid: only('centroid', [0, 1, 2, 4, 8, 16, 32, 64]),
    topic: only('topic', [0, 0.25, 0.5, 1, 2, 4, 8]),
    length: only('length', [0, 0.1, 0.3, 1]),
    rare: only('rare', [0, 1, 2, 4, 8, 16]),
    repeat: only('repeat', remember === 0 ? [0] : [0, 2, 4, 8, 12, 16, 24, 32]),
    lm: only('lm', score === null ? [0] : [0, 0.1, 0.3, 1, 3, 10, 30]),
    pmi: only('pmi', score === null ? [0] : [0, 0.1, 0.3, 1, 3, 10, 30]),
  };
  let best: RankWeights = { ...DefaultRankWeights, ...(score === null ? { lm: 0, pmi: 0 } : {}) };
  let bestF1 = f1Of(best);
  const start = measure(best).f1;
  for (let pass = 0; pass < 4; pass++) {
    let moved = false;
    for (const key of Object.keys(grid) as Array<keyof RankWeights>) {
      for (const value of grid[key]) {
        const f1 = f1Of({ ...best, [key]: value });
        if (f1 > bestF1 + 1e-9) {
          best = { ...best, [key]: value };
          bestF1 = f1;
          moved = true;
        }
      }
    }
    console.error(`pass ${pass + 1}: F1 ${bestF1.toFixed(4)} with ${JSON.stringify(best)}`);
    if (!moved) break;
  }
  const ablations = {
    retrievalOnly: measure({ ...best, lm: 0, pmi: 0 }),
    noConsensus: measure({ ...best, consensus: 0, agreement: 0, centroid: 0 }),
    bm25Only: measure({
      bm25: 1,
      consensus: 0,
      agreement: 0,
      centroid: 0,
      topic: 0,
      length: 0,
      rare: 0,
      repeat: 0,
      lm: 0,
      pmi: 0,
    }),
  };
  const tuned = measure(best);
  return {
    minDistinct2,
    rerank,
    remember,
    defaultWeightsF1: round(start, 4),
    tunedF1: round(tuned.f1, 4),
    tunedDistinct2: round(tuned.distinct2, 3),
    tunedWeights: best,
    ablations: Object.fromEntries(
      Object.entries(ablations).map(([k, v]) => [
        k,
        { f1: round(v.f1, 4), distinct2: round(v.distinct2, 3) },
      ]),
    ),
  };
}

await main();
