import type { LibraryHit, LibrarySource } from '../../src/domain/library.ts';
import { sourceOf } from '../../src/domain/library.ts';
import type { ReplyRequest } from '../../src/engine.ts';
import { STOPWORDS, sentences, words } from './terms.ts';

/** How replies use the library. */
export interface GroundingOptions {
  /**
   * Lowest hybrid score at which the best item may answer the request, whatever the library; below the
   * threshold in effect Steward says it does not know.
   */
  threshold: number;
  /**
   * The threshold in effect for a library is the larger of `threshold` and this quantile of the scores ordinary chat
   * lines reach in that library (LibraryIndex.cutoff): a request must look more relevant than nearly all chat does.
   * Calibrated with `threshold` on clinc150's *train* split used as an FAQ (`npm run eval:library`).
   */
  quantile: number;
  /** What Steward says when the library has nothing relevant for a request for information. */
  unknownText: string;
  /** The same when the workspace's library is still empty (says how to fill it). */
  emptyText: string;
  /** Small talk in a language Steward does not chat in (replies.ts CHAT_LANGUAGES). */
  otherLanguageText: string;
  /**
   * The same three texts and the citation's words in other languages, by ISO 639-1 code: a member who asks in
   * Chinese is told in Chinese. Languages not listed get the texts above.
   */
  translations?: Readonly<Record<string, ReplyTexts>>;
}

/** The fixed texts of a reply in one language (`source` is the citation's word for "source"). */
export interface ReplyTexts {
  unknownText: string;
  emptyText: string;
  otherLanguageText: string;
  source: string;
}

export const DefaultGroundingOptions = Object.freeze({
  threshold: 0.3,
  quantile: 0.925,
  unknownText: "I don't know — nothing in this community's library covers that.",
  emptyText: "I don't know — this community's library is empty so far (admins fill it with the `library add` command).",
  otherLanguageText: 'Sorry, I can only chat in English for now.',
  translations: Object.freeze({
    zh: Object.freeze({
      unknownText: '我不知道——社区资料库里没有相关内容。',
      emptyText: '我不知道——社区资料库目前还是空的（管理员可以用 `library add` 命令添加内容）。',
      otherLanguageText: '抱歉，我目前只能用英文闲聊；不过社区资料库里的问题可以用中文问我。',
      source: '来源',
    }),
  }),
}) satisfies Readonly<GroundingOptions>;

/** The fixed texts for a message in `language` (the options' own, English, when it has no translation). */
export function textsFor(options: GroundingOptions, language: string | undefined): ReplyTexts {
  return (
    (language !== undefined ? options.translations?.[language] : undefined) ?? {
      unknownText: options.unknownText,
      emptyText: options.emptyText,
      otherLanguageText: options.otherLanguageText,
      source: 'source',
    }
  );
}

/**
 * What a reply will be, decided before any text is generated:
 * - `library`: answer from the best item (the request carries it as `source`), citing it;
 * - `unknown`: a request for information the library does not cover: a brief "I don't know" (nothing generated);
 * - `chat`: small talk, answered by the reply model as before.
 */
export interface ReplyPlan {
  kind: 'library' | 'unknown' | 'chat';
  request: ReplyRequest;
  sources: LibrarySource[];
  /** Best hits (at most 3) with their scores, for explanations. */
  hits: LibraryHit[];
}

const ASKING =
  /^(what|whats|what's|where|when|which|who|whom|whose|how|why|is there|are there|can i|can you|could you|could i|do i|do we|does|should i|tell me|i need|i want|i'd like|help|show me|find|list|give me|explain|remind me|set|book|please)\b/i;
const SMALL_TALK =
  /^(how are you|how's it going|how is it going|what's up|whats up|what's new|whats new|how have you been|how do you do|who are you|what do you (like|think|love|prefer)|do you (like|love|enjoy|think|prefer|know any)|tell me a joke|got any plans)/i;

const ASKED_TO =
  /^(can|could|would|will|do|did) (you|u|ya) (please )?(tell|recommend|suggest|show|find|help|remind|book|list|give|explain|send|link|point|know (where|when|what|who|how|if|whether|which|anything|about|of))\b|\b(recommend|suggest|recommendations?|suggestions?)\b/i;
/**
 * A question about the one addressed: "what's your …", "how was your …", "how old are you", "what are you up to",
 * "which one do you prefer", "you like …?". Not the impersonal "you" of a how-to ("how do you learn the violin",
 * "how do you know when your dog is ill"), which asks for information.
 */
const ABOUT_YOU =
  /^(?:(?:what|who|which|where|when|why|how)(?:'s|s|'re| is| are| was| were| did| have| has| would| will)? (?:you|your|u|ur)\b|how (?:old|tall|big) are (?:you|u)\b|(?:what|how) about (?:you|u)\b|(?:what|where|when|who|which|how) (?:\w+ ){0,3}(?:are|were|did|do|have|would|will) (?:you|u) (?:up to|doing|do|like|love|prefer|think|feel|been|watch|play|read|listen)\b|(?:you|your|u|ur)\b)/i;

/**
 * Whether a message asks for information (a question or a request) rather than making small talk. Opinion and
 * social questions ("do you like …", "how are you") are small talk; "where/when/how do I …" and imperatives
 * ("tell me", "book …") ask for information.
 */
export function asksForInformation(text: string): boolean {
  const t = text
    .trim()
    // Greetings and the names Steward is called by, however many ("hello bot, how are you?").
    .replace(/^(?:(?:hey|hi|hello|yo|ok|okay|so|um|there|steward|bot)\b[,!.]?\s*)+/i, '')
    .replace(/^@\S+\s*/, '');
  if (SMALL_TALK.test(t)) return false;
  // Chinese: a question word, a question particle or a question mark asks; greetings and remarks ("你好",
  // "今天好累") are small talk.
  if (/\p{Script=Han}/u.test(t) && !/[A-Za-z]{3,}/.test(t)) {
    // A question about the one addressed ("你喜欢什么电影？", "你是谁", "你好吗") is small talk, as in English;
    // asking Steward to recommend, introduce or tell something is a request.
    if (ZH_ABOUT_YOU.test(t) && !/推荐|介绍|告诉|知道/.test(t)) return false;
    return /[?？]|吗|什么|哪|怎么|怎样|如何|为什么|几|谁|多少|有没有|能不能|可不可以|请问|推荐|介绍/.test(t);
  }
  // Asking Steward to do or find something ("can you recommend a book", "do you know when the meetup is").
  if (ASKED_TO.test(t)) return true;
  // Any other question about the one addressed ("what's your favourite movie", "how was your weekend", "how old
  // are you") is small talk: the library is the community's, not Steward's life.
  if (ABOUT_YOU.test(t)) return false;
  if (ASKING.test(t)) return true;
  // Questions about Steward itself ("do you watch anime", "are you a bot"), with or without "?", are small talk.
  if (/^(do|did|have|are|were|would) (you|u|ya)\b/i.test(t)) return false;
  if (YES_NO.test(t) || /\?\s*$/.test(t)) return true;
  // Not a question: statements about oneself or reactions are chat; anything else (a bare request such as
  // "flights to paris next week", "set a reminder") asks for something.
  return !STATEMENT.test(t) && !CLAIM.test(t) && !/!\s*$/.test(t);
}

/**
 * A Chinese question whose subject is the one addressed: "你喜欢…", "你觉得…", "你是谁", "你多大了", "你好吗". Not the
 * "look" of "你看，这个报错怎么办？" or the "heard" of "你听说过…吗", which ask about something else.
 */
const ZH_ABOUT_YOU =
  /^(?:你|您)(?:最|平时|一般|今天|现在|也|还)?(?:喜欢|爱|觉得|认为|是|叫|多大|几岁|好吗|好不好|怎么样|在干|在做|在忙|开心|累|吃|看(?![，,]|一下|看)|听(?!说)|玩|去过|会不会)/;

/**
 * A yes/no question, with or without its question mark ("is the server down", "are meetups recorded"): chat often
 * drops the "?", and the verb first is what makes it a question. Questions to Steward itself ("are you …", "do you
 * …") are left to the small-talk rules.
 */
const YES_NO =
  /^(is|are|was|were|does|do|did|can|could|will|would|should|shall|has|have|may|might)\s+(?!you\b|u\b|ya\b|ye\b)[\w'’]+\s+\S/i;

/** A verb that makes a line a remark ("the new movie was awesome") rather than a bare request. */
const CLAIM =
  /\b(is|was|are|were|am|be|been|has|have|had|love[sd]?|like[sd]?|hate[sd]?|think|thought|feel|felt|went|saw|watched|played|got|made|said|looks?|seems?|sounds?)\b/i;

const STATEMENT =
  /^(i|i'm|im|i've|i'd|i'll|my|me|we|we're|our|you|you're|your|that|that's|thats|this|it|it's|its|he|she|they|there's|lol|haha|yes|yeah|yep|no|nope|thanks|thank you|cool|nice|wow|great|oh|ah|well|sure|same|true|agreed|definitely|totally|awesome|sorry|good|bad)\b/i;

/** The options with the threshold in effect for one library and a request's language: the floor, or what chat lines in that language score there if higher. */
export function thresholdFor(
  index: { cutoff(quantile: number, language?: string): number | null },
  options: GroundingOptions,
  language?: string,
): GroundingOptions {
  const cutoff = index.cutoff(options.quantile, language);
  return cutoff === null || cutoff <= options.threshold ? options : { ...options, threshold: cutoff };
}

/** Decides how to answer a request from the library's hits (best first). */
export function planReply(
  request: ReplyRequest,
  hits: LibraryHit[],
  options: GroundingOptions = DefaultGroundingOptions,
): ReplyPlan {
  const best = hits[0];
  if (best && best.score >= options.threshold) {
    return {
      kind: 'library',
      request: { ...request, source: { title: best.item.title, text: best.item.text } },
      sources: [sourceOf(best)],
      hits,
    };
  }
  // A request for information gets a plain "I don't know", also from an empty library: small talk from the
  // chit-chat bank would answer "where should I go on holiday?" with some stranger's line ("I would love that!").
  if (asksForInformation(request.text)) return { kind: 'unknown', request, sources: [], hits };
  return { kind: 'chat', request, sources: [], hits };
}

/** The distinct lower-cased words of a text that are not stopwords. */
function contentWords(text: string): Set<string> {
  return new Set(words(text).filter((w) => !STOPWORDS.has(w)));
}

/** The sentence of a passage that shares the most content words with the request (the first one on a tie). */
export function bestSentence(passage: string, request: string): string {
  const wanted = contentWords(request);
  let best = '';
  let bestScore = -1;
  for (const sentence of sentences(passage)) {
    const score = new Set(words(sentence).filter((w) => wanted.has(w))).size;
    if (score > bestScore) {
      best = sentence;
      bestScore = score;
    }
  }
  return best || passage.trim();
}

/**
 * True when every content word of a generated answer appears in the request or the source: the model may
 * rephrase and copy, but a name, number or claim that is in neither is an invented fact.
 */
export function isSupported(answer: string, request: string, title: string, passage: string): boolean {
  const allowed = new Set([...words(request), ...words(title), ...words(passage)]);
  const content = words(answer).filter((w) => !STOPWORDS.has(w) && w.length > 2);
  return content.length > 0 && content.every((w) => allowed.has(w) || FILLER.has(w));
}

/**
 * True when a generated answer draws on one sentence of the passage, and that sentence is one the request is about
 * (it shares the most content words with the request; any sentence when none shares one). The answer's content
 * words, apart from the request's own, must all be in that sentence, and cover at least half of its content words:
 * an answer copied faithfully from the wrong sentence, stitched from two ("We meet on the station.") or cut to a
 * fragment ("I know there are more.") passes isSupported but not this.
 */
export function drawsOnAsked(answer: string, request: string, passage: string): boolean {
  const parts = sentences(passage).map(contentWords);
  if (parts.length < 2) return true;
  const wanted = contentWords(request);
  const asked = parts.map((holds) => [...holds].filter((w) => wanted.has(w)).length);
  const most = Math.max(...asked);
  const said = contentWords(answer);
  const needed = [...said].filter((w) => !wanted.has(w) && !FILLER.has(w));
  return parts.some((holds, i) => {
    const covered = [...holds].filter((w) => said.has(w)).length;
    return asked[i] === most && needed.every((w) => holds.has(w)) && covered >= holds.size / 2;
  });
}

/** Whether the worker shows a generated library answer: supported by the source and about what was asked. */
export function acceptsAnswer(answer: string, request: string, source: { title: string; text: string }): boolean {
  return isSupported(answer, request, source.title, source.text) && drawsOnAsked(answer, request, source.text);
}

/** Conversational words a grounded answer may add without asserting anything. */
const FILLER = new Set(
  'yes yeah sure well think know sounds great good nice really also here check out says said see more info information find about'.split(
    ' ',
  ),
);

/** How the answer cites its source, in text every platform shows as is (`word`: "source" in the member's language). */
export function citation(source: LibrarySource, word = 'source'): string {
  return source.url ? `(${word}: ${source.title} — ${source.url})` : `(${word}: ${source.title})`;
}

/** The passage words an answer drew on (shared with it, content words only, in passage order). */
export function evidence(answer: string, passage: string): string[] {
  const used = contentWords(answer);
  const out: string[] = [];
  for (const w of words(passage)) if (used.has(w) && !out.includes(w)) out.push(w);
  return out;
}

export interface FinishedReply {
  text: string | null;
  sources: LibrarySource[];
  /** For library answers: whether the model's own words were used (else an extract of the source). */
  generated?: boolean;
  /** For library answers: the source words the answer drew on. */
  evidence?: string[];
  /** For library answers: the answer without its citation (what the reply model's attention is read over). */
  answer?: string;
}

/**
 * The reply text for a plan and what the model generated (null when nothing was generated). Library answers
 * keep the model's answer only when it is supported by the source and about what was asked (acceptsAnswer);
 * otherwise the source's most relevant sentence is quoted. Every library answer ends with its citation. `unknown` plans say so briefly, or
 * nothing when the reply was not asked for (a topic match rather than a mention).
 */
export function finishReply(
  plan: ReplyPlan,
  generated: string | null,
  reason: 'mention' | 'topic' | 'direct',
  options: GroundingOptions = DefaultGroundingOptions,
  language?: string,
): FinishedReply {
  if (plan.kind === 'chat') return { text: generated, sources: [] };
  const texts = textsFor(options, language);
  if (plan.kind === 'unknown') {
    const text = plan.hits.length === 0 ? texts.emptyText : texts.unknownText;
    return { text: reason === 'topic' ? null : text, sources: [] };
  }
  const source = plan.request.source!;
  const useModel = generated !== null && acceptsAnswer(generated, plan.request.text, source);
  const answer = useModel ? generated! : bestSentence(source.text, plan.request.text);
  return {
    text: `${answer} ${citation(plan.sources[0]!, texts.source)}`,
    sources: plan.sources,
    generated: useModel,
    evidence: evidence(answer, source.text),
    answer,
  };
}
