import type { Logger } from '../../src/logger.ts';

/**
 * The one place signals are handled: the first SIGINT/SIGTERM calls `stop` (idempotent), a second one
 * exits at once for a user who does not want to wait for in-flight work.
 */
export function onShutdownSignal(stop: () => Promise<void>, logger: Logger): () => void {
  let received = false;
  const handler = (signal: NodeJS.Signals) => {
    if (received) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(130);
    }
    received = true;
    logger.info({ signal }, 'shutting down');
    stop().then(
      () => {
        process.exitCode = process.exitCode ?? 0;
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown finished with errors');
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
