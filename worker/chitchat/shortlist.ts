import type { ChitchatBank } from './bank.ts';
import { replyWords } from './bank.ts';
import {
  type CandidateFeatures,
  candidateFeatures,
  DefaultRankWeights,
  type RankWeights,
  shortlistOf,
  typicalReplyWords,
  wordPairs,
} from './rank.ts';

/** The retrieval half of the chit-chat: how many pairs BM25 retrieves and how many of them the model reads. */
export interface ShortlistOptions {
  /** Pairs retrieved by BM25 over the bank's contexts. */
  retrieve: number;
  /** Best of them (by the retrieval-side score) that the reply model reads. */
  rerank: number;
  weights: RankWeights;
}

export const DefaultShortlistOptions = Object.freeze({
  retrieve: 100,
  rerank: 20,
  weights: DefaultRankWeights,
}) satisfies Readonly<ShortlistOptions>;

/** A retrieved reply the model is to read, with its retrieval-side features and the line it answered. */
export interface Candidate {
  features: CandidateFeatures;
  reply: string;
  context: string;
}

export interface Shortlist {
  /** Pairs retrieved, after leaving out echoes of the message and replies the channel heard. */
  retrieved: number;
  /** The best of them by the retrieval-side score, best first, at most `rerank`. */
  candidates: Candidate[];
}

/**
 * Retrieval and the retrieval-side shortlist of one small-talk message: the part of the chit-chat that reads the
 * bank. In-process (BankShortlister) or in a thread of its own (ThreadShortlister, `thread.ts`), so that a worker's
 * main heap does not carry the bank and its index through every major GC.
 */
export interface ChitchatShortlister {
  /** Where the bank's pairs are from (its header's `source`), when the bank says. */
  readonly source: string | undefined;
  /** `recent`: the replies this channel heard lately (never offered again; their word pairs count against). */
  shortlist(text: string, recent: readonly string[]): Promise<Shortlist>;
  close(): Promise<void>;
}

/** The shortlist read from a bank in this thread. */
export class BankShortlister implements ChitchatShortlister {
  readonly #bank: ChitchatBank;
  readonly #options: ShortlistOptions;
  readonly #typicalWords: number;

  constructor(bank: ChitchatBank, options: Partial<ShortlistOptions> = {}) {
    this.#bank = bank;
    this.#options = { ...DefaultShortlistOptions, ...options };
    this.#typicalWords = typicalReplyWords(bank);
  }

  get source(): string | undefined {
    return this.#bank.source;
  }

  async shortlist(text: string, recent: readonly string[]): Promise<Shortlist> {
    return this.shortlistNow(text, recent);
  }

  /** The same, synchronously (the bank thread answers from it). */
  shortlistNow(text: string, recent: readonly string[]): Shortlist {
    const { retrieve, rerank, weights } = this.#options;
    const pairs = this.#bank.pairs;
    const said = new Set(recent.map(normaliseReply));
    const echo = normaliseReply(text);
    const hits = this.#bank.search(text, retrieve).filter((h) => {
      const reply = normaliseReply(pairs[h.index]!.reply);
      return reply !== echo && !said.has(reply);
    });
    const heard = new Set(recent.flatMap((reply) => wordPairs(reply)));
    const features = candidateFeatures(this.#bank, text, hits, this.#typicalWords, heard);
    return {
      retrieved: features.length,
      candidates: shortlistOf(features, weights, rerank).map((i) => {
        const f = features[i]!;
        const pair = pairs[f.index]!;
        return { features: f, reply: pair.reply, context: pair.context };
      }),
    };
  }

  async close(): Promise<void> {}
}

/** A reply as the no-repeat memory compares it (lower-case words only). */
export function normaliseReply(text: string): string {
  return replyWords(text).join(' ');
}
