import { readFile } from 'node:fs/promises';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import MiniSearch from 'minisearch';
import { ErrorCode, StewardError } from '../../src/errors.ts';
import { analyzeTerms } from '../library/terms.ts';

const gunzipAsync = promisify(gunzip);

/** One human exchange: a line of a conversation and the line that answered it. */
export interface BankPair {
  /** What was said (the context the reply answered). */
  context: string;
  reply: string;
}

/** A bank found, unreadable or malformed at start: the process should not start with it. */
export class ChitchatBankError extends StewardError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.ModelLoad, message, { unrecoverable: true, cause });
  }
}

/** An indexed context: `c` by content words; `s` the same line with every word, when it is short. */
interface Doc {
  id: number;
  c: string;
  s: string;
}

/** A retrieved pair with its BM25 score over the bank's contexts. */
export interface BankHit {
  index: number;
  score: number;
}

/**
 * The chit-chat bank (models/bundled/chitchat/bank.jsonl.gz: `{"c": context, "r": reply}` per line), with a BM25
 * index (minisearch) over the contexts and the document frequency of every reply word (for IDF weights).
 */
export class ChitchatBank {
  readonly pairs: readonly BankPair[];
  /** Where the pairs are from (the header line's `source`), when the bank says. */
  readonly source: string | undefined;
  readonly #index: MiniSearch<Doc>;
  /** Replies holding each lower-cased word (all words, stopwords too). */
  readonly replyDf: ReadonlyMap<string, number>;

  private constructor(
    pairs: BankPair[],
    index: MiniSearch<Doc>,
    df: Map<string, number>,
    source: string | undefined,
  ) {
    this.pairs = pairs;
    this.source = source;
    this.#index = index;
    this.replyDf = df;
  }

  /** Reads, checks and indexes a bank file; any problem is a ChitchatBankError that names the file and the line. */
  static async load(path: string): Promise<ChitchatBank> {
    let raw: Buffer;
    try {
      raw = await readFile(path);
    } catch (error) {
      throw new ChitchatBankError(
        `chit-chat bank ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? error}); set STEWARD_CHITCHAT_BANK to a bank file, or to "off" to chat by free generation`,
        error,
      );
    }
    let text: string;
    try {
      text = (path.endsWith('.gz') ? await gunzipAsync(raw) : raw).toString('utf8');
    } catch (error) {
      throw new ChitchatBankError(`chit-chat bank ${path} is not a valid gzip file: ${(error as Error).message}`, error);
    }
    return ChitchatBank.fromJsonl(text, path);
  }

  /** A bank from JSONL text (an optional `{"source", …}` header line, then `{"c", "r"}` per line); `name` is what errors call it. */
  static fromJsonl(text: string, name = 'bank'): ChitchatBank {
    const pairs: BankPair[] = [];
    let source: string | undefined;
    const lines = text.split('\n');
    for (const [n, line] of lines.entries()) {
      if (line.trim() === '') continue;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        throw new ChitchatBankError(`chit-chat bank ${name}, line ${n + 1}: not JSON`);
      }
      const { c, r, source: named } = (row ?? {}) as { c?: unknown; r?: unknown; source?: unknown };
      if (pairs.length === 0 && source === undefined && typeof named === 'string' && c === undefined) {
        source = named;
        continue;
      }
      if (typeof c !== 'string' || typeof r !== 'string' || c.trim() === '' || r.trim() === '')
        throw new ChitchatBankError(
          `chit-chat bank ${name}, line ${n + 1}: expected {"c": "<context>", "r": "<reply>"}`,
        );
      pairs.push({ context: c, reply: r });
    }
    if (pairs.length === 0) throw new ChitchatBankError(`chit-chat bank ${name} holds no pairs`);
    return ChitchatBank.of(pairs, source);
  }

  static of(pairs: BankPair[], source?: string): ChitchatBank {
    const index = new MiniSearch<Doc>({
      fields: ['c', 's'],
      storeFields: [],
      tokenize: (text) => [text],
      processTerm: (term, field) => (field === 's' ? replyWords(term) : analyzeTerms(term)),
      searchOptions: { combineWith: 'OR' },
    });
    index.addAll(
      pairs.map((p, id) => ({ id, c: p.context, s: replyWords(p.context).length <= SHORT_WORDS ? p.context : '' })),
    );
    const df = new Map<string, number>();
    for (const p of pairs) for (const w of new Set(replyWords(p.reply))) df.set(w, (df.get(w) ?? 0) + 1);
    return new ChitchatBank(pairs, index, df, source);
  }

  /** The pairs whose context best matches the text (BM25), best first. */
  search(text: string, limit: number): BankHit[] {
    const terms = analyzeTerms(text).slice(0, MAX_QUERY_TERMS).join(' ');
    // A line of function words only ("how are you?") is matched, words and all, against short contexts.
    const found =
      terms !== ''
        ? this.#index.search(terms, { fields: ['c'] })
        : this.#index.search(replyWords(text).slice(0, SHORT_WORDS).join(' '), {
            fields: ['s'],
            processTerm: (term) => replyWords(term),
          });
    return found.slice(0, limit).map((r) => ({ index: r.id as number, score: r.score }));
  }

  /** Inverse document frequency of a reply word (smoothed; unseen words weigh the most). */
  idf(word: string): number {
    return Math.log((this.pairs.length + 1) / ((this.replyDf.get(word) ?? 0) + 1)) + 1;
  }
}

/** Contexts of at most this many words are also indexed with every word (for function-word-only lines). */
const SHORT_WORDS = 6;

/** Query words kept: a long message's first words say what it is about, and each word costs a posting list. */
const MAX_QUERY_TERMS = 12;

const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu;

/** Lower-cased words of a reply, stopwords included (they carry the tone the consensus compares). */
export function replyWords(text: string): string[] {
  return [...text.toLowerCase().matchAll(WORD)].map((m) => m[0]);
}
