export const SENTIMENT_LABELS = ['negative', 'neutral', 'positive'] as const;
export type SentimentLabel = (typeof SENTIMENT_LABELS)[number];

/** What the signals model says about one text, before any workspace settings apply. */
export interface Signals {
  sentiment: { label: SentimentLabel; scores: Record<SentimentLabel, number> };
  /** Probability per moderation label (labels come from the model's config). */
  moderation: Record<string, number>;
  /** Per label, the words that drove its score, strongest first. Shown to moderators only. */
  attributions: Record<string, string[]>;
  /** L2-normalised sentence embedding; internal, never sent to a platform. */
  embedding: Float32Array;
}

export interface TopicMatch {
  topic: string;
  score: number;
}

/** Signals with the workspace's thresholds and topics applied. */
export interface Analysis {
  sentiment: Signals['sentiment'];
  moderation: {
    scores: Record<string, number>;
    /** Labels whose score reached the workspace threshold. */
    flagged: string[];
    /** Words that drove each flagged label. */
    reasons: Record<string, string[]>;
  };
  /** Topics whose similarity passed the threshold, best first. */
  topics: TopicMatch[];
}
