import {
  AutoModel,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type Tensor,
} from '@huggingface/transformers';
import { z } from 'zod';
import { SENTIMENT_LABELS, type SentimentLabel, type WordWeight } from '../../src/domain/analysis.ts';
import type { Logger } from '../../src/logger.ts';
import {
  type LoadContext,
  type Loaded,
  loadPretrained,
  message,
  requireOutputs,
  stewardMeta,
} from './load.ts';
import { l2normalize, sigmoid, softmax } from '../../src/domain/vector.ts';
import { ModelRunError, type ModelSource, type RuntimeTuning } from './settings.ts';
import { type Encoded, encode, planBuckets, toBatch, topWordWeights, type Word, wordsOf } from './tokens.ts';
import { LexicalChannel, LexicalMetaSchema, mixSignals } from './lexical.ts';
import { SafetyChannel, SafetyMetaSchema } from './safety-zh.ts';
import { SentimentChannel, SentimentChannelMetaSchema } from './sentiment-zh.ts';

/**
 * Below this score a moderation label gets no attribution words: no threshold anyone would flag at is that low,
 * and skipping them saves the word merging on nearly every message (about 7 % of the engine's time per message).
 */
export const ATTRIBUTION_FLOOR = 0.05;

/** The `steward` block of the signals model's config.json, written by models/training. */
const SignalsMetaSchema = z.object({
  sentiment_labels: z.array(z.enum(SENTIMENT_LABELS)).length(3),
  moderation_labels: z.array(z.string().min(1)).min(1),
  default_thresholds: z.record(z.string(), z.number().min(0).max(1)).default({}),
  embedding_dim: z.number().int().positive().optional(),
  max_length: z.number().int().positive().default(128),
  topic_threshold: z.number().min(-1).max(1).default(0.5),
  /** Languages each signal was trained and measured on; it abstains on the others (0.2 and earlier: English). */
  languages: z
    .object({ sentiment: z.array(z.string()), moderation: z.array(z.string()) })
    .default({ sentiment: ['en'], moderation: ['en'] }),
  /** Per-language threshold maps that replace default_thresholds for that language (signals 0.3: zh). */
  thresholds_by_language: z
    .record(z.string(), z.object({ default_thresholds: z.record(z.string(), z.number().min(0).max(1)) }))
    .default({}),
  /**
   * Per-language offsets added to the sentiment logits (in sentiment_labels order) before the softmax: they turn the
   * head's prior into a balanced one, which is what macro-recall rewards (models/training/signals.py
   * sentiment_logit_adjustment). Languages not listed are read as the graph gives them.
   */
  sentiment_logit_adjustment: z.record(z.string(), z.array(z.number()).length(3)).default({}),
  version: z.union([z.string(), z.number()]).transform(String).default('unversioned'),
  /** signals 0.3.3: a TF-IDF regression in the same folder, mixed with the graph's logits (models/runtime/lexical.ts). */
  lexical_channel: LexicalMetaSchema.optional(),
  /** Chinese threats, incitement to self-harm and abuse: a character n-gram regression in the same folder (safety-zh.ts). */
  safety_channel: SafetyMetaSchema.optional(),
  /** Chinese sentiment: a character n-gram regression in the same folder (sentiment-zh.ts), mixed with the head. */
  sentiment_channel: SentimentChannelMetaSchema.optional(),
  /** Map @handles and links the way the training data wrote them (models/training/common.py clean_tweet). */
  preprocess: z
    .object({
      mentions: z.string().optional(),
      urls: z.string().optional(),
      collapse_whitespace: z.boolean().optional(),
    })
    .optional(),
});
export type SignalsMeta = z.infer<typeof SignalsMetaSchema>;

/** The heads' scores for one text in its language (SignalsModel.scoresIn). */
export type Scores = Pick<RawSignals, 'sentiment' | 'moderation' | 'attributions' | 'attributionWeights'>;

/** What the signals graph says about one text, before any hub classifier replaces a head. */
export interface RawSignals {
  sentiment: Record<SentimentLabel, number>;
  moderation: Record<string, number>;
  attributions: Record<string, string[]>;
  /** The same words with their attribution relative to the label's strongest word. */
  attributionWeights: Record<string, WordWeight[]>;
  embedding: Float32Array;
}

export class SignalsModel {
  readonly meta: SignalsMeta;
  readonly dtype: string;
  readonly device: string;
  readonly #model: PreTrainedModel;
  readonly #tokenizer: PreTrainedTokenizer;
  readonly #tuning: RuntimeTuning;
  readonly #logger: Logger;
  readonly #lexical: LexicalChannel | undefined;
  readonly #safety: SafetyChannel | undefined;
  readonly #sentiment: SentimentChannel | undefined;

  private constructor(
    loaded: Loaded<PreTrainedModel>,
    meta: SignalsMeta,
    tuning: RuntimeTuning,
    logger: Logger,
    channels: {
      lexical?: LexicalChannel | undefined;
      safety?: SafetyChannel | undefined;
      sentiment?: SentimentChannel | undefined;
    },
  ) {
    this.#lexical = channels.lexical;
    this.#safety = channels.safety;
    this.#sentiment = channels.sentiment;
    this.#model = loaded.model;
    this.#tokenizer = loaded.tokenizer;
    this.dtype = loaded.dtype;
    this.device = loaded.device;
    this.meta = meta;
    this.#tuning = tuning;
    this.#logger = logger;
  }

  static async load(source: ModelSource, ctx: LoadContext, tuning: RuntimeTuning): Promise<SignalsModel> {
    const loaded = await loadPretrained<PreTrainedModel>(AutoModel, source, ['model'], ctx);
    const meta = await stewardMeta(loaded, SignalsMetaSchema, source, 'signals');
    await requireOutputs(
      loaded,
      ['sentiment_logits', 'moderation_logits', 'moderation_attribution', 'embeddings'],
      source,
    );
    // The channels beside the graph are files in the model folder: a hub id has none to read.
    const beside = async <B extends { file: string }, T>(
      name: string,
      block: B | undefined,
      load: (source: ModelSource, block: B) => Promise<T>,
    ): Promise<T | undefined> => {
      if (!block) return undefined;
      if (source.local) return load(source, block);
      ctx.logger.warn(
        { role: 'signals', source: source.location, file: block.file },
        `the ${name} channel is read from local model folders only; running without it`,
      );
      return undefined;
    };
    try {
      const lexical = await beside('lexical', meta.lexical_channel, LexicalChannel.load);
      const safety = await beside('safety', meta.safety_channel, SafetyChannel.load);
      const sentiment = await beside('sentiment', meta.sentiment_channel, SentimentChannel.load);
      return new SignalsModel(loaded, meta, tuning, ctx.logger, { lexical, safety, sentiment });
    } catch (error) {
      await loaded.model.dispose();
      throw error;
    }
  }

  get labels(): string[] {
    return this.meta.moderation_labels;
  }

  /** Tokenizes (with truncation at max_length, logged at debug) and keeps each text's tokens for attributions. */
  encodeAll(texts: string[]): Encoded[] {
    const encoded = texts.map((t) =>
      encode(this.#tokenizer, preprocess(t, this.meta.preprocess), this.meta.max_length),
    );
    const cut = encoded.filter((e) => e.dropped > 0);
    if (cut.length > 0) {
      this.#logger.debug(
        {
          role: 'signals',
          truncated: cut.length,
          droppedTokens: cut.map((e) => e.dropped),
          maxLength: this.meta.max_length,
        },
        'texts longer than the model limit were truncated',
      );
    }
    return encoded;
  }

  /** One encoder pass per length bucket; results in input order. */
  async run(texts: string[], withHeads = true): Promise<RawSignals[]> {
    const encoded = this.encodeAll(texts);
    const out = new Array<RawSignals>(texts.length);
    const buckets = planBuckets(
      encoded.map((e) => e.ids.length),
      this.#tuning.bucketSize,
      this.#tuning.maxBucketTokens,
      this.#tuning.runOverheadTokens,
    );
    for (const bucket of buckets) {
      const batch = toBatch(
        bucket.map((i) => encoded[i]!.ids),
        this.#tokenizer.pad_token_id ?? 0,
      );
      let result: Record<string, Tensor>;
      try {
        result = await this.#model({ input_ids: batch.input_ids, attention_mask: batch.attention_mask });
      } catch (error) {
        throw new ModelRunError(
          `signals model failed on a batch of ${bucket.length}: ${message(error)}`,
          error,
        );
      }
      bucket.forEach((index, row) => {
        out[index] = this.#read(result, row, batch.width, encoded[index]!, withHeads);
      });
    }
    return out;
  }

  #read(
    result: Record<string, Tensor>,
    row: number,
    width: number,
    encoded: Encoded,
    withHeads: boolean,
  ): RawSignals {
    const labels = this.meta.moderation_labels;
    const L = labels.length;
    const emb = result.embeddings!;
    const D = emb.dims.at(-1)!;
    const embedding = l2normalize((emb.data as Float32Array).subarray(row * D, (row + 1) * D));
    const sentiment = {} as Record<SentimentLabel, number>;
    const moderation: Record<string, number> = {};
    const attributions: Record<string, string[]> = {};
    const attributionWeights: Record<string, WordWeight[]> = {};
    if (withHeads) {
      const s = result.sentiment_logits!.data as Float32Array;
      const probs = softmax(s.subarray(row * 3, row * 3 + 3));
      this.meta.sentiment_labels.forEach((label, i) => {
        sentiment[label] = probs[i]!;
      });
      const m = result.moderation_logits!.data as Float32Array;
      const attr = result.moderation_attribution!.data as Float32Array;
      let words: Word[] | undefined;
      labels.forEach((label, l) => {
        const score = sigmoid(m[row * L + l]!);
        moderation[label] = score;
        // Most chat scores near zero on every label; finding words for those would be wasted work.
        if (score < ATTRIBUTION_FLOOR) {
          attributions[label] = [];
          attributionWeights[label] = [];
          return;
        }
        words ??= wordsOf(this.#tokenizer, encoded);
        const weighted = topWordWeights(words, (t) => attr[(row * width + t) * L + l]!);
        attributions[label] = weighted.map((w) => w.word);
        attributionWeights[label] = weighted;
      });
    }
    return { sentiment, moderation, attributions, attributionWeights, embedding };
  }

  /** The sentiment scores for a text in `language`: the graph's, with that language's logit offsets applied. */
  sentimentIn(language: string, scores: Record<SentimentLabel, number>): Record<SentimentLabel, number> {
    const offsets = this.meta.sentiment_logit_adjustment[language];
    return offsets ? shiftLogits(this.meta.sentiment_labels, scores, offsets) : scores;
  }

  /**
   * The heads' scores for `text` (as given to `run`) in `language`: sentiment with that language's logit offsets and,
   * where the lexical channel supports the language, sentiment and `offensive` mixed with its logits (the words of
   * `offensive` are then the channel's when it carries at least half the logit or the graph found none); where the
   * sentiment channel supports it, sentiment mixed with its logits; where the safety channel supports it, its labels
   * (`threat`, `self_harm`) with their words, the graph's labels capped at its reading of abuse and `offensive` then
   * raised to its offensive class.
   */
  scoresIn(language: string, text: string, raw: RawSignals): Scores {
    const mixed = this.#mixSentiment(language, text, this.#mixLexical(language, text, raw));
    const safety = this.#safety;
    if (!safety?.supports(language) || Object.keys(raw.sentiment).length === 0) return mixed;
    // Chinese threats and incitement: labels of the channel's own, beside the graph's.
    const reading = safety.read(text);
    const out: Scores = {
      ...mixed,
      moderation: { ...mixed.moderation },
      attributions: { ...mixed.attributions },
      attributionWeights: { ...mixed.attributionWeights },
    };
    const words = (label: string, score: number) => {
      const weighted = score >= ATTRIBUTION_FLOOR ? reading.words(label) : [];
      out.attributions[label] = weighted.map((w) => w.word);
      out.attributionWeights[label] = weighted;
    };
    for (const [label, score] of Object.entries(reading.scores)) {
      out.moderation[label] = score;
      words(label, score);
    }
    // The graph's `offensive` flags crime news and game talk in Chinese and misses personal abuse (COLD's lines are
    // about groups), and its other labels never learned Chinese: each held at the channel's reading of abuse of any
    // kind, then `offensive` lifted to its reading of that class. The words shown are those of the reading that
    // decided; a label the channel has no class for keeps the graph's words (the cap only lowered its score).
    for (const label of safety.meta.caps) {
      const own = out.moderation[label];
      if (own === undefined || own <= reading.cap) continue;
      out.moderation[label] = reading.cap;
      if (safety.reads(label)) words(label, reading.cap);
    }
    for (const label of safety.meta.raises) {
      const own = out.moderation[label];
      const channel = reading.probability(label);
      if (own === undefined || own >= channel) continue;
      out.moderation[label] = channel;
      words(label, channel);
    }
    return out;
  }

  /** Where the sentiment channel reads the language, the graph's sentiment mixed with its logits. */
  #mixSentiment(language: string, text: string, scores: Scores): Scores {
    const channel = this.#sentiment;
    if (!channel?.supports(language) || Object.keys(scores.sentiment).length === 0) return scores;
    const labels = this.meta.sentiment_labels;
    const logits = channel.mixed(text, scores.sentiment);
    const probs = softmax(labels.map((label) => logits[label]));
    return {
      ...scores,
      sentiment: Object.fromEntries(labels.map((label, i) => [label, probs[i]!])) as Record<
        SentimentLabel,
        number
      >,
    };
  }

  #mixLexical(language: string, text: string, raw: RawSignals): Scores {
    const sentiment = this.sentimentIn(language, raw.sentiment);
    const lexical = this.#lexical;
    if (!lexical?.supports(language) || Object.keys(raw.sentiment).length === 0) {
      return {
        sentiment,
        moderation: raw.moderation,
        attributions: raw.attributions,
        attributionWeights: raw.attributionWeights,
      };
    }
    const clean = preprocess(text, this.meta.preprocess);
    const reading = lexical.read(clean);
    const lex = reading.logits;
    const labels = this.meta.sentiment_labels;
    const own = raw.moderation.offensive;
    const p = own === undefined ? undefined : Math.min(Math.max(own, 1e-7), 1 - 1e-7);
    const logits = mixSignals(
      lexical.meta,
      lex,
      labels,
      labels.map((label) => Math.log(sentiment[label])),
      p === undefined ? undefined : Math.log(p / (1 - p)),
    );
    const mixed = softmax(logits.sentiment);
    const out = {
      sentiment: Object.fromEntries(labels.map((label, i) => [label, mixed[i]!])) as Record<
        SentimentLabel,
        number
      >,
      moderation: { ...raw.moderation },
      attributions: raw.attributions,
      attributionWeights: raw.attributionWeights,
    };
    const at = lexical.meta.outputs.indexOf('offensive');
    if (at >= 0 && logits.offensive !== undefined) {
      const score = sigmoid(logits.offensive);
      out.moderation.offensive = score;
      // The words shown come from the part that carries most of the score: the channel's when it weighs at least
      // half (or the graph found none), else the graph's attribution.
      const graphWords = raw.attributions.offensive?.length ?? 0;
      if (score >= ATTRIBUTION_FLOOR && (lexical.meta.mix.offensive >= 0.5 || graphWords === 0)) {
        const weighted = reading.topWords(at);
        if (weighted.length > 0 || graphWords === 0) {
          out.attributions = { ...raw.attributions, offensive: weighted.map((w) => w.word) };
          out.attributionWeights = { ...raw.attributionWeights, offensive: weighted };
        }
      }
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.#model.dispose();
  }
}

const URL_RE = /(https?:\/\/\S+|www\.\S+)/giu;
const MENTION_RE = /@\w+/gu;

/** The training-time text mapping named by steward.preprocess (mirrors clean_tweet in models/training/common.py). */
export function preprocess(text: string, mode: SignalsMeta['preprocess']): string {
  if (!mode) return text;
  let out = text;
  if (mode.urls !== undefined) out = out.replace(URL_RE, mode.urls).replace(/\bURL\b/gu, mode.urls);
  if (mode.mentions !== undefined) out = out.replace(MENTION_RE, mode.mentions);
  if (mode.collapse_whitespace) out = out.replace(/\s+/gu, ' ').trim();
  return out;
}

/** softmax(log p + b): the probabilities the logits plus `offsets` give (offsets in `labels` order). */
export function shiftLogits(
  labels: readonly SentimentLabel[],
  scores: Record<SentimentLabel, number>,
  offsets: readonly number[],
): Record<SentimentLabel, number> {
  const shifted = softmax(labels.map((label, i) => Math.log(scores[label]) + offsets[i]!));
  return Object.fromEntries(labels.map((label, i) => [label, shifted[i]!])) as Record<SentimentLabel, number>;
}
