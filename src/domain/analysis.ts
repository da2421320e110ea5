export const SENTIMENT_LABELS = ['negative', 'neutral', 'positive'] as const;
export type SentimentLabel = (typeof SENTIMENT_LABELS)[number];

/** One word that drove a moderation label, with its attribution relative to the label's strongest word (1). */
export interface WordWeight {
  word: string;
  /** 0..1: the word's attribution divided by that of the label's strongest word. */
  weight: number;
}

/** What the signals model says about one text, before any workspace settings apply. */
export interface Signals {
  /** ISO 639-1 code of the text's language, or "und" when it has no letters to tell by. */
  language: string;
  sentiment: { label: SentimentLabel; scores: Record<SentimentLabel, number> };
  /** Probability per moderation label (labels come from the model's config). */
  moderation: Record<string, number>;
  /** Per label, the words that drove its score, strongest first. Shown to moderators only. */
  attributions: Record<string, string[]>;
  /**
   * Per label, the same words with the model's attribution weights (same order). Absent when the model gives no
   * scores for its words.
   */
  attributionWeights?: Record<string, WordWeight[]>;
  /** L2-normalised sentence embedding; internal, never sent to a platform. */
  embedding: Float32Array;
}

export interface TopicMatch {
  topic: string;
  score: number;
}

/** The languages each signal of the loaded models can read (from the model card / config.json). */
export interface SupportedLanguages {
  sentiment: readonly string[];
  moderation: readonly string[];
}

/** Why a signal said nothing: it cannot read the message's language. */
export type Abstention = 'language';

/** Signals with the workspace's thresholds and topics applied. */
export interface Analysis {
  language: string;
  /** Null when the sentiment model abstained (see sentimentAbstained). */
  sentiment: Signals['sentiment'] | null;
  sentimentAbstained?: Abstention;
  moderation: {
    /** Model scores per label; empty when the model abstained (no guess dressed as a score). */
    scores: Record<string, number>;
    /** Labels whose score reached the workspace threshold. */
    flagged: string[];
    /** Words that drove each flagged label. */
    reasons: Record<string, string[]>;
    /** The model's words of each flagged label with their attribution weights, when the model gave them. */
    attributionWeights?: Record<string, WordWeight[]>;
    /** Set when the moderation model did not judge the message. */
    abstained?: Abstention;
    /** Rules (built-in or the workspace's) that matched; their labels are flagged whatever the model said. */
    rules?: Array<{ id: string; label: string; match: string; why?: string }>;
    /** Allow rules that matched: the model's labels were not raised for this message (the scores stay). */
    allowedBy?: string[];
  };
  /** Topics whose similarity passed the threshold, best first. */
  topics: TopicMatch[];
}
