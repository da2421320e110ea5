import { createHash } from 'node:crypto';
import type { Platform } from './message.ts';

/**
 * A member's interests in one workspace: a time-decayed sum of the embeddings of what they wrote, and the
 * decayed counts of their most frequent content words (kept only to explain recommendations). Personal data:
 * opt-out, forget-me and the retention limit all apply to it.
 */
export interface InterestProfile {
  platform: Platform;
  workspaceId: string;
  userId: string;
  /** Decayed sum of L2-normalised message embeddings (not normalised itself). */
  vector: number[];
  /** Decayed number of messages behind `vector`. */
  weight: number;
  /** Decayed count per content word, at most MAX_PROFILE_TERMS of them. */
  terms: Record<string, number>;
  messages: number;
  /** Reactions to others' messages folded in (absent in profiles written before reactions counted). */
  reactions?: number;
  updatedAt: number;
  /** What Steward last recommended from this profile (what `/steward recommend` shows). */
  recommendations?: { at: number; items: Recommendation[] };
}

/** One recommended library item, with the reason in words a member can check. */
export interface Recommendation {
  id: string;
  title: string;
  kind: string;
  url?: string;
  score: number;
  /** "you talked about hockey, goalie; you asked about beach" */
  why: string;
  /** The profile terms and request words that matched the item. */
  matched: { profile: string[]; request: string[] };
}

export const MAX_PROFILE_TERMS = 40;
/**
 * What a reaction to someone else's message weighs in a profile, against 1 for a message of one's own: an emoji
 * on a message says less about one's interests than writing about them. Chosen by that reasoning, not fitted
 * (there is no reaction data to fit it on).
 */
export const REACTION_WEIGHT = 0.5;
/** Half-life of a message's weight in a profile, unless the workspace's retention is shorter (see halfLifeMs). */
export const PROFILE_HALF_LIFE_MS = 14 * 24 * 3_600_000;

/**
 * Half-life under a retention limit: a fifth of it, so a message as old as the limit weighs under 4 % of a new one.
 */
export function halfLifeMs(retentionDays: number | null): number {
  if (retentionDays === null) return PROFILE_HALF_LIFE_MS;
  return Math.min(PROFILE_HALF_LIFE_MS, (retentionDays * 24 * 3_600_000) / 5);
}

/**
 * Folds one message into a profile (a new one when `profile` is null): older content decays by its age, the
 * embedding and the message's content words are added, and only the strongest terms are kept. A `reaction` is the
 * member's reaction to someone else's message (the embedding and words are that message's): it adds with
 * REACTION_WEIGHT instead of 1.
 */
export function foldMessage(
  profile: InterestProfile | null,
  who: { platform: Platform; workspaceId: string; userId: string },
  embedding: ArrayLike<number>,
  words: readonly string[],
  at: number,
  halfLife = PROFILE_HALF_LIFE_MS,
  kind: 'message' | 'reaction' = 'message',
): InterestProfile {
  const add = kind === 'reaction' ? REACTION_WEIGHT : 1;
  const decay = profile ? 0.5 ** (Math.max(0, at - profile.updatedAt) / halfLife) : 0;
  // Five decimals are far below what the ranking can tell apart, and keep the stored profile small. Written into an
  // array of its final length, not grown by push: with decodeProfile the same way, a live profile's decode, fold and
  // encode allocate 37 KB instead of 51 KB (`npx tsx bench/main-thread-costs.ts`), bytes the worker's young generation
  // collects, or promotes, per message.
  const vector = new Array<number>(embedding.length);
  const before = profile?.vector;
  for (let i = 0; i < embedding.length; i++)
    vector[i] = Math.round(((before?.[i] ?? 0) * decay + add * embedding[i]!) * 1e5) / 1e5;
  // The stored terms in their order, then the message's new words (each word counts once per message). An array
  // with an index beside it, not a Map spread and Object.fromEntries: a fold took 40 µs, 29 of them here, and takes
  // 28 µs this way (interleaved runs on the bench's sample lines), the same output.
  const entries: Array<[string, number]> = [];
  const index = new Map<string, number>();
  const stored = profile?.terms;
  if (stored)
    for (const term of Object.keys(stored)) {
      index.set(term, entries.length);
      entries.push([term, stored[term]! * decay]);
    }
  const counted = new Set<string>();
  for (const word of words) {
    if (counted.has(word)) continue;
    counted.add(word);
    const j = index.get(word);
    if (j === undefined) {
      index.set(word, entries.length);
      entries.push([word, add]);
    } else entries[j]![1] += add;
  }
  const kept = entries.filter((e) => e[1] > 0.01);
  kept.sort((a, b) => b[1] - a[1]);
  if (kept.length > MAX_PROFILE_TERMS) kept.length = MAX_PROFILE_TERMS;
  // Plain assignment is safe: terms come from contentWords (letters, digits), never "__proto__".
  const terms: Record<string, number> = {};
  for (const [term, w] of kept) terms[term] = Math.round(w * 1000) / 1000;
  const next: InterestProfile = {
    ...who,
    vector,
    weight: (profile?.weight ?? 0) * decay + add,
    terms,
    messages: (profile?.messages ?? 0) + (kind === 'message' ? 1 : 0),
    updatedAt: Math.max(at, profile?.updatedAt ?? 0),
  };
  const reactions = (profile?.reactions ?? 0) + (kind === 'reaction' ? 1 : 0);
  if (reactions > 0) next.reactions = reactions;
  if (profile?.recommendations) next.recommendations = profile.recommendations;
  return next;
}

/**
 * The id under which an opt-out is remembered: a hash, so that the record of a member who asked to be
 * forgotten does not itself hold their id.
 */
export function optOutToken(platform: Platform, workspaceId: string, userId: string): string {
  return createHash('sha256').update(`steward-opt-out\0${platform}\0${workspaceId}\0${userId}`).digest('hex');
}

// Function words that say nothing about interests (English; Chinese is split into character pairs below).
const STOPWORDS = new Set(
  (
    'a about above after again all also am an and any are as at be because been before being below between both ' +
    'but by can could did do does doing done dont down during each even ever few for from get got had has have ' +
    'having he her here hers him his how i if im in into is isnt it its itself ive just know like lot lots me ' +
    'more most much my myself no nor not now of off oh ok okay on once one only or other our ours out over own ' +
    'pretty really right said same say see she should so some such sure than that thats the their them then ' +
    'there these they thing things think this those though through to too under until up us very want was we ' +
    'well were what when where which while who whom why will with would yeah yes you your youre yours ' +
    'actually always anything around back being cant didnt doesnt going gonna good great go never new ' +
    'probably something still time way yet least much many maybe kind sort lol haha hey hi thanks thank ' +
    'steward please recommend recommendation suggest suggestion where somewhere'
  ).split(' '),
);

const HAN = /\p{Script=Han}/u;

/**
 * Content words of a text for profiles and explanations: lower-cased Latin words of 3+ letters without function
 * words and with a plain plural folded ("beaches" → "beach"); runs of Chinese characters as overlapping pairs,
 * since Chinese has no spaces and most words are two characters.
 */
export function contentWords(text: string): string[] {
  const out: string[] = [];
  for (const match of text.toLowerCase().matchAll(/[\p{L}\p{N}']+/gu)) {
    const token = match[0].replaceAll("'", '');
    if (HAN.test(token)) {
      const han = [...token].filter((c) => HAN.test(c));
      if (han.length === 1) out.push(han[0]!);
      for (let i = 0; i + 1 < han.length; i++) out.push(han[i]! + han[i + 1]!);
      continue;
    }
    if (token.length < 3 || /^\d+$/.test(token) || STOPWORDS.has(token)) continue;
    out.push(singular(token));
  }
  return out;
}

function singular(word: string): string {
  if (word.length > 4 && /(ches|shes|sses|xes)$/.test(word)) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

/** True when most letters of the text are Latin: the bundled signals model reads English only. */
export function mostlyLatin(text: string): boolean {
  let latin = 0;
  let other = 0;
  for (const ch of text) {
    if (/\p{Script=Latin}/u.test(ch)) latin += 1;
    else if (/\p{L}/u.test(ch)) other += 1;
  }
  return latin > other;
}
