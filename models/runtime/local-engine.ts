import {
  SENTIMENT_LABELS,
  type SentimentLabel,
  type Signals,
  type WordWeight,
} from '../../src/domain/analysis.ts';
import type {
  AttendedWord,
  AttentionRequest,
  EngineDefaults,
  InferenceEngine,
  ModelInfo,
  ReplyRequest,
  ReplyScore,
} from '../../src/engine.ts';
import { inferenceThreads } from '../../src/config.ts';
import { LifecycleError } from '../../src/errors.ts';
import type { Logger } from '../../src/logger.ts';
import { HubClassifier } from './classifier.ts';
import { Embedder } from './embedder.ts';
import { EngineLifecycle } from './lifecycle.ts';
import { configureTransformersEnv, DeviceChoice, disposeQuietly, type LoadContext } from './load.ts';
import { ReplyModel, type SeededReplyRequest } from './reply.ts';
import {
  DEFAULT_TUNING,
  type ModelSource,
  resolveSource,
  type RuntimeConfig,
  type RuntimeTuning,
} from './settings.ts';
import { SignalsModel } from './signals.ts';
import { detectLanguage, loadLanguageDetector } from './language.ts';

/** Below this score a hub moderation label is not explained (occlusion costs a run per word). */
const ATTRIBUTION_MIN_SCORE = 0.3;

/** Scoring batches are this many times the reply batch size (no sampling loop, one pass per row). */
const SCORE_BATCH_FACTOR = 4;

export interface LocalEngineOptions {
  tuning?: Partial<RuntimeTuning>;
  /** Load the reply model (default true); benchmarks and signals-only tools turn it off. */
  reply?: boolean;
  /** Load the library's sentence encoder when models.embed names one (default true). */
  embed?: boolean;
}

/** models.embed value that searches the library with the signals model's embeddings. */
export const EMBED_OFF = 'off';

/** models.answer value that leaves library answers to the reply model. */
export const ANSWER_OFF = 'off';

interface Roles {
  signals: SignalsModel;
  reply?: ReplyModel;
  /** Writes library answers from their passage (requests with a source); without it the reply model does. */
  answer?: ReplyModel;
  embed?: Embedder;
  sentiment?: HubClassifier;
  moderation?: HubClassifier;
  sources: Record<string, ModelSource>;
}

/** Runs the models in this thread. Use createThreadEngine in any process that holds a platform connection. */
export class LocalEngine implements InferenceEngine {
  readonly #config: RuntimeConfig;
  readonly #logger: Logger;
  readonly #tuning: RuntimeTuning;
  readonly #withReply: boolean;
  readonly #withEmbed: boolean;
  #roles: Roles | undefined;
  readonly #life = new EngineLifecycle();
  readonly #inflight = new Set<Promise<unknown>>();

  constructor(config: RuntimeConfig, logger: Logger, options: LocalEngineOptions = {}) {
    this.#config = config;
    this.#logger = logger.child({ component: 'models' });
    this.#tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.#withReply = options.reply ?? true;
    this.#withEmbed = options.embed ?? true;
  }

  start(): Promise<void> {
    return this.#life.start(() => this.#start());
  }

  async #start(): Promise<void> {
    const started = performance.now();
    const loaded: Partial<Roles> = {};
    try {
      await this.#load(loaded);
    } catch (error) {
      // A failed start leaves nothing loaded and the engine startable again once the setting is fixed.
      await this.#dispose(loaded);
      throw error;
    }
    this.#roles = loaded as Roles;
    this.#logger.info(
      {
        models: infoOf(this.#roles),
        threads: inferenceThreads(this.#config.models, 'engine'),
        ms: Math.round(performance.now() - started),
      },
      'models loaded',
    );
  }

  async #load(loaded: Partial<Roles>): Promise<void> {
    const { models } = this.#config;
    // Resolve every source before loading anything, so a bad setting fails fast and names itself.
    const sources: Record<string, ModelSource> = {
      signals: resolveSource('signals', models.signals, models.allowRemote),
    };
    if (this.#withReply) sources.reply = resolveSource('reply', models.reply, models.allowRemote);
    if (this.#withReply && models.answer !== ANSWER_OFF)
      sources.answer = resolveSource('answer', models.answer, models.allowRemote);
    if (this.#withEmbed && models.embed !== EMBED_OFF)
      sources.embed = resolveSource('embed', models.embed, models.allowRemote);
    if (models.sentiment)
      sources.sentiment = resolveSource('sentiment', models.sentiment, models.allowRemote);
    if (models.moderation)
      sources.moderation = resolveSource('moderation', models.moderation, models.allowRemote);
    loaded.sources = sources;
    configureTransformersEnv(models);
    await loadLanguageDetector();
    const device = new DeviceChoice(models.device, this.#logger);
    const ctx: LoadContext = { config: this.#config, logger: this.#logger, device };
    // Sequential: loads compete for the same cores, and the CUDA fallback is decided by the first one.
    loaded.signals = await SignalsModel.load(sources.signals!, ctx, this.#tuning);
    if (sources.sentiment)
      loaded.sentiment = await HubClassifier.load('sentiment', sources.sentiment, ctx, this.#tuning);
    if (sources.moderation) {
      loaded.moderation = await HubClassifier.load('moderation', sources.moderation, ctx, this.#tuning);
    }
    if (sources.reply) loaded.reply = await ReplyModel.load(sources.reply, ctx);
    if (sources.answer) loaded.answer = await ReplyModel.load(sources.answer, ctx);
    if (sources.embed) loaded.embed = await Embedder.load(sources.embed, ctx, this.#tuning);
  }

  /** Idempotent: a second call returns the first call's promise. During start() it waits for the start, then stops. */
  stop(): Promise<void> {
    return this.#life.stop(async () => {
      const roles = this.#roles;
      this.#roles = undefined;
      // Calls already running finish on live sessions; new ones were refused the moment state changed.
      await Promise.allSettled(this.#inflight);
      if (roles) await this.#dispose(roles);
    });
  }

  signals(texts: string[]): Promise<Signals[]> {
    return this.#track((roles) => this.#signals(roles, texts));
  }

  embed(texts: string[]): Promise<Float32Array[]> {
    return this.#track((roles) => signalsEmbeddings(roles, texts));
  }

  embedSearch(texts: string[]): Promise<Float32Array[]> {
    return this.#track((roles) =>
      roles.embed && texts.length > 0 ? roles.embed.embed(texts) : signalsEmbeddings(roles, texts),
    );
  }

  reply(requests: SeededReplyRequest[]): Promise<string[]> {
    return this.#track(async (roles) => {
      if (!roles.reply) throw new LifecycleError('this engine was started without the reply model');
      if (requests.length === 0) return [];
      const { replyBatchSize, maxReplyTokens } = this.#config.worker;
      const out = new Array<string>(requests.length);
      for (const [model, at] of byModel(roles, requests)) {
        // A model is not run on requests in a language it was not trained on: their reply is empty (for a library
        // answer, the worker quotes the source instead).
        const read = at.filter((i) => model.reads(requests[i]!.language));
        for (const i of at) out[i] = '';
        if (read.length === 0) continue;
        const texts = await model.generate(
          read.map((i) => requests[i]!),
          replyBatchSize,
          maxReplyTokens,
        );
        read.forEach((i, k) => {
          out[i] = texts[k]!;
        });
      }
      return out;
    });
  }

  scoreReplies(requests: ReplyRequest[], candidates: string[]): Promise<ReplyScore[]> {
    return this.#track(async (roles) => {
      if (!roles.reply) throw new LifecycleError('this engine was started without the reply model');
      if (requests.length === 0) return [];
      // Scoring is one decoder pass per row, far cheaper than generating: bigger batches than replies.
      return roles.reply.score(requests, candidates, this.#config.worker.replyBatchSize * SCORE_BATCH_FACTOR);
    });
  }

  attend(items: AttentionRequest[]): Promise<Array<AttendedWord[] | null>> {
    return this.#track(async (roles) => {
      if (!roles.reply) throw new LifecycleError('this engine was started without the reply model');
      const out: Array<AttendedWord[] | null> = [];
      // One pass each: only explanations ask (analyze --reply), a few answers per batch.
      for (const { request, answer } of items)
        out.push(await modelFor(roles, request).attend(request, answer));
      return out;
    });
  }

  /** Runs a call against the loaded roles, remembering it so stop() can let it finish first. */
  #track<T>(run: (roles: Roles) => Promise<T>): Promise<T> {
    let promise: Promise<T>;
    try {
      promise = run(this.#require());
    } catch (error) {
      return Promise.reject(error);
    }
    this.#inflight.add(promise);
    const forget = () => this.#inflight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  async #signals(roles: Roles, texts: string[]): Promise<Signals[]> {
    if (texts.length === 0) return [];
    // With both heads replaced by hub classifiers only the embedding is still needed from the signals graph.
    const raw = await roles.signals.run(texts, !(roles.sentiment && roles.moderation));
    const sentiment = roles.sentiment ? await roles.sentiment.scores(texts) : undefined;
    let moderation: Array<Record<string, number>> | undefined;
    let reasons: Array<Record<string, WordWeight[]>> | undefined;
    if (roles.moderation) {
      moderation = await roles.moderation.scores(texts);
      reasons = await roles.moderation.attribute(texts, moderation, ATTRIBUTION_MIN_SCORE);
    }
    return raw.map((r, i) => {
      const language = detectLanguage(texts[i]!);
      const own = roles.signals.scoresIn(language, texts[i]!, r);
      const scores = sentiment ? completeSentiment(sentiment[i]!) : own.sentiment;
      return {
        language,
        sentiment: { label: argmaxLabel(scores), scores },
        moderation: moderation ? moderation[i]! : own.moderation,
        attributions: reasons
          ? mapLabels(withAllLabels(reasons[i]!, moderation![i]!), (ws) => ws.map((w) => w.word))
          : own.attributions,
        attributionWeights: reasons ? withAllLabels(reasons[i]!, moderation![i]!) : own.attributionWeights,
        embedding: r.embedding,
      };
    });
  }

  defaults(): EngineDefaults {
    const roles = this.#require();
    const meta = roles.signals.meta;
    const languages = meta.languages;
    if (roles.moderation) {
      // Hub classifiers ship no tuned thresholds; 0.5 is the decision point their training optimised.
      const labels = roles.moderation.labels.outputs.map((o) => o.label);
      return {
        thresholds: Object.fromEntries(labels.map((l) => [l, 0.5])),
        topicThreshold: meta.topic_threshold,
        labels,
        languages,
      };
    }
    // The safety channel's labels (Chinese threats, self-harm) take thresholds too.
    const labels = [...new Set([...meta.moderation_labels, ...(meta.safety_channel?.outputs ?? [])])];
    const thresholds = Object.fromEntries(labels.map((l) => [l, meta.default_thresholds[l] ?? 0.5]));
    const thresholdsByLanguage = Object.fromEntries(
      Object.entries(meta.thresholds_by_language).map(([language, t]) => [language, t.default_thresholds]),
    );
    return { thresholds, topicThreshold: meta.topic_threshold, labels, languages, thresholdsByLanguage };
  }

  info(): ModelInfo[] {
    return infoOf(this.#require());
  }

  #require(): Roles {
    if (this.#life.state !== 'started' || !this.#roles) {
      throw new LifecycleError(`model engine is ${this.#life.state}; call start() first`);
    }
    return this.#roles;
  }

  async #dispose(roles: Partial<Roles>): Promise<void> {
    for (const role of ['signals', 'sentiment', 'moderation', 'reply', 'answer', 'embed'] as const) {
      const model = roles[role];
      await disposeQuietly(model, this.#logger, role);
    }
  }
}

/** Builds an engine that runs the models on the calling thread; nothing loads until start(). */
export function createLocalEngine(
  config: RuntimeConfig,
  logger: Logger,
  options: LocalEngineOptions = {},
): LocalEngine {
  return new LocalEngine(config, logger, options);
}

/** The model that writes a request's reply: the answer model for a library answer when one is loaded. */
function modelFor(roles: Roles, request: ReplyRequest): ReplyModel {
  return request.source !== undefined && roles.answer ? roles.answer : roles.reply!;
}

/** Request indexes grouped by the model that writes them, in order. */
function byModel(roles: Roles, requests: ReplyRequest[]): Map<ReplyModel, number[]> {
  const groups = new Map<ReplyModel, number[]>();
  requests.forEach((request, i) => {
    const model = modelFor(roles, request);
    const group = groups.get(model);
    if (group) group.push(i);
    else groups.set(model, [i]);
  });
  return groups;
}

/** The signals model's embeddings alone (no heads read). */
async function signalsEmbeddings(roles: Roles, texts: string[]): Promise<Float32Array[]> {
  if (texts.length === 0) return [];
  return (await roles.signals.run(texts, false)).map((r) => r.embedding);
}

/** A hub sentiment model may lack a class (binary models have no neutral); missing classes score 0. */
function completeSentiment(scores: Record<string, number>): Record<SentimentLabel, number> {
  return Object.fromEntries(SENTIMENT_LABELS.map((l) => [l, scores[l] ?? 0])) as Record<
    SentimentLabel,
    number
  >;
}

function argmaxLabel(scores: Record<SentimentLabel, number>): SentimentLabel {
  return SENTIMENT_LABELS.reduce((best, l) => (scores[l] > scores[best] ? l : best), SENTIMENT_LABELS[0]);
}

function withAllLabels<T>(reasons: Record<string, T[]>, scores: Record<string, number>): Record<string, T[]> {
  return Object.fromEntries(Object.keys(scores).map((l) => [l, reasons[l] ?? []]));
}

function mapLabels<T, U>(perLabel: Record<string, T>, f: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(perLabel).map(([label, value]) => [label, f(value)]));
}

/** What each loaded role is: source, version, dtype and device (for logs and `steward status`). */
function infoOf(roles: Roles): ModelInfo[] {
  const out: ModelInfo[] = [
    {
      role: 'signals',
      source: roles.sources.signals!.location,
      version: roles.signals.meta.version,
      dtype: roles.signals.dtype,
      device: roles.signals.device,
    },
  ];
  for (const role of ['sentiment', 'moderation'] as const) {
    const model = roles[role];
    if (model)
      out.push({
        role,
        source: roles.sources[role]!.location,
        version: model.version,
        dtype: model.dtype,
        device: model.device,
      });
  }
  for (const role of ['reply', 'answer', 'embed'] as const) {
    const model = roles[role];
    if (model)
      out.push({
        role,
        source: roles.sources[role]!.location,
        version: model.meta.version,
        dtype: model.dtype,
        device: model.device,
      });
  }
  return out;
}
