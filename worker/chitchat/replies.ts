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
  shortlistOf,
  typicalReplyWords,
  wordPairs,
} from './rank.ts';

/** The reply model's teacher-forced score of `candidates[i]` as the reply to `requests[i]` (engine.scoreReplies). */
export type ScoreReplies = (requests: ReplyRequest[], candidates: string[]) => Promise<ReplyScore[]>;

export interface ChitchatOptions {
  /** Pairs retrieved by BM25 over the bank's contexts. */
  retrieve: number;
  /** Best of them (by the retrieval-side score) that the reply model reads. */
  rerank: number;
  weights: RankWeights;
  /**
   * Replies remembered per channel: never said again while remembered, and their word pairs count against a
   * candidate (the `repeat` feature), so one channel does not hear the same phrasing over and over.
   */
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
  remember: 100,
  channels: 5_000,
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

  constructor(bank: ChitchatBank, score: ScoreReplies, options: Partial<ChitchatOptions> = {}) {
    this.#bank = bank;
    this.#score = score;
    this.#options = { ...DefaultChitchatOptions, ...options };
    this.#typicalWords = typicalReplyWords(bank);
    this.#recent = new LRUCache({ max: this.#options.channels });
  }

  /**
   * Answers in input order. Each job's shortlist is scored in a call of its own, always the same rows (after the
   * conversation, then after nothing): int8 activations are quantized per batch, so rows sharing a batch with other
   * messages' rows would score slightly differently, and a near-tie could then flip between a retry and the first try.
   */
  async reply(jobs: ChatJob[]): Promise<ChatAnswer[]> {
    const ranked = jobs.map((job) => this.#rank(job));
    const { weights } = this.#options;
    const nothing: ReplyRequest = { text: '', context: [] };
    const best = new Array<{ candidate: number; score: number } | null>(jobs.length).fill(null);
    for (const [i, r] of ranked.entries()) {
      if (r.shortlist.length === 0) continue;
      const candidates = r.shortlist.map((c) => this.#reply(r, c));
      const alone = weights.pmi === 0 ? [] : candidates;
      const scores = await this.#score(
        [...candidates.map(() => jobs[i]!.request), ...alone.map(() => nothing)],
        [...candidates, ...alone],
      );
      r.shortlist.forEach((candidate, k) => {
        const given = scores[k]!;
        const score =
          firstStage(r.features[candidate]!, weights) +
          modelScore(given, scores[candidates.length + k] ?? given, weights);
        const current = best[i];
        if (!current || score > current.score) best[i] = { candidate, score };
      });
    }
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
    const recent = job.channel === undefined ? [] : (this.#recent.get(job.channel) ?? []);
    const said = new Set(recent.map(normalise));
    const echo = normalise(text);
    const hits = this.#bank
      .search(text, retrieve)
      .filter((h) => {
        const reply = normalise(this.#bank.pairs[h.index]!.reply);
        return reply !== echo && !said.has(reply);
      });
    const heard = new Set(recent.flatMap((reply) => wordPairs(reply)));
    const features = candidateFeatures(this.#bank, text, hits, this.#typicalWords, heard);
    return { features, shortlist: shortlistOf(features, weights, rerank) };
  }

  #reply(ranked: Ranked, candidate: number): string {
    return this.#bank.pairs[ranked.features[candidate]!.index]!.reply;
  }

  #remember(channel: string, reply: string): void {
    const list = [...(this.#recent.get(channel) ?? []), reply];
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

/** Adapts the chit-chat replies to GroundedReplies' chat hook (a reply job carries the request and channel). */
export function chatRepliesOf(chitchat: ChitchatReplies): (jobs: ChatJob[]) => Promise<ChatAnswer[]> {
  return (jobs) => chitchat.reply(jobs);
}
