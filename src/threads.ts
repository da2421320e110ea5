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
