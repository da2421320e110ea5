import {
  AutoModelForSequenceClassification,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type Tensor,
} from '@huggingface/transformers';
import { SENTIMENT_LABELS, type SentimentLabel, type WordWeight } from '../../src/domain/analysis.ts';
import { type LoadContext, type Loaded, loadPretrained, message } from './load.ts';
import { sigmoid, softmax } from '../../src/domain/vector.ts';
import {
  ModelLoadError,
  ModelRunError,
  type ModelSource,
  ROLE_SETTING,
  type RuntimeTuning,
} from './settings.ts';
import { encode, planBuckets, relativeWeight, toBatch } from './tokens.ts';

/** How a classifier's outputs become our labels: which logit feeds which label, and the activation. */
export interface LabelMap {
  /** Our label name per kept output, with the logit index it reads. */
  outputs: Array<{ label: string; index: number }>;
  activation: 'softmax' | 'sigmoid';
}

const SENTIMENT_ALIASES: Record<string, SentimentLabel> = {
  negative: 'negative',
  neg: 'negative',
  neutral: 'neutral',
  neu: 'neutral',
  positive: 'positive',
  pos: 'positive',
};

/**
 * Maps a sentiment classifier's id2label onto negative / neutral / positive. Named labels map by name;
 * bare LABEL_i labels follow the common 3-class order (0 negative, 1 neutral, 2 positive, as in the
 * cardiffnlp twitter-roberta models) or, with two classes, 0 negative / 1 positive.
 */
export function mapSentimentLabels(id2label: Record<string, string>): LabelMap {
  const entries = Object.entries(id2label).map(([i, name]) => ({
    index: Number(i),
    name: name.toLowerCase().trim(),
  }));
  const generic = entries.every((e) => /^label_\d+$/.test(e.name));
  const outputs = entries.map(({ index, name }) => {
    let label: SentimentLabel | undefined = SENTIMENT_ALIASES[name];
    if (generic && entries.length === 3) label = SENTIMENT_LABELS[index];
    if (generic && entries.length === 2) label = index === 0 ? 'negative' : 'positive';
    if (!label)
      throw new Error(`sentiment label "${name}" (id ${index}) is not negative, neutral or positive`);
    return { label, index };
  });
  if (new Set(outputs.map((o) => o.label)).size !== outputs.length)
    throw new Error('sentiment labels repeat');
  return { outputs, activation: 'softmax' };
}

/** Names that mean "nothing to flag" in a single-label (softmax) moderation classifier. */
const BENIGN = /^(non|not|no)([_-]|$)|^(neutral|normal|none|clean|safe|ok|acceptable|neither|label_0)$/;

/**
 * Maps a moderation classifier's id2label to our labels. Multi-label models (problem_type
 * multi_label_classification) get a sigmoid per label; single-label ones a softmax, with their "benign"
 * class dropped, since a label that means "fine" is not something to flag. A binary LABEL_0/LABEL_1
 * model keeps LABEL_1 as "flagged".
 */
export function mapModerationLabels(id2label: Record<string, string>, problemType?: string): LabelMap {
  const entries = Object.entries(id2label).map(([i, name]) => ({
    index: Number(i),
    name: name
      .toLowerCase()
      .trim()
      .replace(/[\s-]+/g, '_'),
  }));
  if (problemType === 'multi_label_classification') {
    return { outputs: entries.map((e) => ({ label: e.name, index: e.index })), activation: 'sigmoid' };
  }
  const outputs = entries
    .filter((e) => !BENIGN.test(e.name))
    .map((e) => ({
      label: entries.length === 2 && e.name === 'label_1' ? 'flagged' : e.name,
      index: e.index,
    }));
  if (outputs.length === 0) throw new Error('every label of the moderation model reads as benign');
  return { outputs, activation: 'softmax' };
}

/** A standard hub sequence classifier standing in for the sentiment or moderation head. */
export class HubClassifier {
  readonly labels: LabelMap;
  readonly dtype: string;
  readonly device: string;
  readonly version: string;
  readonly #model: PreTrainedModel;
  readonly #tokenizer: PreTrainedTokenizer;
  readonly #maxLength: number;
  readonly #tuning: RuntimeTuning;

  private constructor(loaded: Loaded<PreTrainedModel>, labels: LabelMap, tuning: RuntimeTuning) {
    this.#model = loaded.model;
    this.#tokenizer = loaded.tokenizer;
    this.dtype = loaded.dtype;
    this.device = loaded.device;
    this.labels = labels;
    this.#tuning = tuning;
    const config = loaded.model.config as { max_position_embeddings?: number; _name_or_path?: string };
    // RoBERTa-style models reserve 2 positions for the padding offset.
    this.#maxLength = Math.min(
      512,
      (config.max_position_embeddings ?? 514) - 2,
      loaded.tokenizer.model_max_length,
    );
    this.version = config._name_or_path ?? 'hub';
  }

  static async load(
    role: 'sentiment' | 'moderation',
    source: ModelSource,
    ctx: LoadContext,
    tuning: RuntimeTuning,
  ): Promise<HubClassifier> {
    const loaded = await loadPretrained<PreTrainedModel>(
      AutoModelForSequenceClassification,
      source,
      ['model'],
      ctx,
    );
    const config = loaded.model.config as { id2label?: Record<string, string>; problem_type?: string };
    try {
      if (!config.id2label) throw new Error('config.json has no id2label');
      const labels =
        role === 'sentiment'
          ? mapSentimentLabels(config.id2label)
          : mapModerationLabels(config.id2label, config.problem_type);
      return new HubClassifier(loaded, labels, tuning);
    } catch (error) {
      await loaded.model.dispose();
      throw new ModelLoadError(
        `${ROLE_SETTING[role]}: ${source.location} is not usable as a ${role} classifier: ${message(error)}`,
      );
    }
  }

  /** Probabilities per label for each text, in input order. */
  async scores(texts: string[]): Promise<Array<Record<string, number>>> {
    const encoded = texts.map((t) => encode(this.#tokenizer, t, this.#maxLength));
    const out = new Array<Record<string, number>>(texts.length);
    for (const bucket of planBuckets(
      encoded.map((e) => e.ids.length),
      this.#tuning.bucketSize,
      this.#tuning.maxBucketTokens,
      this.#tuning.runOverheadTokens,
    )) {
      const batch = toBatch(
        bucket.map((i) => encoded[i]!.ids),
        this.#tokenizer.pad_token_id ?? 0,
      );
      let logits: Tensor;
      try {
        ({ logits } = await this.#model({
          input_ids: batch.input_ids,
          attention_mask: batch.attention_mask,
        }));
      } catch (error) {
        throw new ModelRunError(`classifier failed on a batch of ${bucket.length}: ${message(error)}`, error);
      }
      const width = logits.dims.at(-1)!;
      const data = logits.data as Float32Array;
      bucket.forEach((index, row) => {
        const raw = data.subarray(row * width, (row + 1) * width);
        const probs = this.labels.activation === 'softmax' ? softmax(raw) : Array.from(raw, sigmoid);
        out[index] = Object.fromEntries(this.labels.outputs.map((o) => [o.label, probs[o.index]!]));
      });
    }
    return out;
  }

  /**
   * Occlusion attributions: drop each word in turn and measure how much each label's score falls. Such
   * models have no attribution output, so this costs one extra (batched) run per word; only labels whose
   * score reached `minScore` are explained, and only the first `maxOcclusionWords` words are tried. Each word's
   * weight is its drop relative to the largest drop of that label.
   */
  async attribute(
    texts: string[],
    base: Array<Record<string, number>>,
    minScore: number,
  ): Promise<Array<Record<string, WordWeight[]>>> {
    const variants: string[] = [];
    const plan = texts.map((text, i) => {
      const labels = Object.keys(base[i]!).filter((l) => base[i]![l]! >= minScore);
      if (labels.length === 0) return { labels, words: [] as string[], start: variants.length };
      const spans = [...text.matchAll(/\S+/gu)].slice(0, this.#tuning.maxOcclusionWords);
      const start = variants.length;
      for (const span of spans)
        variants.push(text.slice(0, span.index) + text.slice(span.index + span[0].length));
      return { labels, words: spans.map((s) => s[0].replace(/^[\p{P}]+|[\p{P}]+$/gu, '')), start };
    });
    const occluded = variants.length > 0 ? await this.scores(variants) : [];
    return plan.map(({ labels, words, start }, i) =>
      Object.fromEntries(
        labels.map((label) => {
          const drops = words
            .map((word, w) => ({ word, drop: base[i]![label]! - occluded[start + w]![label]! }))
            .filter((d) => d.drop > 0 && d.word.length > 0)
            .sort((a, b) => b.drop - a.drop);
          // Strongest first, so the first occurrence of a word (any case) is its largest drop.
          const unique = new Map<string, WordWeight>();
          const top = drops[0]?.drop ?? 0;
          for (const d of drops)
            if (!unique.has(d.word.toLowerCase()))
              unique.set(d.word.toLowerCase(), { word: d.word, weight: relativeWeight(d.drop, top) });
          return [label, [...unique.values()].slice(0, 3)];
        }),
      ),
    );
  }

  async dispose(): Promise<void> {
    await this.#model.dispose();
  }
}
