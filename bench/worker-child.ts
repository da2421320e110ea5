/**
 * The worker side of the queue bench, in its own process: the real BullMQ driver, Redis store, local engine
 * and createWorker pipeline, configured from env exactly like `steward worker`. Reports its RSS over IPC.
 */
import { BullMQDriver } from '../queue/bullmq.ts';
import { createLocalEngine } from '../models/runtime/local-engine.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { RedisStore } from '../src/store/redis.ts';
import { createWorker } from '../src/worker/pipeline.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  const url = config.redis.url!;
  const queue = new BullMQDriver({ url, prefix: config.redis.prefix, logger });
  const store = new RedisStore({ url, prefix: config.redis.prefix });
  const engine = createLocalEngine(config, logger);
  await Promise.all([queue.start(), store.start(), engine.start()]);
  const worker = createWorker({ queue, store, engine, logger, config });
  await worker.start();
  let stopping = false;
  process.on('message', (msg: { type: string }) => {
    if (msg.type === 'rss') {
      process.send?.({ type: 'rss', rss: process.memoryUsage().rss, stats: worker.stats() });
    } else if (msg.type === 'stop' && !stopping) {
      stopping = true;
      void (async () => {
        await worker.stop();
        await Promise.allSettled([queue.stop(), store.stop(), engine.stop()]);
        process.exit(0);
      })();
    }
  });
  process.send?.({ type: 'ready', info: engine.info() });
}

void main().catch((error: unknown) => {
  process.send?.({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
