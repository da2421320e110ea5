import { createBotApp, createLocalApp } from '../app.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { runWorkerProcess } from '../worker/process.ts';
import { onShutdownSignal } from './shutdown.ts';

interface Io {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** Something that runs until stopped, with an idempotent stop(). */
interface Stoppable {
  stop(): Promise<void>;
}

/** Resolves once `target` was stopped by a signal (or by `finished`), with the exit code. */
async function runUntilStopped(target: Stoppable, logger: Logger, finished?: Promise<void>): Promise<number> {
  let stopped!: () => void;
  const signalled = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const release = onShutdownSignal(async () => {
    stopped();
    await target.stop();
  }, logger);
  try {
    await (finished ? Promise.race([finished, signalled]) : signalled);
    await target.stop();
    return 0;
  } finally {
    release();
  }
}

/** Prints why a process could not start (a missing model folder, Redis away) and stops what did start. */
async function failedStart(error: unknown, target: Stoppable, io: Pick<Io, 'stderr'>): Promise<number> {
  await target.stop().catch(() => {});
  io.stderr.write(`steward: could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}

/** `steward local`: the terminal chat; with piped input it processes every line, prints, and exits 0. */
export async function runLocal(config: Config, logger: Logger, io: Io): Promise<number> {
  const interactive = io.stdin.isTTY === true && io.stdout.isTTY === true;
  const { app, chat } = createLocalApp(config, logger, { input: io.stdin, output: io.stdout, interactive });
  if (interactive) io.stdout.write('Loading the models…\n');
  try {
    await app.start();
  } catch (error) {
    return failedStart(error, app, io);
  }
  return runUntilStopped(app, logger, chat.finished());
}

/** `steward bot`: the configured platform adapters, until SIGINT/SIGTERM. */
export async function runBot(config: Config, logger: Logger): Promise<number> {
  const app = await createBotApp(config, logger);
  try {
    await app.start();
  } catch (error) {
    return failedStart(error, app, { stderr: process.stderr });
  }
  logger.info('steward bot running');
  return runUntilStopped(app, logger);
}

/** `steward worker`: BullMQ consumer with the models, until SIGINT/SIGTERM. */
export async function runWorker(config: Config, logger: Logger): Promise<number> {
  const worker = await runWorkerProcess(config, logger);
  return runUntilStopped(worker, logger);
}
