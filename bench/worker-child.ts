/**
 * The worker side of the queue bench, in its own process: exactly `steward worker` (runWorkerProcess: BullMQ
 * driver, Redis store, inference thread, pipeline), configured from env. Reports its RSS over IPC.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { runWorkerProcess } from '../app/worker-process.ts';
import { threadSched } from './probe.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  const running = await runWorkerProcess(config, logger);
  const heapDir = process.env.BENCH_HEAP_PROF_DIR;
  const stopSampling = heapDir ? await sampleAllocations(heapDir) : async () => {};
  let stopping = false;
  process.on('message', (msg: { type: string }) => {
    if (msg.type === 'rss') {
      process.send?.({
        type: 'rss',
        rss: process.memoryUsage().rss,
        stats: running.worker.stats(),
        elu: performance.eventLoopUtilization(),
        cpu: process.cpuUsage(),
        sched: schedStats(),
      });
    } else if (msg.type === 'stop' && !stopping) {
      stopping = true;
      void stopSampling()
        .then(() => running.stop())
        .finally(() => process.exit(0));
    }
  });
  if (process.env.BENCH_STALLS) watchStalls(Number(process.env.BENCH_STALLS) || 25);
  process.send?.({ type: 'ready' });
}

/**
 * BENCH_HEAP_PROF_DIR=DIR: samples every allocation of the main thread, including what the young-generation GC
 * collects (unlike `--heap-prof`, which keeps only what is still alive), and writes a `.heapprofile` (Chrome
 * DevTools) to DIR at exit. Shows what drives the GC (scavenge rate, promotion) under load.
 */
async function sampleAllocations(dir: string): Promise<() => Promise<void>> {
  const session = new Session();
  session.connect();
  // BENCH_HEAP_PROF_KEEP=survivors: only what no GC has collected by the end, i.e. what is live plus what was
  // promoted to the old generation and awaits a major GC. BENCH_HEAP_PROF_KEEP=promoted: what no scavenge
  // collected, i.e. everything promoted to the old generation over the run (what makes the major GCs come).
  const keep = process.env.BENCH_HEAP_PROF_KEEP ?? 'all';
  if (!['all', 'survivors', 'promoted'].includes(keep))
    throw new Error(`BENCH_HEAP_PROF_KEEP must be all, survivors or promoted, not ${keep}`);
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 16_384,
    includeObjectsCollectedByMajorGC: keep !== 'survivors',
    includeObjectsCollectedByMinorGC: keep === 'all',
  } as object);
  return async () => {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    writeFileSync(join(dir, `worker-${process.pid}.heapprofile`), JSON.stringify(profile));
  };
}

/**
 * The scheduler's account of this process's threads (Linux `/proc/self/task/<tid>/schedstat`, ns): time on a CPU
 * and time runnable but waiting for one, for the main thread and for all the other threads together (the inference
 * thread, onnxruntime's pool, V8's and libuv's helpers). Null off Linux.
 */
function schedStats(): {
  mainRunNs: number;
  mainWaitNs: number;
  otherRunNs: number;
  otherWaitNs: number;
} | null {
  const dir = '/proc/self/task';
  if (!existsSync(dir)) return null;
  const out = { mainRunNs: 0, mainWaitNs: 0, otherRunNs: 0, otherWaitNs: 0 };
  for (const tid of readdirSync(dir)) {
    const sched = threadSched(tid);
    if (!sched) continue; // a thread that ended meanwhile
    if (Number(tid) === process.pid) {
      out.mainRunNs += sched[0];
      out.mainWaitNs += sched[1];
    } else {
      out.otherRunNs += sched[0];
      out.otherWaitNs += sched[1];
    }
  }
  return out;
}

/**
 * BENCH_STALLS=MS: prints each time the worker's main thread was blocked for MS or more, with the wall time, and each
 * of its isolate's major collections (mark-compact) with its pause, so that a stall can be told from a collection.
 */
function watchStalls(thresholdMs: number): void {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const { kind } = (entry as unknown as { detail: { kind: number } }).detail;
      if (kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      const at = new Date(performance.timeOrigin + entry.startTime).toISOString();
      console.error(`  worker major GC at ${at}, main thread paused ${entry.duration.toFixed(1)} ms`);
    }
  }).observe({ entryTypes: ['gc'] });
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    const late = now - last - 5;
    if (late >= thresholdMs)
      console.error(`  worker loop blocked ${late.toFixed(0)} ms at ${new Date().toISOString()}`);
    last = now;
  }, 5).unref();
}

void main().catch((error: unknown) => {
  process.send?.({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
