import path from 'node:path';
import { LRUCache } from 'lru-cache';
import type { ReplyRequest, ReplyScore } from '../../src/engine.ts';
import { ChitchatBank, replyWords } from './bank.ts';
import {
  type CandidateFeatures,
  candidateFeatures,
  DefaultRankWeights,
  firstStage,
  modelScore,
  type RankWeights,
  typicalReplyWords,
} from './rank.ts';

/** The reply model's teacher-forced score of `candidates[i]` as the reply to `requests[i]` (engine.scoreReplies). */
export type ScoreReplies = (requests: ReplyRequest[], candidates: string[]) => Promise<ReplyScore[]>;

export interface ChitchatOptions {
  /** Pairs retrieved by BM25 over the bank's contexts. */
  retrieve: number;
  /** Best of them (by the retrieval-side score) that the reply model reads. */
  rerank: number;
  weights: RankWeights;
  /** Replies remembered per channel, never said again while remembered. */
  remember: number;
  /** Channels remembered (least recently used forgotten first). */
  channels: number;
  /** What the bank's pairs are from (shown in explanations); default the bank header's `source`. */
  source?: string;
}

export const DefaultChitchatOptions = Object.freeze({
  retrieve: 100,
  rerank: 20,
  weights: DefaultRankWeights,
  remember: 20,
  channels: 10_000,
}) satisfies Readonly<ChitchatOptions>;

/** One small-talk message to answer; `channel` (platform:workspace:channel) keys the no-repeat memory. */
export interface ChatJob {
  request: ReplyRequest;
  channel?: string;
}

/** Why a chit-chat reply was chosen, for explanations and `analyze --reply`'s `"chat"` field. */
export interface ChatExplanation {
  source: string;
  /** Pairs retrieved. */
  candidates: number;
  /** Of those, how many the reply model read. */
  reranked: number;
  /** The bank line the chosen reply originally answered. */
  matched?: string;
}

export interface ChatAnswer {
  /** Null when the bank has nothing for the message (the caller falls back to free generation). */
  text: string | null;
  chat: ChatExplanation;
}

interface Ranked {
  features: CandidateFeatures[];
  /** Indices into features, best first by the retrieval-side score, at most `rerank`. */
  shortlist: number[];
}

/**
 * Small talk answered with a human reply: BM25 over the bank's contexts finds what people answered to similar
 * lines, retrieval-side features (BM25, consensus among the candidates, topic overlap, length) shortlist them, and
 * the reply model re-ranks the shortlist by how likely it finds each reply after this conversation (and how much
 * more likely than after nothing). A channel never hears a remembered reply again.
 */
export class ChitchatReplies {
  readonly #bank: ChitchatBank;
  readonly #score: ScoreReplies;
  readonly #options: ChitchatOptions;
  readonly #typicalWords: number;
  readonly #recent: LRUCache<string, string[]>;
  /** The reply model's score of bank lines after an empty conversation (for the PMI feature). */
  readonly #alone = new LRUCache<number, ReplyScore>({ max: 100_000 });

  constructor(bank: ChitchatBank, score: ScoreReplies, options: Partial<ChitchatOptions> = {}) {
    this.#bank = bank;
    this.#score = score;
    this.#options = { ...DefaultChitchatOptions, ...options };
    this.#typicalWords = typicalReplyWords(bank);
    this.#recent = new LRUCache({ max: this.#options.channels });
  }

  /** Answers in input order; one scoring call for the whole batch. */
  async reply(jobs: ChatJob[]): Promise<ChatAnswer[]> {
    const ranked = jobs.map((job) => this.#rank(job));
    const rows: Array<{ job: number; candidate: number }> = [];
    ranked.forEach((r, job) => {
      for (const candidate of r.shortlist) rows.push({ job, candidate });
    });
    const candidates = rows.map((row) => this.#reply(ranked[row.job]!, row.candidate));
    const { weights } = this.#options;
    // A reply's score after nothing does not depend on the message: each bank line is scored once.
    const lines = rows.map((row) => ranked[row.job]!.features[row.candidate]!.index);
    const unseen = weights.pmi === 0 ? [] : [...new Set(lines.filter((i) => !this.#alone.has(i)))];
    const nothing: ReplyRequest = { text: '', context: [] };
    const scores =
      rows.length > 0
        ? await this.#score(
            [...rows.map((row) => jobs[row.job]!.request), ...unseen.map(() => nothing)],
            [...candidates, ...unseen.map((i) => this.#bank.pairs[i]!.reply)],
          )
        : [];
    unseen.forEach((line, k) => {
      this.#alone.set(line, scores[rows.length + k]!);
    });
    const best = new Array<{ candidate: number; score: number } | null>(jobs.length).fill(null);
    rows.forEach((row, k) => {
      const features = ranked[row.job]!.features[row.candidate]!;
      const given = scores[k]!;
      const alone = this.#alone.get(lines[k]!) ?? given;
      const score = firstStage(features, weights) + modelScore(given, alone, weights);
      const current = best[row.job];
      if (!current || score > current.score) best[row.job] = { candidate: row.candidate, score };
    });
    return jobs.map((job, i) => {
      const r = ranked[i]!;
      const chat: ChatExplanation = {
        source: this.#options.source ?? this.#bank.source ?? 'bank',
        candidates: r.features.length,
        reranked: r.shortlist.length,
      };
      const chosen = best[i];
      if (!chosen) return { text: null, chat };
      const pair = this.#bank.pairs[r.features[chosen.candidate]!.index]!;
      if (job.channel !== undefined) this.#remember(job.channel, pair.reply);
      return { text: pair.reply, chat: { ...chat, matched: pair.context } };
    });
  }

  /** Retrieval and the retrieval-side shortlist of one job (no model call). */
  #rank(job: ChatJob): Ranked {
    const { retrieve, rerank, weights } = this.#options;
    const text = job.request.text;
    const said = new Set(job.channel === undefined ? [] : (this.#recent.get(job.channel) ?? []));
    const echo = normalise(text);
    const hits = this.#bank
      .search(text, retrieve)
      .filter((h) => {
        const reply = normalise(this.#bank.pairs[h.index]!.reply);
        return reply !== echo && !said.has(reply);
      });
    const features = candidateFeatures(this.#bank, text, hits, this.#typicalWords);
    const shortlist = features
      .map((f, i) => ({ i, s: firstStage(f, weights) }))
      .sort((a, b) => b.s - a.s)
      .slice(0, rerank)
      .map((x) => x.i);
    return { features, shortlist };
  }

  #reply(ranked: Ranked, candidate: number): string {
    return this.#bank.pairs[ranked.features[candidate]!.index]!.reply;
  }

  #remember(channel: string, reply: string): void {
    const list = [...(this.#recent.get(channel) ?? []), normalise(reply)];
    this.#recent.set(channel, list.slice(-this.#options.remember));
  }
}

function normalise(text: string): string {
  return replyWords(text).join(' ');
}

/**
 * The chit-chat replies of a bank setting (a path, or "off" for none), scoring with `score`. Paths are read
 * relative to the working directory, like model folders. A bank that cannot be read or is malformed throws a
 * ChitchatBankError naming it: the process should not start and silently chat worse.
 */
export async function loadChitchat(
  setting: string,
  score: ScoreReplies,
  options: Partial<ChitchatOptions> = {},
): Promise<ChitchatReplies | null> {
  if (setting.trim().toLowerCase() === 'off') return null;
  return new ChitchatReplies(await ChitchatBank.load(path.resolve(setting)), score, options);
}

/** Adapts the chit-chat replies to GroundedReplies' chat hook (a reply job's request and channel). */
export function chatRepliesOf(
  chitchat: ChitchatReplies,
): (jobs: Array<{ request: ReplyRequest; channel?: string }>) => Promise<ChatAnswer[]> {
  return (jobs) =>
    chitchat.reply(
      jobs.map((job) => ({ request: job.request, ...(job.channel !== undefined ? { channel: job.channel } : {}) })),
    );
}
