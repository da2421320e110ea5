import path from 'node:path';
import { LRUCache } from 'lru-cache';
import type { ReplyRequest, ReplyScore } from '../../src/engine.ts';
import type { Logger } from '../../src/logger.ts';
import { ChitchatBank } from './bank.ts';
import { firstStage, modelScore } from './rank.ts';
import {
  BankShortlister,
  type ChitchatShortlister,
  DefaultShortlistOptions,
  type ShortlistOptions,
} from './shortlist.ts';
import { ThreadShortlister } from './thread.ts';

/** The reply model's teacher-forced score of `candidates[i]` as the reply to `requests[i]` (engine.scoreReplies). */
export type ScoreReplies = (requests: ReplyRequest[], candidates: string[]) => Promise<ReplyScore[]>;

export interface ChitchatOptions extends ShortlistOptions {
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
  ...DefaultShortlistOptions,
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

/**
 * Small talk answered with a human reply: BM25 over the bank's contexts finds what people answered to similar
 * lines, retrieval-side features (BM25, consensus among the candidates, topic overlap, length) shortlist them, and
 * the reply model re-ranks the shortlist by how likely it finds each reply after this conversation (and how much
 * more likely than after nothing). A channel never hears a remembered reply again.
 */
export class ChitchatReplies {
  readonly #shortlister: ChitchatShortlister;
  readonly #score: ScoreReplies;
  readonly #options: ChitchatOptions;
  readonly #recent: LRUCache<string, string[]>;

  /** `shortlister` reads the bank (in this thread or its own); the options' retrieval part is the shortlister's. */
  constructor(shortlister: ChitchatShortlister, score: ScoreReplies, options: Partial<ChitchatOptions> = {}) {
    this.#shortlister = shortlister;
    this.#score = score;
    this.#options = { ...DefaultChitchatOptions, ...options };
    this.#recent = new LRUCache({ max: this.#options.channels });
  }

  /** Chit-chat over a bank read in this thread. */
  static of(bank: ChitchatBank, score: ScoreReplies, options: Partial<ChitchatOptions> = {}): ChitchatReplies {
    return new ChitchatReplies(new BankShortlister(bank, options), score, options);
  }

  /**
   * Answers in input order. Each job's shortlist is scored in a call of its own, always the same rows (after the
   * conversation, then after nothing): int8 activations are quantized per batch, so rows sharing a batch with other
   * messages' rows would score slightly differently, and a near-tie could then flip between a retry and the first try.
   */
  async reply(jobs: ChatJob[]): Promise<ChatAnswer[]> {
    const lists = await Promise.all(
      jobs.map((job) =>
        this.#shortlister.shortlist(
          job.request.text,
          job.channel === undefined ? [] : (this.#recent.get(job.channel) ?? []),
        ),
      ),
    );
    const { weights } = this.#options;
    const nothing: ReplyRequest = { text: '', context: [] };
    const best = new Array<{ candidate: number; score: number } | null>(jobs.length).fill(null);
    for (const [i, list] of lists.entries()) {
      if (list.candidates.length === 0) continue;
      const candidates = list.candidates.map((c) => c.reply);
      const alone = weights.pmi === 0 ? [] : candidates;
      const scores = await this.#score(
        [...candidates.map(() => jobs[i]!.request), ...alone.map(() => nothing)],
        [...candidates, ...alone],
      );
      list.candidates.forEach((c, k) => {
        const given = scores[k]!;
        const score =
          firstStage(c.features, weights) + modelScore(given, scores[candidates.length + k] ?? given, weights);
        const current = best[i];
        if (!current || score > current.score) best[i] = { candidate: k, score };
      });
    }
    return jobs.map((job, i) => {
      const list = lists[i]!;
      const chat: ChatExplanation = {
        source: this.#options.source ?? this.#shortlister.source ?? 'bank',
        candidates: list.retrieved,
        reranked: list.candidates.length,
      };
      const chosen = best[i];
      if (!chosen) return { text: null, chat };
      const { reply, context } = list.candidates[chosen.candidate]!;
      if (job.channel !== undefined) this.#remember(job.channel, reply);
      return { text: reply, chat: { ...chat, matched: context } };
    });
  }

  /** Ends the shortlister's thread, if it has one. */
  close(): Promise<void> {
    return this.#shortlister.close();
  }

  #remember(channel: string, reply: string): void {
    const list = [...(this.#recent.get(channel) ?? []), reply];
    this.#recent.set(channel, list.slice(-this.#options.remember));
  }
}

/**
 * The chit-chat replies of a bank setting (a path, or "off" for none), scoring with `score`. Paths are read
 * relative to the working directory, like model folders. A bank that cannot be read or is malformed throws a
 * ChitchatBankError naming it: the process should not start and silently chat worse. `thread: true` reads the
 * bank in a worker thread of its own (what a long-running worker wants: its main heap, and every major GC of it,
 * then does without the bank's ~90 MB of pairs and index); close() ends it.
 */
export async function loadChitchat(
  setting: string,
  score: ScoreReplies,
  options: Partial<ChitchatOptions> & { thread?: boolean; logger?: Logger } = {},
): Promise<ChitchatReplies | null> {
  if (setting.trim().toLowerCase() === 'off') return null;
  const { thread, logger, ...rest } = options;
  const file = path.resolve(setting);
  const shortlister = thread
    ? await ThreadShortlister.start(file, rest, logger)
    : new BankShortlister(await ChitchatBank.load(file), rest);
  return new ChitchatReplies(shortlister, score, rest);
}

/** Adapts the chit-chat replies to GroundedReplies' chat hook (a reply job carries the request and channel). */
export function chatRepliesOf(chitchat: ChitchatReplies): (jobs: ChatJob[]) => Promise<ChatAnswer[]> {
  return (jobs) => chitchat.reply(jobs);
}
