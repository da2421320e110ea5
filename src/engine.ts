import type { Signals, SupportedLanguages } from './domain/analysis.ts';

/** What the loaded models bring: per-label thresholds, the topic cut-off, labels and the languages they read. */
export interface EngineDefaults {
  thresholds: Record<string, number>;
  topicThreshold: number;
  labels: string[];
  languages: SupportedLanguages;
  /** Thresholds calibrated for one language, replacing `thresholds` for messages in it. */
  thresholdsByLanguage?: Record<string, Record<string, number>>;
}
import type { ContextTurn } from './domain/message.ts';

/** One message that warrants a reply, with the turns before it. */
export interface ReplyRequest {
  text: string;
  context: ContextTurn[];
  /** Topic the reply is about, when the reply was triggered by a topic. */
  topic?: string;
  /** A library passage the reply should answer from (models trained with a source_prefix read it). */
  source?: { title: string; text: string };
  /** The message's language, when known: a model that lists its languages is not run on others (empty reply). */
  language?: string;
}

/** How likely the reply model finds a candidate reply to a request (teacher-forced, summed over its tokens). */
export interface ReplyScore {
  /** Summed natural-log probability of the candidate's tokens and its end-of-sequence token. */
  logProb: number;
  /** Tokens scored (the candidate's plus the end-of-sequence token). */
  tokens: number;
}

/** A word of a source passage and the share of the reply model's cross-attention it received (0..1). */
export interface AttendedWord {
  word: string;
  weight: number;
}

/** A reply written for a request, to be explained by the cross-attention over the request's source. */
export interface AttentionRequest {
  request: ReplyRequest;
  /** The reply text shown (the model's own words or a quote of the source), without the citation. */
  answer: string;
}

export interface ModelInfo {
  role: 'signals' | 'sentiment' | 'moderation' | 'reply' | 'answer' | 'embed';
  source: string;
  version: string;
  dtype: string;
  device: string;
}

/** The models as the worker sees them; implemented in models/runtime, run off the platform event loop. */
export interface InferenceEngine {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Sentiment, moderation and embedding for a batch of texts, in input order. */
  signals(texts: string[]): Promise<Signals[]>;
  /** Embeddings only (topic descriptions), L2-normalised, in the space of `signals(…).embedding`. */
  embed(texts: string[]): Promise<Float32Array[]>;
  /**
   * Embeddings for library search (questions and library passages), L2-normalised: the sentence encoder's
   * (models.embed) when one is loaded, else the same as `embed`. Not comparable with `embed`'s vectors.
   */
  embedSearch(texts: string[]): Promise<Float32Array[]>;
  /** Replies for a batch of requests, in input order. */
  reply(requests: ReplyRequest[]): Promise<string[]>;
  /** The reply model's score of `candidates[i]` as the reply to `requests[i]`, in input order (chit-chat rerank). */
  scoreReplies(requests: ReplyRequest[], candidates: string[]): Promise<ReplyScore[]>;
  /**
   * For each request with a source, the passage's words weighted by the reply model's cross-attention while it
   * reads the answer (one teacher-forced pass); null when the model does not read sources or there is none.
   */
  attend(items: AttentionRequest[]): Promise<Array<AttendedWord[] | null>>;
  /** Default per-label moderation thresholds and the topic-match threshold of the loaded models. */
  defaults(): EngineDefaults;
  info(): ModelInfo[];
}
