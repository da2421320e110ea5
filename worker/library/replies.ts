import type { LibrarySource } from '../../src/domain/library.ts';
import type { Platform } from '../../src/domain/message.ts';
import type { AttendedWord, AttentionRequest, ReplyRequest } from '../../src/engine.ts';
import {
  thresholdFor,
  DefaultGroundingOptions,
  type FinishedReply,
  finishReply,
  textsFor,
  type GroundingOptions,
  planReply,
  type ReplyPlan,
} from './answer.ts';
import type { ChatAnswer, ChatExplanation } from '../chitchat/replies.ts';
import type { Embed, LibraryIndexes } from './sync.ts';

/** One reply to write: the request, where it comes from and why. */
export interface ReplyJob {
  platform: Platform;
  workspaceId: string;
  request: ReplyRequest;
  reason: 'mention' | 'topic' | 'direct';
  /** platform:workspace:channel, so small talk is not repeated in one channel. */
  channel?: string;
  /** The message's language (its analysis); small talk is answered only in CHAT_LANGUAGES. */
  language?: string;
}

/**
 * Languages small talk is answered in: the chit-chat bank (self_dialogue) and the bundled reply model are English.
 * Small talk in another language gets GroundingOptions.otherLanguageText, not a stranger's English line matched on
 * a name ("steward, 你好" was answered "He's the poop character, if you can believe it."). `und` (no letters) chats.
 */
export const CHAT_LANGUAGES: ReadonlySet<string> = new Set(['en', 'und']);

/** Where a small-talk reply came from (the chit-chat bank), for explanations and `analyze --reply`. */
export type ChatInfo = ChatExplanation;

/**
 * Answers small talk (plans of kind chat) other than by free generation, in input order; a null text means
 * "nothing fits: generate as before".
 */
export type ChatReplies = (jobs: ReplyJob[]) => Promise<ChatAnswer[]>;

/** A finished reply with the plan behind it (for explanations). */
export interface GroundedReply extends FinishedReply {
  kind: ReplyPlan['kind'];
  sources: LibrarySource[];
  /** Set when small talk was answered from the chit-chat bank rather than generated. */
  chat?: ChatInfo;
  /** Library answers, when asked for and the reply model reads sources: the passage words it attended to. */
  attention?: AttendedWord[];
}

/** Generates replies (the engine's reply call with empty replies as null), in input order. */
export type Generate = (requests: ReplyRequest[]) => Promise<Array<string | null>>;

/** The reply model's cross-attention over each request's source while it reads the answer (engine.attend). */
export type Attend = (items: AttentionRequest[]) => Promise<Array<AttendedWord[] | null>>;

/**
 * Replies grounded in the workspace's library: retrieve (hybrid index, kept in sync with the store), plan
 * (answer from an item / say "I don't know" / chat), generate in one batch what needs generating, finish
 * (keep the model's answer only when the source supports it; cite the source).
 */
export class GroundedReplies {
  readonly #indexes: LibraryIndexes;
  readonly #embed: Embed;
  readonly #generate: Generate;
  readonly #options: GroundingOptions;
  readonly #chat: (() => ChatReplies | null) | undefined;

  /** `chat`, when it returns a function, answers small talk instead of `generate` (issue 10 part 3). */
  readonly #attend: Attend | undefined;

  /** With `attend`, library answers carry `attention` (one more model pass each: explanations only). */
  constructor(
    indexes: LibraryIndexes,
    embed: Embed,
    generate: Generate,
    options: Partial<GroundingOptions> = {},
    chat?: () => ChatReplies | null,
    attend?: Attend,
  ) {
    this.#indexes = indexes;
    this.#embed = embed;
    this.#generate = generate;
    this.#options = { ...DefaultGroundingOptions, ...options };
    this.#chat = chat;
    this.#attend = attend;
  }

  /** The plan for each job (retrieval only; nothing generated). */
  async plan(jobs: ReplyJob[]): Promise<ReplyPlan[]> {
    // The library's own space (engine.embedSearch): the message's signals embedding is not comparable.
    const embeddings = await this.#embed(jobs.map((job) => job.request.text));
    return Promise.all(
      jobs.map(async (job, i) => {
        const index = await this.#indexes.index(job.platform, job.workspaceId);
        const hits = index.search(job.request.text, embeddings[i]!, 3);
        return planReply(job.request, hits, thresholdFor(index, this.#options, job.language));
      }),
    );
  }

  async reply(jobs: ReplyJob[]): Promise<GroundedReply[]> {
    const plans = await this.plan(jobs);
    const foreign = jobs.map(
      (job, i) => plans[i]!.kind === 'chat' && job.language !== undefined && !CHAT_LANGUAGES.has(job.language),
    );
    const chats = await this.#chatReplies(jobs, plans, foreign);
    const wanted = plans.flatMap((plan, i) =>
      plan.kind === 'unknown' || foreign[i] || chats[i]?.text ? [] : [i],
    );
    const generated =
      wanted.length > 0
        ? await this.#generate(
            wanted.map((i) => {
              const language = jobs[i]!.language;
              return language === undefined ? plans[i]!.request : { ...plans[i]!.request, language };
            }),
          )
        : [];
    const texts = new Array<string | null>(jobs.length).fill(null);
    wanted.forEach((i, k) => {
      texts[i] = generated[k] ?? null;
    });
    const replies: GroundedReply[] = plans.map((plan, i) => {
      if (foreign[i]) {
        const text = jobs[i]!.reason === 'topic' ? null : textsFor(this.#options, jobs[i]!.language).otherLanguageText;
        return { text, sources: [], kind: plan.kind };
      }
      const chat = chats[i];
      if (chat?.text) return { text: chat.text, sources: [], kind: plan.kind, chat: chat.chat };
      return { ...finishReply(plan, texts[i]!, jobs[i]!.reason, this.#options, jobs[i]!.language), kind: plan.kind };
    });
    if (this.#attend) await this.#explain(plans, replies, this.#attend);
    return replies;
  }

  /** Adds the cross-attention over the source to each library answer (the text shown, without its citation). */
  async #explain(plans: ReplyPlan[], replies: GroundedReply[], attend: Attend): Promise<void> {
    const answered = replies.flatMap((reply, i) =>
      plans[i]!.kind === 'library' && reply.answer !== undefined ? [i] : [],
    );
    if (answered.length === 0) return;
    const weights = await attend(answered.map((i) => ({ request: plans[i]!.request, answer: replies[i]!.answer! })));
    answered.forEach((i, k) => {
      const words = weights[k];
      if (words && words.length > 0) replies[i]!.attention = words;
    });
  }

  /** Small talk answered from the chit-chat bank, per job (undefined where the plan is not chat). */
  async #chatReplies(
    jobs: ReplyJob[],
    plans: ReplyPlan[],
    foreign: boolean[],
  ): Promise<Array<ChatAnswer | undefined>> {
    const chat = this.#chat?.();
    const out = new Array<ChatAnswer | undefined>(jobs.length);
    if (!chat) return out;
    const asked = plans.flatMap((plan, i) => (plan.kind === 'chat' && !foreign[i] ? [i] : []));
    if (asked.length === 0) return out;
    const answers = await chat(asked.map((i) => ({ ...jobs[i]!, request: plans[i]!.request })));
    asked.forEach((i, k) => {
      out[i] = answers[k];
    });
    return out;
  }
}
