import type { Worker } from 'node:worker_threads';
import { ErrorCode, StewardError } from '../../src/errors.ts';
import type { Logger } from '../../src/logger.ts';
import { spawnThread, ThreadCalls } from '../../src/threads.ts';
import { ChitchatBankError } from './bank.ts';
import type { ChitchatShortlister, Shortlist, ShortlistOptions } from './shortlist.ts';

/** What the bank thread is started with. */
export interface BankThreadData {
  /** The bank file (absolute). */
  path: string;
  options: Partial<ShortlistOptions>;
}

export type ToBankThread = { id: number; text: string; recent: readonly string[] };

export type FromBankThread =
  | { kind: 'ready'; source: string | undefined; pairs: number }
  | { kind: 'failed'; message: string }
  | { kind: 'result'; id: number; value: Shortlist }
  | { kind: 'error'; id: number; message: string };

/**
 * The chit-chat shortlist from a bank read in a worker thread of its own. The bank (pairs, BM25 index, word
 * statistics: about half of a worker's live heap) then never sits in the main thread's heap, whose major GCs would
 * otherwise mark all of it under load and hold up every message's tags and alerts. A crashed thread fails its
 * in-flight calls with a retryable error (the reply job is retried) and is replaced on the next call.
 */
export class ThreadShortlister implements ChitchatShortlister {
  readonly #data: BankThreadData;
  readonly #logger: Logger | undefined;
  readonly #onThread: ((worker: Worker) => void) | undefined;
  readonly #calls = new ThreadCalls();
  #worker: Worker | undefined;
  #respawning: Promise<void> | undefined;
  #closed = false;
  #source: string | undefined;

  private constructor(
    data: BankThreadData,
    logger: Logger | undefined,
    onThread: ((worker: Worker) => void) | undefined,
  ) {
    this.#data = data;
    this.#logger = logger;
    this.#onThread = onThread;
  }

  /** Starts the thread and waits until it has read the bank; a bad bank is a ChitchatBankError, as in-process. */
  static async start(
    path: string,
    options: Partial<ShortlistOptions> = {},
    logger?: Logger,
    /** Called with each thread as it is spawned (tests use it to crash one). */
    onThread?: (worker: Worker) => void,
  ): Promise<ThreadShortlister> {
    const shortlister = new ThreadShortlister({ path, options }, logger, onThread);
    await shortlister.#spawn();
    return shortlister;
  }

  get source(): string | undefined {
    return this.#source;
  }

  async shortlist(text: string, recent: readonly string[]): Promise<Shortlist> {
    if (this.#closed) throw new StewardError(ErrorCode.ModelRun, 'chit-chat bank thread is closed');
    if (!this.#worker) {
      this.#respawning ??= this.#spawn().finally(() => {
        this.#respawning = undefined;
      });
      await this.#respawning;
    }
    const worker = this.#worker;
    if (this.#closed || !worker) throw new StewardError(ErrorCode.ModelRun, 'chit-chat bank thread is closed');
    return this.#calls.send(worker, (id) => ({ id, text, recent }) satisfies ToBankThread) as Promise<Shortlist>;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#respawning?.catch(() => undefined);
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  /** The thread, started and ready (the bank read), or the reason it could not be. */
  #spawn(): Promise<void> {
    const worker = spawnThread(import.meta.url, 'bank-thread', {
      workerData: this.#data satisfies BankThreadData,
      name: 'steward-chitchat',
    });
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on('message', (message: FromBankThread) => {
        switch (message.kind) {
          case 'ready':
            ready = true;
            this.#source = message.source;
            this.#worker = worker;
            this.#onThread?.(worker);
            // The thread only answers: it must not keep the process alive on its own.
            worker.unref();
            resolve();
            return;
          case 'failed':
            reject(new ChitchatBankError(message.message));
            return;
          default:
            this.#settle(message);
        }
      });
      const died = (reason: string) => {
        if (!ready) reject(new ChitchatBankError(`chit-chat bank thread failed to start: ${reason}`));
        else this.#onExit(worker, reason);
      };
      worker.on('error', (error) => died(`chit-chat bank thread crashed: ${error.message}`));
      worker.on('exit', (code) => died(`chit-chat bank thread exited (code ${code})`));
    });
  }

  #settle(message: Extract<FromBankThread, { id: number }>): void {
    this.#calls.settle(
      message.id,
      message.kind === 'result'
        ? { value: message.value }
        : { error: new StewardError(ErrorCode.ModelRun, `chit-chat shortlist failed: ${message.message}`) },
    );
  }

  /** Both 'error' and 'exit' fire for a crash; the first one fails that thread's calls. */
  #onExit(worker: Worker, reason: string): void {
    const current = worker === this.#worker;
    if (current) this.#worker = undefined;
    if (current && !this.#closed)
      this.#logger?.error({ reason }, 'chit-chat bank thread died; it restarts on the next small-talk reply');
    const error = this.#closed
      ? new StewardError(ErrorCode.ModelRun, 'chit-chat bank thread closed while the call was in flight')
      : new StewardError(ErrorCode.ModelRun, reason);
    this.#calls.fail(worker, error);
  }
}
