/**
 * The processes the chaos run hurts: a redis-server of its own, `steward bot` and `steward worker`, each a child it
 * can stop with any signal and start again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** A child process that is restarted with the same command line; start() resolves once its log says it is ready. */
class Child {
  #child: ChildProcess | null = null;
  log = '';
  constructor(
    readonly name: string,
    readonly spawnArgs: () => [string, string[], NodeJS.ProcessEnv],
    readonly ready: RegExp,
  ) {}

  async start(): Promise<void> {
    const [command, args, env] = this.spawnArgs();
    const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`${this.name} exited (${code}):\n${log.slice(-2_000)}`));
      child.stderr!.on('data', (chunk) => {
        log += chunk;
        this.log += chunk;
        if (this.ready.test(log)) {
          child.off('exit', onExit);
          resolve();
        }
      });
      child.once('exit', onExit);
    });
  }

  get alive(): boolean {
    return this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async stop(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}

/** A redis-server on its own port and folder, AOF everysec (what docker-compose.yml runs). */
export class OwnRedis {
  #child: ChildProcess | null = null;
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {}
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  /** Starts the server; a no-op while it runs (a second one could not bind the port, and the first would leak). */
  async start(): Promise<void> {
    const running = this.#child;
    if (running && running.exitCode === null && running.signalCode === null) return;
    this.#child = spawn(
      'redis-server',
      [
        ...['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir],
        ...['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''],
      ],
      { stdio: 'ignore' },
    );
    await sleep(500);
  }
  async stop(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}

const stewardEnv = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
  const inherited = { ...process.env };
  delete inherited.LOG_LEVEL;
  return { ...inherited, LOG_LEVEL: 'info', ...env };
};

/** `steward bot` (the adapters), from the TypeScript sources. */
export const stewardBot = (env: NodeJS.ProcessEnv) =>
  new Child(
    'steward bot',
    () => [process.execPath, ['--import', 'tsx', 'app/cli/main.ts', 'bot'], stewardEnv(env)],
    /steward bot running/,
  );

/** `steward worker` (BullMQ consumer with the bundled models in an inference thread), from the sources. */
export const stewardWorker = (env: NodeJS.ProcessEnv) =>
  new Child(
    'steward worker',
    () => [process.execPath, ['--import', 'tsx', 'app/cli/main.ts', 'worker'], stewardEnv(env)],
    /steward worker running/,
  );

export type StewardProcess = Child;
