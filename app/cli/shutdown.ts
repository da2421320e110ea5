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

/** Past this many uncaught errors in a minute the process is unwell: exit 1 for the supervisor to restart it. */
const MAX_FAULTS_PER_MINUTE = 20;

/**
 * The process-level guard of the long-running commands: an error nothing caught (a library's request handler,
 * a stray promise) is logged and the process keeps serving — one bad request must not take every adapter down.
 * A burst of them means state can no longer be trusted, so the process exits 1 to be restarted cleanly.
 */
export function guardProcess(logger: Logger): () => void {
  const recent: number[] = [];
  const onFault = (kind: string) => (error: unknown) => {
    const now = Date.now();
    recent.push(now);
    while (recent.length > 0 && recent[0]! < now - 60_000) recent.shift();
    logger.error(
      { err: error instanceof Error ? `${error.name}: ${error.message}` : String(error), kind },
      'uncaught error; still serving',
    );
    if (recent.length > MAX_FAULTS_PER_MINUTE) {
      logger.fatal({ count: recent.length }, 'too many uncaught errors in a minute; exiting to be restarted');
      process.exit(1);
    }
  };
  const onException = onFault('uncaughtException');
  const onRejection = onFault('unhandledRejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
