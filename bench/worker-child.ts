/**
 * The worker side of the queue bench, in its own process: exactly `steward worker` (runWorkerProcess: BullMQ
 * driver, Redis store, inference thread, pipeline), configured from env. Reports its RSS over IPC.
 */
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { runWorkerProcess } from '../app/worker-process.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  const running = await runWorkerProcess(config, logger);
  let stopping = false;
  process.on('message', (msg: { type: string }) => {
    if (msg.type === 'rss') {
      process.send?.({
        type: 'rss',
        rss: process.memoryUsage().rss,
        stats: running.worker.stats(),
        elu: performance.eventLoopUtilization(),
        cpu: process.cpuUsage(),
      });
    } else if (msg.type === 'stop' && !stopping) {
      stopping = true;
      void running.stop().finally(() => process.exit(0));
    }
  });
  process.send?.({ type: 'ready' });
}

void main().catch((error: unknown) => {
  process.send?.({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
