import { hostname } from 'node:os';
import { meteredQueue, type StewardMetrics } from '../queue/metrics.ts';
import { buildEngine, buildRedisQueue, buildStore, type RedisQueueTiming } from './app.ts';
import { type Config, inferenceThreads } from '../src/config.ts';
import type { InferenceEngine } from '../src/engine.ts';
import { ConfigError } from '../src/errors.ts';
import type { Logger } from '../src/logger.ts';
import type { Store } from '../src/store/types.ts';
import { createWorker, type StewardWorker, type WorkerOptions } from '../worker/pipeline.ts';

export interface WorkerProcessOptions {
  /** Queue timing and retry policy (tests shorten the stalled-job timers). */
  queue?: Partial<RedisQueueTiming>;
  worker?: Partial<WorkerOptions>;
  /** Replaces the models (tests); by default the configured models run in an inference thread. */
  engine?: InferenceEngine;
  store?: Store;
  /** Counts what the worker takes and queues (served at /metrics by the entry point). */
  metrics?: StewardMetrics;
  /**
   * Aborts a start still in progress (SIGTERM while models load): what started is closed and the promise rejects
   * with the abort reason.
   */
  signal?: AbortSignal;
}

/** A running `steward worker`: stop() is idempotent and complete; the entry point calls it on SIGTERM/SIGINT. */
export interface WorkerProcess {
  readonly worker: StewardWorker;
  /** The models the worker runs (the configured ones in an inference thread unless options.engine was given). */
  readonly engine: InferenceEngine;
  stop(): Promise<void>;
}

/**
 * The body of `steward worker`: models, Redis store and BullMQ queue, then the pipeline. Models load before the
 * first job is taken, so a worker that cannot load them never holds jobs. Anything that fails to start is
 * closed again before the error is rethrown.
 */
export async function runWorkerProcess(
  config: Readonly<Config>,
  logger: Logger,
  options: WorkerProcessOptions = {},
): Promise<WorkerProcess> {
  const url = config.redis.url;
  if (url === undefined) {
    throw new ConfigError(
      'steward worker needs REDIS_URL (redis.url): workers take jobs from a shared Redis',
    );
  }
  const log = logger.child({ component: 'worker-process', host: hostname(), pid: process.pid });
  // The inference thread keeps this event loop free, so BullMQ's lock renewals stay on time during a batch; its
  // onnxruntime pool leaves this loop a core unless STEWARD_THREADS says otherwise (inferenceThreads).
  const threads = inferenceThreads(config.models, 'worker');
  const engine = options.engine ?? buildEngine({ ...config, models: { ...config.models, threads } }, logger);
  const store = options.store ?? buildStore(config);
  const { lockDurationMs, stalledIntervalMs, maxStalledCount } = config.worker;
  const redisQueue = buildRedisQueue(config, logger, {
    lockDurationMs,
    stalledIntervalMs,
    maxStalledCount,
    ...options.queue,
  });
  const queue = options.metrics ? meteredQueue(redisQueue, options.metrics) : redisQueue;

  // Closed in reverse order of starting; each step is attempted and reported even when an earlier one failed.
  const started: Array<{ name: string; stop: () => Promise<void> }> = [];
  const closeStarted = async () => {
    for (const part of started.reverse()) {
      try {
        await part.stop();
      } catch (error) {
        log.error({ err: error, part: part.name }, 'shutdown step failed');
      }
    }
  };

  const worker: StewardWorker = createWorker({
    queue,
    store,
    engine,
    logger,
    config,
    ...(options.worker ? { options: options.worker } : {}),
    ...(options.metrics ? { observer: options.metrics } : {}),
  });
  try {
    // The chit-chat bank loads in its own thread while the store, queue and models start (about 3.5 s of a start).
    worker.prepare();
    started.push({ name: 'chit-chat bank', stop: () => worker.stop() });
    for (const [name, part] of [
      ['store', store],
      ['queue', queue],
      ['models', engine],
    ] as const) {
      options.signal?.throwIfAborted();
      await part.start();
      started.push({ name, stop: () => part.stop() });
    }
    options.signal?.throwIfAborted();
    await worker.start();
    started.push({ name: 'worker', stop: () => worker.stop() });
  } catch (error) {
    if (!options.signal?.aborted) log.error({ err: error }, 'worker failed to start');
    await closeStarted();
    throw error;
  }
  log.info({ models: engine.info(), prefix: config.redis.prefix }, 'steward worker running');

  let stopping: Promise<void> | null = null;
  return {
    worker,
    engine,
    stop() {
      // Worker first (stop intake, finish in-flight jobs), then models, queue connections and store.
      stopping ??= closeStarted().then(() => log.info('steward worker stopped'));
      return stopping;
    },
  };
}
