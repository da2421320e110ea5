import type { Analysis } from '../src/domain/analysis.ts';
import { analyse, type Decision, decide } from '../src/domain/decide.ts';
import { type InboundMessage, inboundJobId, refOf } from '../src/domain/message.ts';
import { contextHits, echoPhrase, parentTurn } from '../src/domain/context.ts';
import { deobfuscateWithWords } from '../src/domain/deobfuscate.ts';
import { effectiveRules, type RuleHit, RuleSet } from '../src/domain/rules.ts';
import type { WorkspaceSettings } from '../src/domain/settings.ts';
import type { AttendedWord, InferenceEngine, ReplyRequest } from '../src/engine.ts';
import type { ChatInfo, GroundedReplies } from './library/replies.ts';
import type { LibrarySource } from '../src/domain/library.ts';
import { matchTopics, TopicIndex, type TopicVectors } from './topics.ts';

export interface AnalyzeInput {
  message: InboundMessage;
  settings: WorkspaceSettings;
  topics: TopicVectors;
}

/** What the models and the settings make of one message. */
export interface MessageOutcome {
  analysis: Analysis;
  decision: Decision;
  /** Generated reply text, only when the decision asked for one (null when the model produced nothing). */
  reply: string | null;
  /** Library items the reply answered from (grounded replies only). */
  sources?: LibrarySource[];
  /** Words of the source the reply drew on (grounded replies only). */
  evidence?: string[];
  /** Small talk answered from the chit-chat bank: where from, how many candidates. */
  chat?: ChatInfo;
  /** Source words weighted by the reply model's cross-attention (grounded replies with explanations only). */
  attention?: AttendedWord[];
}

export interface AnalyzeOptions {
  /** Replies generated per engine.reply call. */
  replyBatchSize: number;
  /** Answer from this library (issue 10) instead of chatting only. */
  grounded?: GroundedReplies;
  /** Whether small talk counts toward its channel's no-repeat memory (default true; dry runs say false). */
  remember?: boolean;
}

/** Analysis and decision of one message, before any reply is generated. */
export type SignalOutcome = Omit<MessageOutcome, 'reply'> & { embedding: Float32Array };

/** One encoder pass for the whole batch, then thresholds, topics and the decision per message. */
export async function analyzeSignals(
  engine: InferenceEngine,
  inputs: AnalyzeInput[],
): Promise<SignalOutcome[]> {
  if (inputs.length === 0) return [];
  // The model and the rules read the text with obfuscation undone ("1d10t", "k y s", homoglyphs).
  const read = inputs.map((input) => deobfuscateWithWords(input.message.text));
  const texts = read.map((r) => r.text);
  // A reply that only echoes its parent ("same to you", "+1") is judged with the parent: its text joins the pass.
  const echoes = inputs.map(({ message }) => {
    const parent = parentTurn(message.context, message.author.id);
    const phrase = parent ? echoPhrase(message.text) : null;
    return parent && phrase ? { phrase, ...deobfuscateWithWords(parent.text) } : null;
  });
  const parentTexts = echoes.flatMap((echo) => (echo ? [echo.text] : []));
  const pending = engine.signals([...texts, ...parentTexts]);
  // The rules read the same texts: matched while the model runs (the thread engine's call is already posted), not
  // after it, so that the batch's rule time (about 75 µs a message, `bench/main-thread-costs.ts`) is off its path.
  let ruleHits: Array<{ hits: RuleHit[]; parentHits: RuleHit[] | null }>;
  try {
    ruleHits = inputs.map(({ settings }, i) => {
      const rules = rulesOf(settings);
      const echo = echoes[i];
      return {
        hits: rules.match(texts[i]!, read[i]!.revealed),
        parentHits: echo ? rules.match(echo.text, echo.revealed) : null,
      };
    });
  } catch (error) {
    pending.catch(() => {}); // the error above is the one to report
    throw error;
  }
  const signals = await pending;
  if (signals.length !== texts.length + parentTexts.length) {
    throw new Error(`signals returned ${signals.length} results for ${texts.length + parentTexts.length} texts`);
  }
  const defaults = engine.defaults();
  let next = texts.length;
  return inputs.map(({ message, settings, topics }, i) => {
    const s = signals[i]!;
    const { hits, parentHits } = ruleHits[i]!;
    const echo = echoes[i];
    if (echo && parentHits) {
      const parent = analyse(signals[next++]!, settings, defaults, [], parentHits);
      hits.push(...contextHits(echo.phrase, parent.moderation));
    }
    const matches = matchTopics(s.embedding, topics, defaults.topicThreshold);
    const analysis = analyse(s, settings, defaults, matches, hits);
    return { analysis, decision: decide(message, analysis, settings), embedding: s.embedding };
  });
}

const ruleSets = new WeakMap<WorkspaceSettings, RuleSet>();

/** The compiled rules of a settings object, built once per settings copy (settings are replaced on change). */
function rulesOf(settings: WorkspaceSettings): RuleSet {
  let set = ruleSets.get(settings);
  if (!set) {
    set = new RuleSet(effectiveRules(settings));
    ruleSets.set(settings, set);
  }
  return set;
}

/** The key of a message's channel (the chit-chat no-repeat memory is per channel). */
export function channelKey(message: InboundMessage): string {
  return `${message.platform}:${message.workspaceId}:${message.channelId}`;
}

/** The reply request for a message; its id seeds sampling in the bundled runtime, so a retry says the same. */
export function replyRequestFor(message: InboundMessage, topic?: string): ReplyRequest {
  const request: ReplyRequest & { messageId: string } = {
    text: message.text,
    context: message.context,
    messageId: inboundJobId(refOf(message)),
    ...(topic === undefined ? {} : { topic }),
  };
  return request;
}

/**
 * engine.reply with blank replies as null. A batch where some replies came out empty (the runtime's
 * EmptyReplyError carries the ones that worked in `replies`) yields those and null for the rest.
 */
export async function generateReplies(
  engine: InferenceEngine,
  requests: ReplyRequest[],
): Promise<Array<string | null>> {
  let replies: Array<string | null>;
  try {
    replies = await engine.reply(requests);
  } catch (error) {
    const partial = (error as { replies?: unknown }).replies;
    if (!Array.isArray(partial) || partial.length !== requests.length) throw error;
    replies = partial as Array<string | null>;
  }
  return requests.map((_, i) => {
    const text = replies[i]?.trim() ?? '';
    return text === '' ? null : text;
  });
}

/**
 * Signals for the whole batch, then replies for only the messages whose decision asks for one, in batches of
 * replyBatchSize. Model errors propagate.
 */
export async function analyzeMessages(
  engine: InferenceEngine,
  inputs: AnalyzeInput[],
  options: AnalyzeOptions,
): Promise<MessageOutcome[]> {
  const signalled = await analyzeSignals(engine, inputs);
  const outcomes: MessageOutcome[] = signalled.map(({ embedding: _, ...o }) => ({
    ...o,
    reply: null,
  }));
  const wanted = outcomes.flatMap((outcome, i) => (outcome.decision.reply === null ? [] : [i]));
  const size = Math.max(1, options.replyBatchSize);
  for (let start = 0; start < wanted.length; start += size) {
    const chunk = wanted.slice(start, start + size);
    const requests = chunk.map((i) =>
      replyRequestFor(inputs[i]!.message, outcomes[i]!.decision.reply?.topic),
    );
    if (options.grounded) {
      const replies = await options.grounded.reply(
        chunk.map((i, j) => ({
          platform: inputs[i]!.message.platform,
          workspaceId: inputs[i]!.message.workspaceId,
          request: requests[j]!,
          reason: outcomes[i]!.decision.reply!.reason,
          language: outcomes[i]!.analysis.language,
          embedding: signalled[i]!.embedding,
          ...(options.remember === false ? {} : { channel: channelKey(inputs[i]!.message) }),
        })),
      );
      chunk.forEach((i, j) => {
        const reply = replies[j]!;
        outcomes[i]!.reply = reply.text;
        outcomes[i]!.sources = reply.sources;
        if (reply.evidence) outcomes[i]!.evidence = reply.evidence;
        if (reply.chat) outcomes[i]!.chat = reply.chat;
        if (reply.attention) outcomes[i]!.attention = reply.attention;
      });
      continue;
    }
    const replies = await generateReplies(engine, requests);
    chunk.forEach((i, j) => {
      outcomes[i]!.reply = replies[j] ?? null;
    });
  }
  return outcomes;
}

export interface TextOutcome extends MessageOutcome {
  text: string;
}

/**
 * Analysis (and optionally a reply) for plain texts without the queue: `steward analyze` and benchmarks.
 * With `reply: true` every text is treated as addressed to the bot, so replies follow the real decision
 * (none for flagged texts or when the settings' replyMode is off).
 */
export async function analyzeBatch(
  engine: InferenceEngine,
  texts: string[],
  settings: WorkspaceSettings,
  options: {
    reply?: boolean;
    replyBatchSize?: number;
    topicIndex?: TopicIndex;
    /** Per text, the message it replies to (its reply-chain context), if any. */
    parents?: ReadonlyArray<string | undefined>;
    /** Answer from the library of this workspace (`steward analyze` uses the local one). */
    grounded?: { replies: GroundedReplies; platform: InboundMessage['platform']; workspaceId: string };
  } = {},
): Promise<TextOutcome[]> {
  const index = options.topicIndex ?? new TopicIndex(engine);
  const topics = await index.vectorsFor(settings.topics);
  const now = Date.now();
  const inputs = texts.map(
    (text, i): AnalyzeInput => ({
      message: {
        platform: options.grounded?.platform ?? 'local',
        workspaceId: options.grounded?.workspaceId ?? 'cli',
        channelId: 'cli',
        messageId: String(i),
        author: { id: 'cli', name: 'cli', roles: [], isBot: false },
        text,
        mentionsBot: options.reply === true,
        timestamp: now,
        context:
          options.parents?.[i] === undefined
            ? []
            : [{ authorId: 'parent', text: options.parents[i]!, fromBot: false }],
        direct: false,
      },
      settings,
      topics,
    }),
  );
  const outcomes = await analyzeMessages(engine, inputs, {
    replyBatchSize: options.replyBatchSize ?? 8,
    ...(options.grounded ? { grounded: options.grounded.replies } : {}),
  });
  return outcomes.map((outcome, i) => ({ ...outcome, text: texts[i]! }));
}
