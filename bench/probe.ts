/**
 * Snapshots of the worker process (its pipeline counters, main-thread event-loop utilisation, CPU time) and of
 * Redis's CPU time, so a phase can be described per message: is the worker's main thread (BullMQ, pipeline)
 * or the inference thread the bottleneck, and what does Redis cost?
 */
import type { ChildProcess } from 'node:child_process';
import type { EventLoopUtilization } from 'node:perf_hooks';
import type { Redis } from 'ioredis';

export interface Counters {
  processed: number;
  batches: number;
  largestBatch: number;
}

export interface Snapshot {
  counters: Counters;
  elu: EventLoopUtilization;
  cpu: NodeJS.CpuUsage;
  rss: number;
  redisCpuS: number;
}

export interface PhaseUse {
  processed: number;
  meanBatch: number;
  /** Share of wall time the worker's main thread (BullMQ, pipeline JS) was busy. */
  mainLoopUtilization: number;
  /** Worker process CPU (all threads: main, inference, onnxruntime pool) per message. */
  workerCpuMsPerMsg: number;
  /** Redis server CPU per message (a shared Redis also counts its other clients). */
  redisCpuMsPerMsg: number;
}

async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const read = (key: string) => Number(info.match(new RegExp(`^${key}:([\\d.]+)`, 'm'))?.[1] ?? 0);
  return read('used_cpu_user') + read('used_cpu_sys');
}

/** Asks the worker child for its counters (IPC "rss") and reads Redis's CPU counters. */
export async function snapshot(
  worker: ChildProcess,
  redis: Redis,
  next: (child: ChildProcess, type: string, timeoutMs: number) => Promise<Record<string, unknown>>,
): Promise<Snapshot> {
  worker.send({ type: 'rss' });
  const [msg, redisCpuS] = await Promise.all([next(worker, 'rss', 10_000), redisCpuSeconds(redis)]);
  return {
    counters: msg.stats as Counters,
    elu: msg.elu as EventLoopUtilization,
    cpu: msg.cpu as NodeJS.CpuUsage,
    rss: Number(msg.rss),
    redisCpuS,
  };
}

export function phaseUse(before: Snapshot, after: Snapshot): PhaseUse {
  const processed = after.counters.processed - before.counters.processed;
  const batches = after.counters.batches - before.counters.batches;
  const active = after.elu.active - before.elu.active;
  const idle = after.elu.idle - before.elu.idle;
  const cpuMs = (after.cpu.user - before.cpu.user + after.cpu.system - before.cpu.system) / 1000;
  const per = Math.max(1, processed);
  return {
    processed,
    meanBatch: processed / Math.max(1, batches),
    mainLoopUtilization: active / Math.max(1e-9, active + idle),
    workerCpuMsPerMsg: cpuMs / per,
    redisCpuMsPerMsg: ((after.redisCpuS - before.redisCpuS) * 1000) / per,
  };
}

export function describeUse(use: PhaseUse): string {
  return (
    `${use.processed} messages, mean batch ${use.meanBatch.toFixed(1)}, worker main-thread loop busy ` +
    `${(use.mainLoopUtilization * 100).toFixed(0)} %, worker CPU ${use.workerCpuMsPerMsg.toFixed(2)} ms/msg, ` +
    `Redis CPU ${use.redisCpuMsPerMsg.toFixed(2)} ms/msg`
  );
}
