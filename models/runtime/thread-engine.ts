import type { Worker } from 'node:worker_threads';
import type { Signals } from '../../src/domain/analysis.ts';
import type {
  AttendedWord,
  AttentionRequest,
  InferenceEngine,
  ModelInfo,
  ReplyRequest,
  ReplyScore,
} from '../../src/engine.ts';
import { ErrorCode, LifecycleError, StewardError } from '../../src/errors.ts';
import type { Logger } from '../../src/logger.ts';
import { spawnThread, ThreadCalls } from '../../src/threads.ts';
import type { ThreadData } from './engine-thread.ts';
import { deserializeError, type Method, type Response } from './protocol.ts';
import type { SeededReplyRequest } from './reply.ts';
import { EngineLifecycle } from './lifecycle.ts';
import type { LocalEngineOptions } from './local-engine.ts';
import type { RuntimeConfig } from './settings.ts';

export interface ThreadEngineOptions extends LocalEngineOptions {
  /** Called with each inference thread as it is spawned (tests use it to crash one). */
  onThread?: (worker: Worker) => void;
  /** How long stop() waits for the thread to release its sessions before terminating it. */
  stopTimeoutMs?: number;
}

type Defaults = ReturnType<InferenceEngine['defaults']>;

/**
 * Runs the local engine in a worker thread, so onnxruntime's blocking run() never stalls the event loop
 * that holds platform connections (gateway heartbeats, 3-second acks). A crashed thread fails its in-flight
 * calls with a retryable error and is replaced on the next call.
 */
export class ThreadEngine implements InferenceEngine {
  readonly #config: RuntimeConfig;
  readonly #logger: Logger;
  /** The caller's logger, for relaying: thread lines already carry the engine's bindings. */
  readonly #relay: Logger;
  readonly #options: ThreadEngineOptions;
  readonly #calls = new ThreadCalls();
  #worker: Worker | undefined;
  readonly #life = new EngineLifecycle();
  #respawning: Promise<void> | undefined;
  #loaded: { defaults: Defaults; info: ModelInfo[] } | undefined;

  constructor(config: RuntimeConfig, logger: Logger, options: ThreadEngineOptions = {}) {
    this.#config = config;
    this.#logger = logger.child({ component: 'models' });
    this.#relay = logger;
    this.#options = options;
  }

  start(): Promise<void> {
    return this.#life.start(() => this.#spawn());
  }

  /** Idempotent: a second call returns the first call's promise. During start() it waits for the start, then stops. */
  stop(): Promise<void> {
    return this.#life.stop(() => this.#shutdown());
  }

  async signals(texts: string[]): Promise<Signals[]> {
    return (await this.#call('signals', [texts])) as Signals[];
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    return (await this.#call('embed', [texts])) as Float32Array[];
  }

  async embedSearch(texts: string[]): Promise<Float32Array[]> {
    return (await this.#call('embedSearch', [texts])) as Float32Array[];
  }

  async reply(requests: SeededReplyRequest[]): Promise<string[]> {
    return (await this.#call('reply', [requests])) as string[];
  }

  async scoreReplies(requests: ReplyRequest[], candidates: string[]): Promise<ReplyScore[]> {
    return (await this.#call('scoreReplies', [requests, candidates])) as ReplyScore[];
  }

  async attend(items: AttentionRequest[]): Promise<Array<AttendedWord[] | null>> {
    return (await this.#call('attend', [items])) as Array<AttendedWord[] | null>;
  }

  defaults(): Defaults {
    return this.#require().defaults;
  }

  info(): ModelInfo[] {
    return this.#require().info;
  }

  #require(): { defaults: Defaults; info: ModelInfo[] } {
    if (this.#life.state !== 'started' || !this.#loaded)
      throw new LifecycleError(`model engine is ${this.#life.state}; call start() first`);
    return this.#loaded;
  }

  async #call(method: Exclude<Method, 'start' | 'stop'>, args: unknown[]): Promise<unknown> {
    this.#require();
    if (!this.#worker) {
      // The previous thread crashed: replace it (once, however many calls are waiting).
      this.#respawning ??= this.#spawn().finally(() => {
        this.#respawning = undefined;
      });
      await this.#respawning;
    }
    // stop() may have run while we waited for the new thread.
    const worker = this.#worker;
    if (this.#life.state !== 'started' || !worker)
      throw new LifecycleError(`model engine is ${this.#life.state}`);
    return this.#send(worker, method, args);
  }

  #send(worker: Worker, method: Method, args: unknown[]): Promise<unknown> {
    return this.#calls.send(worker, (id) => ({ id, method, args }));
  }

  async #spawn(): Promise<void> {
    const workerData: ThreadData = {
      config: this.#config,
      options: { tuning: this.#options.tuning ?? {}, reply: this.#options.reply ?? true },
      logLevel: this.#logger.level,
    };
    const worker = spawnThread(import.meta.url, 'engine-thread', { workerData, name: 'steward-inference' });
    this.#worker = worker;
    worker.on('message', (message: Response) => this.#onMessage(message));
    worker.on('error', (error) => this.#onExit(worker, `inference thread crashed: ${error.message}`));
    worker.on('exit', (code) => this.#onExit(worker, `inference thread exited unexpectedly (code ${code})`));
    this.#options.onThread?.(worker);
    try {
      this.#loaded = (await this.#send(worker, 'start', [])) as { defaults: Defaults; info: ModelInfo[] };
    } catch (error) {
      this.#worker = undefined;
      await worker.terminate();
      throw error;
    }
  }

  #onMessage(message: Response): void {
    if (message.kind === 'log') {
      this.#relayLog(message.line);
      return;
    }
    this.#calls.settle(
      message.id,
      message.kind === 'result' ? { value: message.value } : { error: deserializeError(message.error) },
    );
  }

  /** Both 'error' and 'exit' fire for a crash; only the first one for the current thread counts. */
  #onExit(worker: Worker, reason: string): void {
    const current = worker === this.#worker;
    if (current) this.#worker = undefined;
    const expected = this.#life.state === 'stopped';
    if (current && !expected)
      this.#logger.error({ reason }, 'inference thread died; it restarts on the next call');
    const error = expected
      ? new LifecycleError('model engine stopped while the call was in flight')
      : new StewardError(ErrorCode.ModelRun, reason);
    this.#calls.fail(worker, error);
  }

  async #shutdown(): Promise<void> {
    await this.#respawning?.catch(() => undefined);
    const worker = this.#worker;
    if (!worker) return;
    const timeout = this.#options.stopTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#send(worker, 'stop', []),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer in ${timeout} ms`)), timeout).unref();
        }),
      ]);
    } catch (error) {
      this.#logger.warn(
        { err: (error as Error).message },
        'inference thread did not stop cleanly; terminating it',
      );
    } finally {
      clearTimeout(timer);
    }
    this.#worker = undefined;
    await worker.terminate();
  }

  /** Re-emits a pino line from the thread through this process's logger, at the same level. */
  #relayLog(line: string): void {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.#relay.info({ line }, 'inference thread');
      return;
    }
    const { level, msg, time: _time, ...fields } = record;
    const label = this.#relay.levels.labels[Number(level)] ?? 'info';
    const log = (this.#relay as unknown as Record<string, (obj: object, msg?: string) => void>)[label];
    log?.call(this.#relay, { ...fields, thread: 'inference' }, typeof msg === 'string' ? msg : undefined);
  }
}

/** Builds an engine whose models run in a worker thread; nothing loads until start(). */
export function createThreadEngine(
  config: RuntimeConfig,
  logger: Logger,
  options: ThreadEngineOptions = {},
): ThreadEngine {
  return new ThreadEngine(config, logger, options);
}
