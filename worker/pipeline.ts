import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createBatcher } from '../queue/batcher.ts';
import type { Consumer, QueueDriver } from '../queue/types.ts';
import type { ReplyAction } from '../src/domain/action.ts';
import type { Analysis } from '../src/domain/analysis.ts';
import { type Decision, flagIdOf } from '../src/domain/decide.ts';
import { FLAG_CONTEXT_CHARS, FLAG_CONTEXT_TURNS } from '../src/domain/flag.ts';
import { type InboundMessage, inboundJobId, refOf } from '../src/domain/message.ts';
import type { WorkspaceSettings } from '../src/domain/settings.ts';
import type { Config } from '../src/config.ts';
import type { InferenceEngine, ReplyRequest } from '../src/engine.ts';
import { ErrorCode, LifecycleError, StewardError } from '../src/errors.ts';
import type { Logger } from '../src/logger.ts';
import { sentimentKeepDays } from '../src/store/sentiment.ts';
import { type FlagRecord, STEWARD_ACTOR, type Store } from '../src/store/types.ts';
import type { LibrarySource } from '../src/domain/library.ts';
import {
  type AnalyzeInput,
  analyzeMessages,
  analyzeSignals,
  channelKey,
  generateReplies,
  type MessageOutcome,
  replyRequestFor,
  type SignalOutcome,
} from './analyze.ts';
import { BackgroundLane, DefaultBackgroundLane } from './background.ts';
import { Recommender } from './recommend/service.ts';
import { mayRecommend, reactionStep, recommendStep } from './recommend/step.ts';
import { GroundedReplies, type ReplyJob } from './library/replies.ts';
import { LibraryIndexes } from './library/sync.ts';
import { type ChitchatReplies, chatRepliesOf, loadChitchat } from './chitchat/replies.ts';
import { SettingsCache } from '../src/store/settings-cache.ts';
import { TopicIndex, type TopicVectors } from './topics.ts';

export interface WorkerDeps {
  queue: QueueDriver;
  store: Store;
  engine: InferenceEngine;
  logger: Logger;
  config: {
    worker: Pick<Config['worker'], 'batchSize' | 'concurrency' | 'replyBatchSize' | 'maxReplyTokens'> &
      Partial<Pick<Config['worker'], 'backgroundDeferMs'>>;
    /** Small talk from the chit-chat bank (loaded at start); absent = free generation, as with `bank: off`. */
    chitchat?: Pick<Config['chitchat'], 'bank'>;
  };
  options?: Partial<WorkerOptions>;
  /** Told about each inference batch (the process's metrics); the worker itself keeps no metrics. */
  observer?: WorkerObserver;
}

/** What the worker reports as it runs: each inference batch, its stage, size and duration. */
export interface WorkerObserver {
  observeBatch(stage: 'signals' | 'replies', size: number, seconds: number): void;
}

export interface WorkerOptions {
  /** How long a workspace's settings are reused before they are read again. */
  settingsTtlMs: number;
  heartbeatMs: number;
  /** Stable id for this worker in `steward status`; random when unset. */
  id: string;
  /** The longest a profile update or daily count waits for messages on their way to their actions (BackgroundLane). */
  backgroundMaxDeferMs: number;
}

export const DefaultWorkerOptions = Object.freeze({
  settingsTtlMs: 2_000,
  heartbeatMs: 5_000,
  backgroundMaxDeferMs: DefaultBackgroundLane.maxDeferMs,
}) satisfies Readonly<Partial<WorkerOptions>>;

export interface WorkerStats {
  processed: number;
  batches: number;
  largestBatch: number;
  lastError: { at: number; message: string } | null;
  /** Messages the moderation model did not review, per language it cannot read (since start). */
  skipped: Record<string, number>;
}

/** The inference side of Steward: inbound jobs in, outbound actions and flags out. */
export interface StewardWorker {
  readonly id: string;
  /**
   * Begins reading the chit-chat bank (in its own thread), which needs neither the models nor Redis, so that it loads
   * while they start; start() does it anyway when nobody called this. A bad bank fails start(), not this.
   */
  prepare(): void;
  start(): Promise<void>;
  /** Stops intake, finishes in-flight jobs; the queue, store and engine stay open (their owner closes them). */
  stop(): Promise<void>;
  /** Runs messages through the models and decisions without the queue (no flags, no actions). */
  analyzeOnly(messages: InboundMessage[]): Promise<MessageOutcome[]>;
  stats(): WorkerStats;
}

export function createWorker(deps: WorkerDeps): StewardWorker {
  const { queue, store, engine, config } = deps;
  const { backgroundDeferMs } = config.worker;
  const options = {
    ...DefaultWorkerOptions,
    ...(backgroundDeferMs !== undefined ? { backgroundMaxDeferMs: backgroundDeferMs } : {}),
    ...deps.options,
  };
  const id = options.id ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const log = deps.logger.child({ component: 'worker', workerId: id });
  const settings = new SettingsCache(store, options.settingsTtlMs);
  const topics = new TopicIndex(engine);
  // Issue 10: replies grounded in the workspace's library (index kept in sync with the store), citing it.
  // Library search has its own space (models.embed); recommendations stay in the signals space.
  const embed = (texts: string[]) => engine.embedSearch(texts);
  // Issue 10 part 3: small talk answered with human replies from the chit-chat bank, loaded at start (or from
  // prepare()) in a thread of its own: the bank is about half of a worker's live heap, which every major GC marks.
  let chitchat: ChitchatReplies | null = null;
  let bankLoad: Promise<ChitchatReplies | null> | null = null;
  const loadBank = () =>
    (bankLoad ??= config.chitchat
      ? loadChitchat(
          config.chitchat.bank,
          (requests, candidates) => engine.scoreReplies(requests, candidates),
          { thread: true, logger: log },
        )
      : Promise.resolve(null));
  const grounded = new GroundedReplies(
    new LibraryIndexes(store, embed),
    embed,
    (requests) => generateReplies(engine, requests),
    {},
    () => (chitchat ? chatRepliesOf(chitchat) : null),
  );
  const recommender = new Recommender({ store, embed: (texts) => engine.embed(texts), logger: log });
  const background = new BackgroundLane({ maxDeferMs: options.backgroundMaxDeferMs });
  const stats: WorkerStats = { processed: 0, batches: 0, largestBatch: 0, lastError: null, skipped: {} };
  const startedAt = Date.now();
  let state: 'new' | 'started' | 'stopped' = 'new';
  let consumer: Consumer | null = null;
  let heartbeat: NodeJS.Timeout | null = null;
  let stopping: Promise<void> | null = null;

  const noteError = (error: unknown) => {
    stats.lastError = { at: Date.now(), message: error instanceof Error ? error.message : String(error) };
  };

  const prepare = async (messages: InboundMessage[]): Promise<AnalyzeInput[]> => {
    const perMessage = await Promise.all(messages.map((m) => settings.get(m.platform, m.workspaceId)));
    // Messages of one workspace share a settings object: look its topic vectors up once, not per message.
    const vectors = new Map<WorkspaceSettings, Promise<TopicVectors>>();
    const vectorsOf = (s: WorkspaceSettings) => {
      let entry = vectors.get(s);
      if (!entry) {
        entry = topics.vectorsFor(s.topics);
        vectors.set(s, entry);
      }
      return entry;
    };
    return Promise.all(
      messages.map(async (message, i) => {
        const s = perMessage[i]!;
        return { message, settings: s, topics: await vectorsOf(s) };
      }),
    );
  };

  const analyzeOnly = async (messages: InboundMessage[]) =>
    // The replies the pipeline would give, without touching a channel's no-repeat memory.
    analyzeMessages(engine, await prepare(messages), {
      replyBatchSize: config.worker.replyBatchSize,
      grounded,
      remember: false,
    });

  const retryable = (error: unknown) =>
    new StewardError(ErrorCode.ModelRun, `analysis failed: ${(error as Error)?.message ?? error}`, {
      cause: error,
    });

  /**
   * One batch through the signals model. When the engine says a batch cannot be processed (unrecoverable:
   * something in the input), each message is tried alone so that one poison message does not fail its neighbours.
   */
  const runSignals = async (messages: InboundMessage[]): Promise<Array<SignalOutcome | StewardError>> => {
    const started = performance.now();
    let inputs: AnalyzeInput[] | undefined;
    try {
      inputs = await prepare(messages);
      const outcomes = await analyzeSignals(engine, inputs);
      stats.batches += 1;
      stats.largestBatch = Math.max(stats.largestBatch, messages.length);
      deps.observer?.observeBatch('signals', messages.length, (performance.now() - started) / 1000);
      log.debug({ size: messages.length, ms: Math.round(performance.now() - started) }, 'batch analysed');
      return outcomes;
    } catch (error) {
      noteError(error);
      const dataProblem =
        error instanceof StewardError && error.unrecoverable && error.code !== ErrorCode.ModelLoad;
      log.error({ err: error, size: messages.length, isolate: dataProblem }, 'batch failed');
      // Retryable either way: the jobs go back with backoff instead of being lost or failed at once.
      if (!dataProblem || messages.length === 1 || !inputs) throw retryable(error);
      const singles: Array<SignalOutcome | StewardError> = [];
      for (const input of inputs) {
        const single = analyzeSignals(engine, [input]);
        singles.push(await single.then(([outcome]) => outcome!, retryable));
      }
      return singles;
    }
  };

  // Two continuous batchers: tags and alerts never wait behind reply generation, which is far slower, and
  // replies are generated in their own batches while the next messages' signals run.
  const signalsBatcher = createBatcher(runSignals, { maxSize: config.worker.batchSize });
  const replyBatcher = createBatcher(
    async (jobs: ReplyJob[]) => {
      const started = performance.now();
      const replies = await grounded.reply(jobs).catch((error) => Promise.reject(retryable(error)));
      deps.observer?.observeBatch('replies', jobs.length, (performance.now() - started) / 1000);
      return replies;
    },
    { maxSize: config.worker.replyBatchSize },
  );

  /**
   * One job: its effects in an order that is safe to repeat when the job is retried (every step is idempotent):
   * the flag first (alerts point at it), then tags and alerts, then the reply once generated.
   */
  const handle = async (message: InboundMessage) => {
    try {
      if (message.reaction) {
        // A reaction only updates the reactor's profile (one embedding, one store write): nobody waits for it.
        const workspace = await settings.get(message.platform, message.workspaceId);
        await background.run(() => reactionStep(recommender, message, { embed, store }, workspace));
        stats.processed += 1;
        return;
      }
      // From here to its tags and alerts the message is on the critical path; work nobody waits for yields to it.
      const leave = background.enter();
      let outcome: SignalOutcome;
      try {
        const result = await signalsBatcher.submit(message);
        if (result instanceof StewardError) throw result;
        outcome = result;
        const alert = outcome.decision.actions.find((a) => a.kind === 'alert');
        // Logged even without a moderation channel, so `/steward flags` and status still show it.
        if (outcome.decision.flag)
          await store.recordFlag(flagRecord(message, outcome.analysis, alert?.autoHidden ?? false));
        await queue.enqueueOutbound(message.platform, outcome.decision.actions);
      } finally {
        leave();
      }
      const { decision, analysis } = outcome;
      if (analysis.moderation.abstained)
        stats.skipped[analysis.language] = (stats.skipped[analysis.language] ?? 0) + 1;
      // Issue 11: the author's interest profile; a request for a recommendation is answered from the library.
      const workspace = await settings.get(message.platform, message.workspaceId);
      const replying = decision.reply !== null || message.mentionsBot || message.direct;
      const step = () =>
        recommendStep(
          recommender,
          message,
          {
            embedding: outcome.embedding,
            flagged: outcome.analysis.moderation.flagged.length > 0,
            replying,
            language: outcome.analysis.language,
          },
          workspace,
        );
      // Only a message that may get a recommendation as its reply is waited for; for the rest the profile update
      // is background work.
      const recommendation = mayRecommend(workspace, replying) ? await step() : await background.run(step);
      if (recommendation !== null) {
        const intent = { ...decision, reply: decision.reply ?? { reason: 'topic' as const } };
        const sources = recommendation.recommendations.map(({ id, title, url, score }) => ({
          id,
          title,
          score,
          ...(url !== undefined ? { url } : {}),
        }));
        await queue.enqueueOutbound(message.platform, [
          replyAction(message, intent, recommendation.text, sources),
        ]);
      } else if (decision.reply !== null) {
        const reply = await replyBatcher.submit({
          platform: message.platform,
          workspaceId: message.workspaceId,
          request: replyRequestFor(message, decision.reply.topic),
          reason: decision.reply.reason,
          channel: channelKey(message),
          language: analysis.language,
        });
        if (reply.text !== null)
          await queue.enqueueOutbound(message.platform, [
            replyAction(message, decision, reply.text, reply.sources),
          ]);
      }
      // Last, so a job retried after a failure above is counted once, when it finally succeeds.
      await background.run(() => countDaily(message, analysis));
      stats.processed += 1;
    } catch (error) {
      noteError(error);
      throw error;
    }
  };

  /**
   * The daily summary (the dashboard's trends): the channel's sentiment and the workspace's best-matching topic.
   * A failure here does not retry the message.
   */
  const countDaily = async (message: InboundMessage, analysis: Analysis) => {
    const topic = analysis.topics[0]?.topic;
    if (!analysis.sentiment && topic === undefined) return;
    try {
      const { retentionDays } = await settings.get(message.platform, message.workspaceId);
      const keepDays = sentimentKeepDays(retentionDays);
      const { platform, workspaceId, channelId, timestamp: at } = message;
      const label = analysis.sentiment?.label;
      await store.countMessage(
        { platform, workspaceId, channelId, at, ...(label ? { label } : {}), ...(topic !== undefined ? { topic } : {}) },
        keepDays,
      );
    } catch (error) {
      log.warn({ err: error, channelId: message.channelId }, 'could not count the message in the daily summary');
    }
  };

  const beat = async () => {
    try {
      await store.heartbeat(
        {
          id,
          host: hostname(),
          pid: process.pid,
          startedAt,
          at: Date.now(),
          device: engine.info()[0]?.device ?? 'cpu',
          models: engine.info().map(({ role, source, version, dtype }) => ({ role, source, version, dtype })),
          processed: stats.processed,
          skipped: stats.skipped,
          labels: [...engine.defaults().labels],
          ...(stats.lastError ? { lastError: stats.lastError } : {}),
        },
        options.heartbeatMs * 3,
      );
    } catch (error) {
      log.warn({ err: error }, 'heartbeat failed');
    }
  };

  return {
    id,
    prepare() {
      // Settled here so that a failure waits, unreported, for start() to throw it.
      loadBank().catch(() => undefined);
    },
    analyzeOnly,
    stats: () => ({ ...stats }),
    async start() {
      if (state !== 'new') throw new LifecycleError(`worker cannot start: it is ${state}`);
      state = 'started';
      chitchat = await loadBank();
      await beat();
      heartbeat = setInterval(() => void beat(), options.heartbeatMs);
      heartbeat.unref();
      try {
        consumer = await queue.consumeInbound(handle, { concurrency: config.worker.concurrency });
      } catch (error) {
        clearInterval(heartbeat);
        await chitchat?.close();
        throw error;
      }
      log.info(
        { concurrency: config.worker.concurrency, batchSize: config.worker.batchSize },
        'worker started',
      );
    },
    stop() {
      stopping ??= (async () => {
        const wasStarted = state === 'started';
        state = 'stopped';
        if (wasStarted) {
          if (heartbeat) clearInterval(heartbeat);
          await consumer?.close();
          await Promise.all([signalsBatcher.idle(), replyBatcher.idle()]);
        }
        // The bank's thread: also when only prepare() ran (the models then failed to start), or start() is still
        // reading the bank.
        await (await bankLoad?.catch(() => null))?.close();
        if (!wasStarted) return;
        await beat();
        log.info({ processed: stats.processed }, 'worker stopped');
      })();
      return stopping;
    },
  };
}

function replyAction(
  message: InboundMessage,
  decision: Decision,
  text: string,
  sources: LibrarySource[] = [],
): ReplyAction {
  const intent = decision.reply!;
  return {
    kind: 'reply',
    key: `${inboundJobId(refOf(message))}:reply`,
    target: refOf(message),
    text,
    reason: intent.reason,
    ...(intent.topic !== undefined ? { topic: intent.topic } : {}),
    ...(sources.length > 0 ? { sources } : {}),
  };
}

function flagRecord(message: InboundMessage, analysis: Analysis, autoHidden: boolean): FlagRecord {
  const now = Date.now();
  const { moderation } = analysis;
  return {
    id: flagIdOf(message),
    platform: message.platform,
    workspaceId: message.workspaceId,
    channelId: message.channelId,
    messageId: message.messageId,
    authorId: message.author.id,
    authorName: message.author.name,
    excerpt: message.text.slice(0, 1000),
    ...(message.context.length > 0
      ? {
          context: message.context.slice(-FLAG_CONTEXT_TURNS).map((turn) => ({
            authorId: turn.authorId,
            ...(turn.authorName === undefined ? {} : { authorName: turn.authorName }),
            text: turn.text.slice(0, FLAG_CONTEXT_CHARS),
            fromBot: turn.fromBot,
          })),
        }
      : {}),
    flagged: moderation.flagged,
    scores: moderation.scores,
    reasons: moderation.reasons,
    ...(moderation.attributionWeights ? { attributionWeights: moderation.attributionWeights } : {}),
    createdAt: now,
    status: 'open',
    history: autoHidden ? [{ at: now, actorId: STEWARD_ACTOR, action: 'auto-hide' }] : [],
  };
}
