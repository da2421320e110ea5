/**
 * `npx tsx bench/sched-trace.ts [--rate R] [--top N]` — who had the cores when the slowest messages waited.
 *
 * Runs `bench/queue-latency.ts --slowest` once and records the Linux scheduler over its Poisson phase with
 * `perf sched record -k mono` (Debian's `perf`; needs perf_event_paranoid ≤ 2 or root). Then, for each cluster of
 * the slowest messages (sends within 50 ms of each other), it prints what each process did on the 2 cores in 10 ms
 * bins from 20 ms before the cluster's first send to 100 ms after it: the worker's main thread, its inference thread
 * (its busiest other thread), its other threads (V8's GC helpers, libuv), the adapter process, Redis, the bench
 * process itself, idle, and anything else. A bin's figures add up to 20 ms (two cores × 10 ms). Last, how often the
 * worker's main thread lost its core over the whole trace while still runnable (preempted), and to whom, and Redis's
 * calls per message of the commands the queue runs on (`INFO commandstats`, before and after the trace).
 *
 * This is how the bench process's own garbage collection was found in the tail (bench/README.md, "The bench's own
 * process was in the tail"). perf's clock is CLOCK_MONOTONIC (`-k mono`), which is `process.hrtime` here, so a wall
 * time maps to it through one offset read at the start.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchRedisUrl, commandCalls } from './redis.ts';

const { values: args } = parseArgs({
  options: { rate: { type: 'string' }, top: { type: 'string', default: '4' } },
});
const ROOT = join(import.meta.dirname, '..');
const BIN_MS = 10;
const dir = mkdtempSync(join(tmpdir(), 'steward-sched-'));
const data = join(dir, 'perf.data');

try {
  execFileSync('perf', ['--version'], { stdio: 'ignore' });
} catch {
  throw new Error('perf is not installed (Debian: apt-get install linux-perf)');
}

// Wall ms − monotonic ms: perf's `-k mono` timestamps are seconds of CLOCK_MONOTONIC, as process.hrtime.
const wallMinusMono = Date.now() - Number(process.hrtime.bigint()) / 1e6;

const bench = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    join(ROOT, 'bench/queue-latency.ts'),
    '--slowest',
    ...(args.rate ? ['--rate', args.rate] : []),
  ],
  { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'inherit'] },
);
let log = '';
let perf: ChildProcess | null = null;
// Redis's calls per command over the traced window (the bench's Redis; other clients of a shared one count too).
const redisUrl = benchRedisUrl();
const commandsInTrace = new Map<string, number>();
const perfDone = new Promise<void>((resolve) => {
  bench.stdout!.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    log += chunk.toString();
    // The Poisson phase starts right after the live-capacity line; 22 s covers its 20 s and the drain.
    if (!perf && log.includes('live capacity')) {
      perf = spawn('perf', ['sched', 'record', '-k', 'mono', '-o', data, '--', 'sleep', '22'], {
        stdio: 'ignore',
      });
      const before = commandCalls(redisUrl);
      perf.on('exit', () => {
        void Promise.all([before, commandCalls(redisUrl)]).then(([a, b]) => {
          for (const [name, calls] of b) commandsInTrace.set(name, calls - (a.get(name) ?? 0));
          resolve();
        });
      });
    }
  });
});
const benchExit = new Promise<number | null>((resolve) => bench.on('exit', resolve));
// Children of the bench process, by their script: the adapter's pid is not in the log.
const pids = { bench: bench.pid!, worker: 0, adapter: 0 };
const findChildren = setInterval(() => {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (/worker-child\.(ts|js)\b/.test(cmd)) pids.worker = Number(pid);
      if (/adapter-child\.(ts|js)\b/.test(cmd)) pids.adapter = Number(pid);
    } catch {
      // Gone meanwhile.
    }
  }
  if (pids.worker && pids.adapter) clearInterval(findChildren);
}, 500);
const code = await benchExit;
clearInterval(findChildren);
if (code !== 0) throw new Error(`queue-latency exited ${code}`);
await perfDone;

interface Slice {
  start: number;
  end: number;
  who: string;
  tid: number;
  /** perf's `comm[tid/pid]`: the thread's name says what it is (V8's GC helpers, onnxruntime's pool, esbuild). */
  task: string;
}
const slices: Slice[] = [];
const timehist = execFileSync('perf', ['sched', 'timehist', '-i', data], {
  encoding: 'utf8',
  maxBuffer: 1 << 30,
  stdio: ['ignore', 'pipe', 'ignore'],
});
for (const line of timehist.split('\n')) {
  // time  [cpu]  comm[tid/pid]  wait  sch-delay  run   (all ms but time, in s)
  const m = /^\s*([\d.]+)\s+\[\d+\]\s+(.+?)\s+[\d.]+\s+[\d.]+\s+([\d.]+)\s*$/.exec(line);
  if (!m) continue;
  const end = Number(m[1]) * 1000;
  const run = Number(m[3]);
  const task = m[2]!;
  slices.push({ start: end - run, end, who: classify(task), tid: idsOf(task)?.tid ?? 0, task });
}
// The worker's busiest thread besides its main one is the inference thread; the rest are V8's GC helpers and libuv.
const otherRun = new Map<number, number>();
for (const s of slices)
  if (s.who === 'worker other') otherRun.set(s.tid, (otherRun.get(s.tid) ?? 0) + s.end - s.start);
const inferenceTid = [...otherRun.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
for (const s of slices) if (s.who === 'worker other' && s.tid === inferenceTid) s.who = 'inference';

/** `comm[tid/pid]`, or `comm[pid]` for a process's main thread. */
function idsOf(task: string): { tid: number; pid: number } | null {
  const ids = /\[(\d+)(?:\/(\d+))?\]$/.exec(task);
  return ids ? { tid: Number(ids[1]), pid: Number(ids[2] ?? ids[1]) } : null;
}

function classify(task: string): string {
  if (task.startsWith('<idle>')) return 'idle';
  if (task.startsWith('redis-server')) return 'redis';
  const ids = idsOf(task);
  if (!ids) return 'other';
  const { tid, pid } = ids;
  if (pid === pids.worker) return tid === pid ? 'worker main' : 'worker other';
  if (pid === pids.adapter) return 'adapter';
  if (pid === pids.bench) return 'bench';
  return 'other';
}

// The slowest messages, from the bench's own lines: "+12.345s 67 ms (…)" after "phase began <ISO>".
const began = Date.parse(/phase began ([^;]+);/.exec(log)?.[1] ?? '');
const sends = [...log.matchAll(/^\s+\+([\d.]+)s (\d+) ms/gm)].map((m) => ({
  at: began + Number(m[1]) * 1000,
  ms: Number(m[2]),
}));
const clusters: Array<{ at: number; worst: number; n: number }> = [];
for (const s of sends.sort((a, b) => a.at - b.at)) {
  const last = clusters.at(-1);
  if (last && s.at - last.at < 50) {
    last.worst = Math.max(last.worst, s.ms);
    last.n += 1;
  } else clusters.push({ at: s.at, worst: s.ms, n: 1 });
}
const columns = ['worker main', 'inference', 'worker other', 'adapter', 'redis', 'bench', 'other', 'idle'];
console.log(
  `\nwho had the 2 cores around the slowest messages (ms of CPU per ${BIN_MS} ms bin; pids ${JSON.stringify(pids)})`,
);
for (const c of clusters.sort((a, b) => b.worst - a.worst).slice(0, Number(args.top))) {
  const mono = c.at - wallMinusMono;
  console.log(
    `cluster at +${((c.at - began) / 1000).toFixed(3)} s: ${c.n} of the slowest, up to ${c.worst} ms\n` +
      `  ${'bin'.padStart(6)}  ${columns.map((k) => k.padStart(13)).join('')}`,
  );
  for (let lo = mono - 20; lo < mono + 100; lo += BIN_MS) {
    const hi = lo + BIN_MS;
    const used = new Map<string, number>();
    for (const s of slices) {
      const overlap = Math.min(s.end, hi) - Math.max(s.start, lo);
      if (overlap > 0) used.set(s.who, (used.get(s.who) ?? 0) + overlap);
    }
    const rel = `${lo - mono >= 0 ? '+' : ''}${(lo - mono).toFixed(0)}`.padStart(6);
    console.log(`  ${rel}  ${columns.map((k) => (used.get(k) ?? 0).toFixed(1).padStart(13)).join('')}`);
  }
  // Who the two catch-all columns were over the cluster's window, by thread.
  const byTask = new Map<string, number>();
  for (const s of slices) {
    if (s.who !== 'worker other' && s.who !== 'other') continue;
    const overlap = Math.min(s.end, mono + 100) - Math.max(s.start, mono - 20);
    if (overlap > 0) byTask.set(s.task, (byTask.get(s.task) ?? 0) + overlap);
  }
  const top = [...byTask.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
  if (top.length > 0) {
    console.log(
      `  worker other + other by thread: ${top.map(([t, ms]) => `${t} ${ms.toFixed(1)} ms`).join(', ')}`,
    );
  }
}

// How the worker's main thread lost its core over the whole trace: blocked (it waited for I/O or a timer) or
// preempted while still runnable, and by whom. On 2026-12-05, 80 % preempted, nearly all by redis-server: a write to
// Redis wakes it on the writer's core.
const switches = execFileSync('perf', ['script', '-i', data, '-F', 'event,trace'], {
  encoding: 'utf8',
  maxBuffer: 1 << 30,
  stdio: ['ignore', 'pipe', 'ignore'],
});
let out = 0;
const preemptedBy = new Map<string, number>();
const mine = new RegExp(
  `prev_pid=${pids.worker} prev_prio=\\d+ prev_state=(\\S+) ==> next_comm=(.+?) next_pid=`,
);
for (const line of switches.split('\n')) {
  const m = mine.exec(line);
  if (!m) continue;
  out += 1;
  if (m[1]!.startsWith('R')) preemptedBy.set(m[2]!, (preemptedBy.get(m[2]!) ?? 0) + 1);
}
const preempted = [...preemptedBy.values()].reduce((a, b) => a + b, 0);
const by = [...preemptedBy.entries()]
  .sort((a, b) => b[1] - a[1])
  .slice(0, 3)
  .map(([comm, n]) => `${comm} ${n}`)
  .join(', ');
console.log(
  `\nthe worker's main thread left its core ${out} times in the trace; ${preempted} (${((100 * preempted) / Math.max(1, out)).toFixed(0)} %) while still runnable, preempted by: ${by}`,
);
// Commands per message over the same window: BullMQ's scripts (EVALSHA), its fetches (each moveToActive runs one
// RPOPLPUSH, found or not) and waits for a job (BZPOPMIN), and the store's own scripts (EVAL). The window is the
// Poisson phase and its drain, so this divides by the phase's messages.
const poissonMessages = Number(/Poisson @ [^:]+: (\d+)\//.exec(log)?.[1] ?? 0);
const perMessage = ['evalsha', 'rpoplpush', 'bzpopmin', 'eval']
  .map((name) => `${name} ${((commandsInTrace.get(name) ?? 0) / Math.max(1, poissonMessages)).toFixed(1)}`)
  .join(', ');
console.log(`Redis commands per message over the trace (${poissonMessages} messages): ${perMessage}`);
rmSync(dir, { recursive: true, force: true });
