import { StewardMetrics } from '../../queue/metrics.ts';
import { App, buildQueue, buildStore, createBotApp, createLocalApp } from '../app.ts';
import type { Config } from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';
import type { Logger } from '../../src/logger.ts';
import { runWorkerProcess } from '../worker-process.ts';
import { announce, buildDashboard, buildMetricsServer, queueBoardQueues } from './dashboard.ts';
import { guardProcess, onShutdownSignal } from './shutdown.ts';

interface Io {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** Something that runs until stopped, with an idempotent stop(). */
interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Starts `target` with the signal handler already installed (a SIGTERM during start-up stops it cleanly
 * instead of killing the process), then resolves once it was stopped by a signal or by `finished`.
 */
async function runUntilStopped(
  target: Stoppable,
  logger: Logger,
  start: () => Promise<void>,
  options: { finished?: () => Promise<void>; stderr?: Pick<Io, 'stderr'>['stderr']; running?: string } = {},
): Promise<number> {
  let stopped!: () => void;
  const signalled = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const release = onShutdownSignal(async () => {
    stopped();
    await target.stop();
  }, logger);
  try {
    try {
      await start();
    } catch (error) {
      return await failedStart(error, target, { stderr: options.stderr ?? process.stderr });
    }
    if (options.running) logger.info(options.running);
    await (options.finished ? Promise.race([options.finished(), signalled]) : signalled);
    await target.stop();
    return 0;
  } finally {
    release();
  }
}

/** Prints why a process could not start (a missing model folder, Redis away) and stops what did start. */
async function failedStart(error: unknown, target: Stoppable, io: Pick<Io, 'stderr'>): Promise<number> {
  await target.stop().catch(() => {});
  // A configuration mistake is the entry point's to report (it names the key and exits 2).
  if (error instanceof ConfigError) throw error;
  io.stderr.write(`steward: could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}

/** `steward local`: the terminal chat; with piped input it processes every line, prints, and exits 0. */
export async function runLocal(config: Config, logger: Logger, io: Io): Promise<number> {
  const interactive = io.stdin.isTTY === true && io.stdout.isTTY === true;
  const { app, chat } = createLocalApp(config, logger, { input: io.stdin, output: io.stdout, interactive });
  if (interactive) io.stdout.write('Loading the models…\n');
  return runUntilStopped(app, logger, () => app.start(), {
    finished: () => chat.finished(),
    stderr: io.stderr,
  });
}

/** `steward bot`: the configured platform adapters, until SIGINT/SIGTERM. */
export async function runBot(config: Config, logger: Logger): Promise<number> {
  const app = await createBotApp(config, logger);
  const unguard = guardProcess(logger);
  try {
    return await runUntilStopped(app, logger, () => app.start(), { running: 'steward bot running' });
  } finally {
    unguard();
  }
}

/** `steward dashboard`: the web dashboard over the configured store and queue, until SIGINT/SIGTERM. */
export async function runDashboard(
  config: Config,
  logger: Logger,
  out: NodeJS.WritableStream,
  port: number | undefined,
): Promise<number> {
  const app = new App(logger);
  const store = app.add('store', buildStore(config));
  const queue = app.add('queue', buildQueue(config, logger));
  const metrics = new StewardMetrics(queue, ['discord', 'slack', 'local']);
  const dashboard = app.add(
    'dashboard',
    buildDashboard({
      config,
      logger,
      store,
      queue,
      metrics,
      bullQueues: queueBoardQueues(queue, ['discord', 'slack']),
      ...(port === undefined ? {} : { port }),
    }),
  );
  app.add('dashboard address', { start: async () => announce(dashboard, config, out), stop: async () => {} });
  return runUntilStopped(app, logger, () => app.start(), { running: 'steward dashboard running' });
}

/** `steward worker`: BullMQ consumer with the models, until SIGINT/SIGTERM; /metrics on STEWARD_METRICS_PORT. */
export async function runWorker(config: Config, logger: Logger): Promise<number> {
  let worker: Stoppable | undefined;
  const metrics = new StewardMetrics();
  const server = buildMetricsServer(config, metrics);
  const target: Stoppable = {
    stop: async () => {
      await worker?.stop();
      await server?.stop().catch(() => {});
    },
  };
  return runUntilStopped(
    target,
    logger,
    async () => {
      await server?.start();
      worker = await runWorkerProcess(config, logger, { metrics });
    },
    { running: 'steward worker running' },
  );
}
