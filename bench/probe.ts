/**
 * Snapshots of the worker process (its pipeline counters, main-thread event-loop utilisation, CPU time) and of
 * Redis's CPU time, so a phase can be described per message: is the worker's main thread (BullMQ, pipeline)
 * or the inference thread the bottleneck, and what does Redis cost?
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
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
  /** The worker's threads as the scheduler saw them (cumulative ns; null off Linux). */
  sched: { mainRunNs: number; mainWaitNs: number; otherRunNs: number; otherWaitNs: number } | null;
  /** The machine's CPU time, busy and in all, in clock ticks over every core (/proc/stat; null off Linux). */
  machine: { busy: number; total: number } | null;
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
  /**
   * Share of all the machine's cores that were busy over the phase (every process: worker, Redis, adapter, the
   * bench, anything else on the box); null off Linux.
   */
  machineBusy: number | null;
  /**
   * Shares of the phase's wall time the worker's main thread spent on a CPU and runnable but waiting for one (the
   * event-loop utilisation above counts both), and the same for its other threads together; null off Linux.
   */
  mainOnCpu: number | null;
  mainWaitingForCpu: number | null;
  otherThreadsOnCpu: number | null;
  otherThreadsWaitingForCpu: number | null;
}

/**
 * One thread of this process as the scheduler saw it (Linux `/proc/self/task/<tid>/schedstat`): ns on a CPU and ns
 * runnable but waiting for one; null off Linux or for a thread that has ended.
 */
export function threadSched(tid: number | string): [number, number] | null {
  try {
    const [run, wait] = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    return [run!, wait!];
  } catch {
    return null;
  }
}

/** Linux's scheduling policies by number (`sched_setscheduler(2)`); 4 is unused. */
const POLICIES = [
  'SCHED_OTHER',
  'SCHED_FIFO',
  'SCHED_RR',
  'SCHED_BATCH',
  'SCHED_ISO',
  'SCHED_IDLE',
  'SCHED_DEADLINE',
];

/**
 * A task's scheduling policy (`/proc/<pid>/stat`, field 41), e.g. `SCHED_OTHER` or `SCHED_BATCH`; null where no
 * such task is visible (another host, another PID namespace, not Linux).
 */
export function schedPolicy(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2, the command, is in parentheses and may hold spaces; field 3 (state) follows the last ')'.
    const fields = stat
      .slice(stat.lastIndexOf(')') + 2)
      .trim()
      .split(/\s+/);
    const policy = Number(fields[41 - 3]);
    return Number.isInteger(policy) ? (POLICIES[policy] ?? `policy ${policy}`) : null;
  } catch {
    return null;
  }
}

/**
 * Sets every thread of this process (Linux: `os.setPriority` on a thread id renices that thread alone) to `nice`,
 * so the bench's own process, which only waits on its children while they are measured, does not take the cores
 * from them. Its garbage collector runs on five threads at once: V8's memory reducer starts three full collections
 * about 0.7 s apart some seconds after the pre-fill's allocations stop, i.e. inside the Poisson phase, and at nice 0
 * each took both cores from the worker and the adapter for ~100 ms (`perf sched` on 2026-12-05: the three bursts
 * were the three clusters of slowest messages). Children forked later would inherit it: call this after forking.
 * Returns the number of threads reniced (0 off Linux).
 */
export function reniceOwnThreads(nice: number): number {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return 0;
  }
  let done = 0;
  for (const tid of tids) {
    try {
      setPriority(Number(tid), nice);
      done += 1;
    } catch (error) {
      // A thread that ended meanwhile; lowering nice (raising a priority) without the privilege is EACCES.
      if ((error as { info?: { code?: string } }).info?.code === 'EACCES') break;
    }
  }
  return done;
}

/** The first line of /proc/stat: user nice system idle iowait irq softirq steal … (idle and iowait are not busy). */
function machineTicks(): Snapshot['machine'] {
  if (!existsSync('/proc/stat')) return null;
  const fields = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - fields[3]! - fields[4]!, total };
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
    sched: (msg.sched as Snapshot['sched']) ?? null,
    machine: machineTicks(),
  };
}

export function phaseUse(before: Snapshot, after: Snapshot): PhaseUse {
  const processed = after.counters.processed - before.counters.processed;
  const batches = after.counters.batches - before.counters.batches;
  const active = after.elu.active - before.elu.active;
  const idle = after.elu.idle - before.elu.idle;
  const cpuMs = (after.cpu.user - before.cpu.user + after.cpu.system - before.cpu.system) / 1000;
  const per = Math.max(1, processed);
  const wallNs = (active + idle) * 1e6;
  const share = (key: keyof NonNullable<Snapshot['sched']>) =>
    before.sched && after.sched ? (after.sched[key] - before.sched[key]) / Math.max(1, wallNs) : null;
  return {
    processed,
    meanBatch: processed / Math.max(1, batches),
    mainLoopUtilization: active / Math.max(1e-9, active + idle),
    workerCpuMsPerMsg: cpuMs / per,
    redisCpuMsPerMsg: ((after.redisCpuS - before.redisCpuS) * 1000) / per,
    machineBusy:
      before.machine && after.machine
        ? (after.machine.busy - before.machine.busy) / Math.max(1, after.machine.total - before.machine.total)
        : null,
    mainOnCpu: share('mainRunNs'),
    mainWaitingForCpu: share('mainWaitNs'),
    otherThreadsOnCpu: share('otherRunNs'),
    otherThreadsWaitingForCpu: share('otherWaitNs'),
  };
}

const pct = (share: number) => `${(share * 100).toFixed(0)} %`;

export function describeUse(use: PhaseUse): string {
  return (
    `${use.processed} messages, mean batch ${use.meanBatch.toFixed(1)}, worker main-thread loop busy ` +
    `${(use.mainLoopUtilization * 100).toFixed(0)} %, worker CPU ${use.workerCpuMsPerMsg.toFixed(2)} ms/msg, ` +
    `Redis CPU ${use.redisCpuMsPerMsg.toFixed(2)} ms/msg` +
    (use.mainOnCpu === null || use.mainWaitingForCpu === null
      ? ''
      : ` (main thread on a CPU ${pct(use.mainOnCpu)}, waiting for one ${pct(use.mainWaitingForCpu)}; other threads on a CPU ` +
        `${pct(use.otherThreadsOnCpu!)} of one core, waiting ${pct(use.otherThreadsWaitingForCpu!)})`) +
    (use.machineBusy === null ? '' : `, machine CPU ${pct(use.machineBusy)} busy (all cores, every process)`)
  );
}
