import { BullMQDriver, type BullMQDriverOptions } from '../queue/bullmq.ts';
import type { JobPolicy } from '../queue/jobs.ts';
import { MemoryDriver } from '../queue/memory.ts';
import type { QueueDriver } from '../queue/types.ts';
import { LocalChatAdapter } from '../adapters/local/adapter.ts';
import { slackConfigProblems, slackRequested } from '../adapters/slack/options.ts';
import { trackingQueue } from '../adapters/local/tracking-queue.ts';
import { DefaultRateLimit, InboundRateLimiter } from '../adapters/rate-limit.ts';
import type { ChatAdapter } from '../adapters/types.ts';
import { createThreadEngine } from '../models/runtime/index.ts';
import { meteredQueue, StewardMetrics } from '../queue/metrics.ts';
import { announce, buildDashboard, buildMetricsServer, queueBoardQueues } from './cli/dashboard.ts';
import { collectStatus } from '../queue/status.ts';
import type { Config } from '../src/config.ts';
import type { Platform } from '../src/domain/message.ts';
import type { InferenceEngine } from '../src/engine.ts';
import { ConfigError } from '../src/errors.ts';
import type { Logger } from '../src/logger.ts';
import { FileStore } from '../src/store/file.ts';
import { RedisStore } from '../src/store/redis.ts';
import { SettingsCache } from '../src/store/settings-cache.ts';
import type { Store } from '../src/store/types.ts';
import { createWorker, type StewardWorker, type WorkerOptions } from '../worker/pipeline.ts';

/** Something with the start/stop lifecycle every Steward part shares. */
export interface Part {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A process's parts, started in order and stopped in reverse; stop() is idempotent and reports every failure. */
export class App implements Part {
  readonly #parts: Array<{ name: string; part: Part }> = [];
  readonly #started: Array<{ name: string; part: Part }> = [];
  readonly #logger: Logger;
  #stopping: Promise<void> | null = null;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  add<T extends Part>(name: string, part: T): T {
    this.#parts.push({ name, part });
    return part;
  }

  async start(): Promise<void> {
    for (const entry of this.#parts) {
      if (this.#stopping) return; // a signal arrived while starting: start nothing more
      await entry.part.start();
      this.#started.push(entry);
    }
  }

  /** Stops intake first (the last part started), then workers, engines, queues and stores. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const failures: string[] = [];
      for (const { name, part } of [...this.#started].reverse()) {
        try {
          await part.stop();
        } catch (error) {
          failures.push(name);
          this.#logger.error({ err: error, part: name }, 'stop failed');
        }
      }
      if (failures.length > 0) throw new Error(`could not stop cleanly: ${failures.join(', ')}`);
    })();
    return this.#stopping;
  }
}

/** Queue timing a process may override (tests shorten the stalled-job timers). */
export type RedisQueueTiming = Pick<
  BullMQDriverOptions,
  'lockDurationMs' | 'stalledIntervalMs' | 'maxStalledCount' | 'policy'
>;

/** The BullMQ driver over config.redis (a ConfigError without REDIS_URL). */
export function buildRedisQueue(
  config: Readonly<Config>,
  logger: Logger,
  timing: Partial<RedisQueueTiming> = {},
): BullMQDriver {
  if (config.redis.url === undefined) throw new ConfigError('REDIS_URL (redis.url) is not set');
  const { url, prefix, leanFetching } = config.redis;
  return new BullMQDriver({ url, prefix, leanFetching, logger, ...timing });
}

/**
 * The configured queue driver. Its consumers (the bot's outbound delivery too) take the stalled-job timers from
 * config.worker, so a crashed bot's deliveries come back as soon as a crashed worker's jobs do.
 */
export function buildQueue(config: Config, logger: Logger, policy: Partial<JobPolicy> = {}): QueueDriver {
  if (!config.redis.url) return new MemoryDriver({ logger, policy });
  const { lockDurationMs, stalledIntervalMs, maxStalledCount } = config.worker;
  return buildRedisQueue(config, logger, { lockDurationMs, stalledIntervalMs, maxStalledCount, policy });
}

/** Someone is watching the terminal: a line whose analysis keeps failing gives up in about a second, not 15. */
const LOCAL_POLICY = Object.freeze({ attempts: 3, backoffMs: 250 }) satisfies Partial<JobPolicy>;

export function buildStore(config: Readonly<Config>): Store {
  return config.redis.url ? buildRedisStore(config) : new FileStore({ dir: config.dataDir });
}

/** The Redis store over config.redis (a ConfigError without REDIS_URL). */
export function buildRedisStore(config: Readonly<Config>): RedisStore {
  if (config.redis.url === undefined) throw new ConfigError('REDIS_URL (redis.url) is not set');
  return new RedisStore({ url: config.redis.url, prefix: config.redis.prefix });
}

/** The models in a worker thread: onnxruntime's run() never blocks the event loop that holds connections. */
export function buildEngine(config: Config, logger: Logger): InferenceEngine {
  return createThreadEngine(config, logger);
}

const statusOf = (queue: QueueDriver, store: Store, platforms: Platform[]) => () =>
  collectStatus(queue, store, platforms);

export interface LocalIo {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  interactive: boolean;
}

/** `steward local`: one process — terminal chat, in-process queue, file store, models in a worker thread. */
export function createLocalApp(
  config: Config,
  logger: Logger,
  io: LocalIo,
  parts: { engine?: InferenceEngine; store?: Store } = {},
): { app: App; chat: LocalChatAdapter } {
  const app = new App(logger);
  const store = app.add('store', parts.store ?? buildStore(config));
  const queue = app.add('queue', buildQueue(config, logger, LOCAL_POLICY));
  const engine = parts.engine ?? buildEngine(config, logger);
  const chat = new LocalChatAdapter({
    ...io,
    queue,
    store,
    logger,
    status: statusOf(queue, store, ['local']),
    labels: () => engine.defaults().labels,
  });
  // Settings are read fresh per batch: a "/topics add" typed just before a message must apply to it.
  // Heartbeats every second: `/status` reads them, and someone at the terminal expects what they just typed to count.
  const options: Partial<WorkerOptions> = { settingsTtlMs: 0, heartbeatMs: 1_000 };
  const worker = createWorker({
    queue: trackingQueue(queue, chat.ordered, LOCAL_POLICY.attempts),
    store,
    engine,
    logger,
    config,
    options,
  });
  app.add('chit-chat bank', chitchatBankPart(worker));
  app.add('models', engine);
  app.add('worker', worker);
  // Someone at a terminal gets the dashboard too; a piped run stays a plain filter that exits at end of input.
  if (io.interactive) {
    const labels = () => engine.defaults().labels;
    const dashboard = app.add('dashboard', buildDashboard({ config, logger, store, queue, labels }));
    app.add('dashboard address', {
      start: async () => announce(dashboard, config, io.output),
      stop: async () => {},
    });
  }
  app.add('local chat', chat);
  return { app, chat };
}

/**
 * Starts reading the chit-chat bank (in its own thread) before the models, so that the two load together; stopping
 * it stops the worker, which closes the bank's thread even when the models never started (stopping twice is one stop).
 */
function chitchatBankPart(worker: StewardWorker): Part {
  return { start: async () => worker.prepare(), stop: () => worker.stop() };
}

/**
 * `steward bot`: the platform adapters. With REDIS_URL they only enqueue and deliver (workers run elsewhere);
 * without it the process also runs a worker over the in-process queue, models in a worker thread.
 */
export async function createBotApp(
  config: Config,
  logger: Logger,
  out: NodeJS.WritableStream = process.stdout,
): Promise<App> {
  const platforms = platformsConfigured(config); // throws a ConfigError naming the missing variables
  const app = new App(logger);
  const store = app.add('store', buildStore(config));
  const rawQueue = buildQueue(config, logger);
  const metrics = new StewardMetrics(rawQueue, platforms);
  const queue = app.add('queue', meteredQueue(rawQueue, metrics));
  // Filled once the embedded models have loaded; adapters read it per command, so late filling is fine.
  const labels: string[] = [];
  if (!config.redis.url) {
    logger.info(
      'REDIS_URL is not set: running an embedded worker in this process (models in a worker thread)',
    );
    const engine = buildEngine(config, logger);
    const worker = createWorker({ queue, store, engine, logger, config, observer: metrics });
    app.add('chit-chat bank', chitchatBankPart(worker));
    app.add('models', engine);
    app.add('model labels', {
      start: async () => void labels.push(...engine.defaults().labels),
      stop: async () => {},
    });
    app.add('worker', worker);
  } else {
    app.add('model labels', workerLabels(store, labels, logger));
  }
  const rateLimiter = app.add('rate limiter', buildRateLimiter(config, logger));
  const adapters: ChatAdapter[] = await platformAdapters(platforms, {
    config,
    logger,
    queue,
    store,
    rateLimiter,
    status: statusOf(queue, store, platforms),
    labels,
  });
  for (const adapter of adapters) app.add(`${adapter.platform} adapter`, adapter);
  if (config.dashboard.port !== undefined) {
    const dashboard = app.add(
      'dashboard',
      buildDashboard({
        config,
        logger,
        store,
        queue,
        metrics,
        labels: () => labels,
        bullQueues: queueBoardQueues(rawQueue, platforms),
      }),
    );
    app.add('dashboard address', {
      start: async () => announce(dashboard, config, out),
      stop: async () => {},
    });
  } else {
    const server = buildMetricsServer(config, metrics);
    if (server) app.add('metrics', server);
  }
  return app;
}

/** How often `steward bot` re-reads the moderation labels the live workers report. */
const LABELS_REFRESH_MS = 30_000;

/**
 * Distributed, the models live in the workers: their heartbeats name the moderation labels, and the bot keeps
 * `labels` (read by the slash commands) filled from them, so a threshold for a label no model has is refused.
 */
export function workerLabels(store: Store, labels: string[], logger: Logger): { start(): Promise<void>; stop(): Promise<void> } {
  let timer: NodeJS.Timeout | null = null;
  const refresh = async () => {
    try {
      const reported = new Set((await store.listWorkers()).flatMap((w) => w.labels ?? []));
      if (reported.size > 0) labels.splice(0, labels.length, ...[...reported].sort());
    } catch (error) {
      logger.warn({ err: (error as Error).message }, 'could not read the workers’ model labels');
    }
  };
  return {
    start: async () => {
      await refresh();
      timer = setInterval(() => void refresh(), LABELS_REFRESH_MS);
      timer.unref();
    },
    stop: async () => {
      if (timer) clearInterval(timer);
    },
  };
}

/** What a platform adapter factory gets from the composition root. */
export interface PlatformDeps {
  config: Config;
  logger: Logger;
  queue: QueueDriver;
  store: Store;
  status: () => ReturnType<typeof collectStatus>;
  /** Moderation labels of the loaded models (embedded worker only), so slash commands can check thresholds. */
  labels?: readonly string[];
  /** One per-user inbound limit for every adapter of the process (and, through Redis, of every bot process). */
  rateLimiter?: InboundRateLimiter;
}

/** The inbound rate limiter: counters in Redis (under the queue's and store's prefix) with REDIS_URL, else in memory. */
export function buildRateLimiter(config: Readonly<Config>, logger: Logger): InboundRateLimiter {
  const { url, prefix } = config.redis;
  return new InboundRateLimiter({
    ...DefaultRateLimit,
    ...(url ? { redis: { url, prefix } } : {}),
    logger,
  });
}

/** The platforms whose variables are set; a half-configured platform or none at all is a ConfigError. */
export function platformsConfigured(config: Config): Platform[] {
  const platforms: Platform[] = [];
  if (config.discord.token) platforms.push('discord');
  if (slackRequested(config)) {
    const problems = slackConfigProblems(config);
    if (problems.length > 0) {
      throw new ConfigError(`Slack is partly configured:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    }
    platforms.push('slack');
  }
  if (platforms.length === 0) {
    throw new ConfigError(
      '`steward bot` needs at least one platform, and none is configured:\n' +
        '  Discord: set DISCORD_TOKEN (and DISCORD_APPLICATION_ID for slash commands)\n' +
        '  Slack:   set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP), or SLACK_BOT_TOKEN, SLACK_APP_TOKEN and\n' +
        '           SLACK_SOCKET_MODE=true (Socket Mode)\n' +
        'To try Steward without a platform, run `npm start` (a terminal chat).',
    );
  }
  return platforms;
}

/** Builds the adapters; each platform's client library is loaded only when that platform is configured. */
export async function platformAdapters(platforms: Platform[], deps: PlatformDeps): Promise<ChatAdapter[]> {
  const adapters: ChatAdapter[] = [];
  const { config, queue, store, logger, status, labels, rateLimiter } = deps;
  const settings = new SettingsCache(store);
  const common = {
    queue,
    store,
    logger,
    status,
    ...(labels ? { labels } : {}),
    ...(rateLimiter ? { rateLimiter } : {}),
  };
  for (const platform of platforms) {
    if (platform === 'discord') {
      const { createDiscordAdapter } = await import('../adapters/discord/index.ts');
      adapters.push(createDiscordAdapter({ config, settings, ...common }));
    } else if (platform === 'slack') {
      const { createSlackAdapter } = await import('../adapters/slack/index.ts');
      adapters.push(createSlackAdapter({ config, ...common }));
    }
  }
  return adapters;
}
