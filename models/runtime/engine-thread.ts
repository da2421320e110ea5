/**
 * The inference thread: owns a LocalEngine and answers the main thread's requests one message at a time.
 * Started by thread-engine.ts (spawnThread: from source, through src/thread-boot.mjs, which registers tsx).
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import type { Signals } from '../../src/domain/analysis.ts';
import { LifecycleError } from '../../src/errors.ts';
import { REDACT_PATHS } from '../../src/logger.ts';
import { createLocalEngine, type LocalEngine, type LocalEngineOptions } from './local-engine.ts';
import { type Request, type Response, serializeError } from './protocol.ts';
import type { RuntimeConfig } from './settings.ts';

export interface ThreadData {
  config: RuntimeConfig;
  options: LocalEngineOptions;
  logLevel: string;
}

const port = parentPort;
if (!port) throw new Error('engine-thread.ts must run inside a worker thread');
const data = workerData as ThreadData;

// Log lines go to the main thread, which owns the real destination (and its redaction and formatting).
const logger = pino(
  { level: data.logLevel, base: undefined, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
  { write: (line: string) => port.postMessage({ kind: 'log', line } satisfies Response) },
);

let engine: LocalEngine | undefined;

function started(): LocalEngine {
  if (!engine) throw new LifecycleError('inference thread has no started engine');
  return engine;
}

async function handle(request: Request): Promise<{ value: unknown; transfer: ArrayBuffer[] }> {
  switch (request.method) {
    case 'start': {
      if (engine) throw new LifecycleError('inference thread already started');
      // Before the sessions exist: onnxruntime's pool threads inherit this thread's priority.
      lowerPriority(data.config.models.threadNice ?? 0);
      const next = createLocalEngine(data.config, logger, data.options);
      await next.start();
      engine = next;
      return { value: { defaults: next.defaults(), info: next.info() }, transfer: [] };
    }
    case 'stop': {
      const current = engine;
      engine = undefined;
      if (current) await current.stop();
      return { value: null, transfer: [] };
    }
    case 'signals': {
      const value: Signals[] = await started().signals(request.args[0] as string[]);
      return { value, transfer: buffersOf(value.map((s) => s.embedding)) };
    }
    case 'embed': {
      const value = await started().embed(request.args[0] as string[]);
      return { value, transfer: buffersOf(value) };
    }
    case 'embedSearch': {
      const value = await started().embedSearch(request.args[0] as string[]);
      return { value, transfer: buffersOf(value) };
    }
    case 'reply':
      return { value: await started().reply(request.args[0] as never), transfer: [] };
    case 'scoreReplies':
      return {
        value: await started().scoreReplies(request.args[0] as never, request.args[1] as string[]),
        transfer: [],
      };
    case 'attend':
      return { value: await started().attend(request.args[0] as never), transfer: [] };
    default:
      throw new Error(`unknown method ${String(request.method)}`);
  }
}

/**
 * Lowers this thread's scheduling priority (not the process's: on Linux a thread id given to setpriority names one
 * thread). Where that is not possible, inference keeps the process's priority and says so.
 */
function lowerPriority(nice: number): void {
  if (nice <= 0) return;
  try {
    if (process.platform !== 'linux')
      throw new Error(`per-thread priority needs Linux (${process.platform})`);
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0 || tid === process.pid) throw new Error('no thread id');
    // Never raise it: a process started with `nice` already runs at that priority or lower.
    if (getPriority(tid) >= nice) return;
    setPriority(tid, nice);
    logger.debug({ tid, nice }, 'inference thread priority lowered');
  } catch (error) {
    logger.warn({ nice, err: (error as Error).message }, 'could not lower the inference thread priority');
  }
}

/** Each embedding owns its buffer (see l2normalize), so moving them costs nothing; duplicates would throw. */
function buffersOf(arrays: Float32Array[]): ArrayBuffer[] {
  return [...new Set(arrays.map((a) => a.buffer as ArrayBuffer))];
}

port.on('message', (request: Request) => {
  handle(request).then(
    ({ value, transfer }) =>
      port.postMessage({ kind: 'result', id: request.id, value } satisfies Response, transfer),
    (error: unknown) =>
      port.postMessage({ kind: 'error', id: request.id, error: serializeError(error) } satisfies Response),
  );
});
