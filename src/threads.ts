import { Worker, type WorkerOptions } from 'node:worker_threads';

const BOOT = new URL('./thread-boot.mjs', import.meta.url);

/**
 * A worker thread running the module `name` (no extension) beside `from` (the caller's import.meta.url). Compiled
 * (dist/…/*.js), the thread runs the compiled module directly; from source (tsx, vitest), thread-boot.mjs registers
 * tsx in the thread first, since a thread inherits no transform.
 */
export function spawnThread(from: string, name: string, options: WorkerOptions = {}): Worker {
  if (!from.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, from), options);
  const entry = new URL(`./${name}.ts`, from).href;
  return new Worker(BOOT, { ...options, argv: [...(options.argv ?? []), entry] });
}

/**
 * The calls in flight to worker threads, by id: each settles when its thread answers, or fails when that thread
 * dies (the others' threads' calls are untouched). The thread clients (the inference engine, the chit-chat bank)
 * keep one each.
 */
export class ThreadCalls {
  readonly #pending = new Map<
    number,
    { worker: Worker; resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  #nextId = 1;

  /** Posts `request(id)` to `worker`; the promise settles with settle(id, …) or fail(worker, …). */
  send(worker: Worker, request: (id: number) => unknown): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { worker, resolve, reject });
      worker.postMessage(request(id));
    });
  }

  /** Settles one call (an answer for a call no longer waiting, e.g. already failed, is ignored). */
  settle(id: number, outcome: { value: unknown } | { error: Error }): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    if ('error' in outcome) pending.reject(outcome.error);
    else pending.resolve(outcome.value);
  }

  /** Fails every call in flight to `worker` (it died or was stopped). */
  fail(worker: Worker, error: Error): void {
    for (const [id, pending] of this.#pending) {
      if (pending.worker !== worker) continue;
      this.#pending.delete(id);
      pending.reject(error);
    }
  }
}
