/**
 * Data and measures of the chit-chat eval (bench/chitchat-eval.ts): self_dialogue samples, unigram F1,
 * distinct-n and the TF-IDF nearest-context baseline.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { ContextTurn } from '../src/domain/message.ts';
import type { ChitchatBank } from '../worker/chitchat/bank.ts';
import { f1Words } from '../worker/chitchat/rank.ts';
import { selfDialogueConversations } from './samples.ts';
import { seededRandom, shuffle } from './stats.ts';

export const DATA =
  process.env.STEWARD_DATASETS ?? join(import.meta.dirname, '..', '..', 'shared', 'datasets');

/** Band below which a train conversation is held out of the bank (models/training/chitchat_bank.py). */
const HELDOUT_BAND = 5;

/** One test case: the turns before, the message, and what the human answered. */
export interface Sample {
  context: string[];
  message: string;
  human: string;
}

/** Every conversation of a split, with the upstream filtering rule (as models/training/common.py). */
function conversations(split: string): string[][] {
  return selfDialogueConversations(join(DATA, 'self_dialogue'), split).map((c) => c.lines);
}

/** common.carve_band: a fixed number in [0, 100) per text (md5). */
function band(text: string): number {
  return Number.parseInt(createHash('md5').update(text, 'utf8').digest('hex').slice(0, 8), 16) % 100;
}

/**
 * `n` (message → human reply) samples with up to 2 turns before the message, drawn with a fixed seed.
 * `validation`: the validation split; `train-heldout`: the train conversations left out of the bank.
 */
export function loadSamples(split: 'validation' | 'train-heldout', n: number, seed: number): Sample[] {
  const convs =
    split === 'validation'
      ? conversations('validation')
      : conversations('train').filter((lines) => band(lines.join('\n')) < HELDOUT_BAND);
  const all: Sample[] = [];
  for (const lines of convs)
    for (let i = 1; i < lines.length; i++)
      all.push({ context: lines.slice(Math.max(0, i - 3), i - 1), message: lines[i - 1]!, human: lines[i]! });
  return shuffle(all, seededRandom(seed)).slice(0, n);
}

export function turnsOf(sample: Sample): ContextTurn[] {
  return sample.context.map((text, i) => ({
    authorId: (sample.context.length - i) % 2 === 0 ? 'a' : 'b',
    text,
    fromBot: false,
  }));
}

/** SQuAD/ParlAI normalisation (the words the chit-chat consensus feature counts too). */
export const normTokens = f1Words;

/** Unigram F1 between a reply and the human reply (token multisets). */
export function unigramF1(reply: string, human: string): number {
  const a = normTokens(reply);
  const b = normTokens(human);
  if (a.length === 0 || b.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const t of b) counts.set(t, (counts.get(t) ?? 0) + 1);
  let common = 0;
  for (const t of a) {
    const left = counts.get(t) ?? 0;
    if (left > 0) {
      common++;
      counts.set(t, left - 1);
    }
  }
  if (common === 0) return 0;
  const p = common / a.length;
  const r = common / b.length;
  return (2 * p * r) / (p + r);
}

/** Unique word n-grams / all word n-grams (lower-cased, whitespace split) over a set of replies. */
export function distinctN(replies: string[], n: number): number {
  const seen = new Set<string>();
  let total = 0;
  for (const reply of replies) {
    const t = reply.toLowerCase().split(/\s+/).filter(Boolean);
    for (let i = 0; i + n <= t.length; i++) {
      seen.add(t.slice(i, i + n).join(' '));
      total++;
    }
  }
  return total === 0 ? 0 : seen.size / total;
}

/** The baseline: the reply of the bank context most similar to the message by TF-IDF cosine (log tf, smoothed idf). */
export class TfidfNearest {
  readonly #bank: ChitchatBank;
  readonly #postings = new Map<string, Array<{ doc: number; w: number }>>();
  readonly #idf = new Map<string, number>();

  constructor(bank: ChitchatBank) {
    this.#bank = bank;
    const docs = bank.pairs.map((p) => termCounts(p.context));
    const df = new Map<string, number>();
    for (const d of docs) for (const t of d.keys()) df.set(t, (df.get(t) ?? 0) + 1);
    for (const [t, f] of df) this.#idf.set(t, Math.log((docs.length + 1) / (f + 1)) + 1);
    docs.forEach((d, doc) => {
      const v = this.#vector(d);
      for (const [t, w] of v) {
        const list = this.#postings.get(t) ?? [];
        if (list.length === 0) this.#postings.set(t, list);
        list.push({ doc, w });
      }
    });
  }

  reply(message: string): string {
    const q = this.#vector(termCounts(message));
    const scores = new Map<number, number>();
    for (const [t, w] of q)
      for (const p of this.#postings.get(t) ?? []) scores.set(p.doc, (scores.get(p.doc) ?? 0) + w * p.w);
    let best = -1;
    let bestScore = 0;
    for (const [doc, s] of scores)
      if (s > bestScore || (s === bestScore && doc < best)) {
        best = doc;
        bestScore = s;
      }
    return best < 0 ? '' : this.#bank.pairs[best]!.reply;
  }

  #vector(counts: Map<string, number>): Map<string, number> {
    const v = new Map<string, number>();
    for (const [t, c] of counts) {
      const idf = this.#idf.get(t);
      if (idf !== undefined) v.set(t, (1 + Math.log(c)) * idf);
    }
    const norm = Math.hypot(...v.values()) || 1;
    for (const [t, w] of v) v.set(t, w / norm);
    return v;
  }
}

function termCounts(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of normTokens(text)) m.set(t, (m.get(t) ?? 0) + 1);
  return m;
}
