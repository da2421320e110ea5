import { existsSync } from 'node:fs';
import path from 'node:path';
import { buildRedisQueue, buildRedisStore, type RedisQueueTiming } from '../../app/app.ts';
import { runWorkerProcess } from '../../app/worker-process.ts';
import type { BullMQDriver } from '../../queue/bullmq.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import type { InferenceEngine } from '../../src/engine.ts';
import type { Logger } from '../../src/logger.ts';
import type { RedisStore } from '../../src/store/redis.ts';
import type { StewardWorker } from '../../worker/pipeline.ts';
import { deletePrefix, randomPrefix, REDIS_URL, testLogger } from '../queue/fixtures.ts';

/** Folder of the bundled models; tests that need them skip (with this message) while it is missing. */
export const BUNDLED_MODELS = path.resolve('models/bundled');
export const bundledModelsPresent = (): boolean =>
  existsSync(path.join(BUNDLED_MODELS, 'signals', 'config.json')) &&
  existsSync(path.join(BUNDLED_MODELS, 'reply', 'config.json'));
export const MISSING_MODELS = `bundled models not found in ${BUNDLED_MODELS} (train/export them first); skipping`;

export interface TestStackOptions {
  /** Key prefix on the shared Redis; random by default. */
  prefix?: string;
  /** Start a worker (real bundled models in an inference thread unless `engine` is given). */
  withWorker?: boolean;
  engine?: InferenceEngine;
  /** Config overrides by path, e.g. { 'worker.batchSize': 8 }. */
  config?: Record<string, unknown>;
  queue?: Partial<RedisQueueTiming>;
  logger?: Logger;
}

export interface TestStack {
  prefix: string;
  url: string;
  config: Readonly<Config>;
  logger: Logger;
  queue: BullMQDriver;
  store: RedisStore;
  /** Null unless withWorker. */
  worker: StewardWorker | null;
  engine: InferenceEngine | null;
  /** Stops everything that was started and deletes every key under the prefix. Idempotent. */
  cleanup(): Promise<void>;
}

/**
 * Real Redis-backed queue and store (and optionally a worker) under a fresh prefix, for integration and
 * end-to-end tests. Settings short enough for tests: 200 ms settings cache, fast retries.
 */
export async function createTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const prefix = options.prefix ?? randomPrefix('stack');
  const logger = options.logger ?? testLogger();
  const config = loadConfig({
    env: { REDIS_URL, STEWARD_PREFIX: prefix, LOG_LEVEL: 'silent' },
    overrides: { 'worker.batchSize': 16, 'worker.concurrency': 32, ...options.config },
  });
  // Built by the composition root, as `steward bot` and `steward worker` build theirs.
  const queue = buildRedisQueue(config, logger, { policy: { backoffMs: 100 }, ...options.queue });
  const store = buildRedisStore(config);
  const stops: Array<() => Promise<void>> = [];
  let engine: InferenceEngine | null = null;
  let worker: StewardWorker | null = null;

  let cleaning: Promise<void> | null = null;
  const cleanup = () => {
    cleaning ??= (async () => {
      for (const stop of stops.reverse()) await stop().catch(() => {});
      await deletePrefix(REDIS_URL, prefix);
    })();
    return cleaning;
  };

  try {
    await store.start();
    stops.push(() => store.stop());
    await queue.start();
    stops.push(() => queue.stop());
    if (options.withWorker) {
      if (!options.engine && !bundledModelsPresent()) throw new Error(MISSING_MODELS);
      // The worker is a `steward worker` of its own (own Redis connections), as in production.
      const running = await runWorkerProcess(config, logger, {
        queue: { policy: { backoffMs: 100 }, ...options.queue },
        worker: { settingsTtlMs: 200 },
        ...(options.engine ? { engine: options.engine } : {}),
      });
      stops.push(() => running.stop());
      worker = running.worker;
      engine = running.engine;
    }
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { prefix, url: REDIS_URL, config, logger, queue, store, worker, engine, cleanup };
}
