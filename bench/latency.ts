/**
 * The queue bench: a real worker process and an adapter-like process around BullMQ on Redis.
 *   1. saturated: a backlog is pre-filled (queue paused, then resumed) so the worker runs flat out, while the
 *      adapter enqueues at a steady rate and consumes every outbound action → end-to-end capacity, and the
 *      adapter's event-loop delay while the worker is saturated (inference is in another process);
 *   2. live capacity: the adapter enqueues every message itself, closed loop (each answer sends the next, 512
 *      unanswered, so jobs always wait): what the box sustains with the adapter's and Redis's work on the same cores,
 *      a check on the load point below;
 *   3. Poisson arrivals at 50 % of the capacity of step 1 → enqueue → first outbound action p50 / p99, with the
 *      machine's CPU share over the phase (every process).
 */
import { NODE_FLAGS } from '../app/node-flags.ts';
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getPriority } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { detectLanguage, loadLanguageDetector } from '../models/runtime/language.ts';
import { loadConfig } from '../src/config.ts';
import { RedisStore } from '../src/store/redis.ts';
import type { AdapterInit, PhaseRequest, PhaseResult } from './adapter-child.ts';
import { discardBacklog, inboundQueue, prefill } from './backlog.ts';
import { describeUse, type PhaseUse, phaseUse, reniceOwnThreads, snapshot } from './probe.ts';
import type { BenchRedis } from './redis.ts';
import { sleep } from './stats.ts';

/** Messages per second the adapter enqueues while the worker is saturated. */
const ADAPTER_RATE = 100;
/** The saturated phase's first part, not counted in the capacity (the worker ramps up to full batches). */
const SATURATED_RAMP_MS = 1500;
/**
 * The live capacity phase keeps this many of the adapter's messages unanswered: four times the worker's 128 job
 * slots, so jobs are always waiting (the phase checks it), and under the adapter's bound of 1,000 waiting enqueues.
 */
const LIVE_IN_FLIGHT = 512;
/**
 * The bench process's own priority once its children run (BENCH_PARENT_NICE overrides; 0, or any value not above
 * the launch value, leaves it): its collections must not take the cores from the worker and adapter it measures.
 */
const PARENT_NICE = 19;
/** This process's nice value as launched (`nice npm run bench` starts everything lower, children too). */
const LAUNCH_NICE = getPriority();
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');

export interface QueueBenchOptions {
  redis: BenchRedis;
  texts: string[];
  dtype: string;
  device: string;
  /** STEWARD_THREADS for the worker process; unset: the worker's own default (inferenceThreads). */
  threads?: number | undefined;
  /** Engine msg/s measured earlier: sizes the backlog (it must outlast the saturated phase). */
  capacityGuess: number;
  floodS: number;
  poissonS: number;
  /** Poisson arrivals at this rate instead of half the measured (live) capacity (side-by-side runs of two settings). */
  poissonRate?: number;
  /** Shorter warm-up and baseline phases (smoke test). */
  quick: boolean;
  log: (line: string) => void;
}

export interface QueueFigures {
  /** The worker alone on a pre-filled backlog (the adapter enqueues only 100 msg/s meanwhile). */
  capacity: number;
  saturated: boolean;
  flood: PhaseResult;
  /**
   * What the box sustains with the adapter enqueuing every message live (closed loop, LIVE_IN_FLIGHT unanswered), a
   * check on the load point: the Poisson phase runs at half of `capacity`, and this says what share of the box as
   * it runs that is. `liveMinWaiting`: the fewest inbound jobs seen waiting while it ran
   * (above 0: the worker never ran dry, so the figure is a capacity, not a bound of the loop).
   */
  liveCapacity: number;
  liveMinWaiting: number;
  live: PhaseResult;
  /** The adapter's loop delay over 2 s with no traffic: what the (shared) machine alone costs. */
  idle: PhaseResult;
  poisson: PhaseResult;
  poissonRate: number;
  workerRssMb: number;
  /** How the worker spent the saturated phase and the Poisson phase (batches, loop, CPU, Redis). */
  workerSaturated: PhaseUse;
  workerLive: PhaseUse;
  workerPoisson: PhaseUse;
}

type Msg = { type: string; [key: string]: unknown };

const ms = (p50: number, p99: number) => `${p50.toFixed(0)} / ${p99.toFixed(0)}`;

/**
 * The children run the compiled JavaScript, as deployed processes do (`bin/steward.js` runs dist/): built into
 * .bench-build/ by `tsc -p tsconfig.bench.json` (incremental) before they start. From source (`--import tsx`), each
 * process and each of its threads got a tsx loader thread of its own, three more V8 isolates in the worker alone,
 * whose memory-reducer collections ran in the middle of the measured phase (bench/README.md, "The children run
 * compiled"). BENCH_FROM_SOURCE=1 runs them under tsx as before.
 */
const FROM_SOURCE = process.env.BENCH_FROM_SOURCE === '1';
/**
 * Both children start with the node flags Steward's processes are shipped with (app/node-flags.ts); BENCH_NODE_FLAGS=0
 * starts them without, to compare.
 */
const SHIPPED_FLAGS = process.env.BENCH_NODE_FLAGS === '0' ? [] : NODE_FLAGS;
const BUILD = join(ROOT, '.bench-build');

let built: number | null = null;

/**
 * Compiles the children and what they load into .bench-build/, once per process (`--runs N` builds once); returns how
 * long that took, in seconds.
 */
function buildChildren(): number {
  if (built !== null) return built;
  const started = performance.now();
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.bench.json')], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(
      `building the bench's child processes failed (tsc -p tsconfig.bench.json, exit ${result.status}): ` +
        `${(result.stdout + result.stderr).trim().slice(0, 2000)}`,
    );
  }
  built = (performance.now() - started) / 1000;
  return built;
}

function spawnChild(file: string, env: Record<string, string>): ChildProcess {
  const entry = FROM_SOURCE ? join(HERE, file) : join(BUILD, 'bench', file.replace(/\.ts$/, '.js'));
  return fork(entry, [], {
    cwd: ROOT,
    execArgv: [
      ...SHIPPED_FLAGS,
      ...(FROM_SOURCE ? ['--import', 'tsx'] : []),
      ...(file === 'worker-child.ts' && process.env.BENCH_CPU_PROF_DIR
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`]
        : []),
      ...(file === 'worker-child.ts' && process.env.BENCH_TRACE_GC ? ['--trace-gc'] : []),
      ...(file === 'worker-child.ts' && process.env.BENCH_WORKER_NODE_FLAGS
        ? process.env.BENCH_WORKER_NODE_FLAGS.split(/\s+/).filter(Boolean)
        : []),
      ...(file === 'adapter-child.ts' && process.env.BENCH_ADAPTER_NODE_FLAGS
        ? process.env.BENCH_ADAPTER_NODE_FLAGS.split(/\s+/).filter(Boolean)
        : []),
    ],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function next(child: ChildProcess, type: string, timeoutMs: number): Promise<Msg> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`no "${type}" from ${child.pid} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (msg: Msg) => {
      if (msg.type === type) done(null, msg);
      else if (msg.type === 'error') done(new Error(String(msg.message)));
    };
    const onExit = (code: number | null) =>
      done(new Error(`child exited (${code}) while waiting for "${type}"`));
    function done(error: Error | null, msg?: Msg) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(msg!);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

async function phase(adapter: ChildProcess, req: Omit<PhaseRequest, 'type'>): Promise<PhaseResult> {
  adapter.send({ type: 'phase', ...req });
  return (await next(adapter, 'result', req.durationMs + req.drainMs + 60_000)) as unknown as PhaseResult;
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send({ type: 'stop' });
  const timeout = sleep(15_000).then(() => 'timeout');
  if ((await Promise.race([exited, timeout])) === 'timeout') child.kill('SIGKILL');
}

/**
 * The texts that get a sentiment tag: a line in a language the sentiment signal does not read gets none (it
 * abstains, by design), so it has no action to time and would count as never answered. 3 of the 2,000 samples are
 * such lines ("110", which has no letters, a name, and "Yeah. Hakuna Matata!" read as Estonian); they are left out
 * and counted.
 */
function taggable(texts: string[]): { texts: string[]; left: number } {
  // The signals model the worker process loads (STEWARD_MODEL_SIGNALS, read from the bench's root as it is there);
  // a hub id, or a folder that does not list languages, reads English only.
  const file = join(resolve(ROOT, loadConfig().models.signals), 'config.json');
  const config = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const read = new Set<string>(config.steward?.languages?.sentiment ?? ['en']);
  const kept = texts.filter((t) => read.has(detectLanguage(t)));
  return { texts: kept, left: texts.length - kept.length };
}

export async function runQueueBench(o: QueueBenchOptions): Promise<QueueFigures> {
  const { url, prefix } = o.redis;
  // Children inherit the forking thread's nice value: an earlier run that could not undo its renice would start
  // this run's worker and adapter at low priority too, behind Redis, and measure something else.
  if (getPriority() !== LAUNCH_NICE) {
    throw new Error(
      `the bench process runs at nice ${getPriority()}, not the ${LAUNCH_NICE} it started at; its worker and adapter would inherit it (an earlier run could not undo its renice without the privilege to raise a priority: run one per process, or set BENCH_PARENT_NICE=0)`,
    );
  }
  await loadLanguageDetector();
  const { texts, left } = taggable(o.texts);
  if (left > 0)
    o.log(`  ${left} of ${o.texts.length} sample lines left out: their language gets no sentiment tag`);
  const workspaceId = 'bench';
  // Every message gets a sentiment tag (so each one has an observable outbound action); flagged ones also alert.
  const store = new RedisStore({ url, prefix });
  await store.start();
  await store.updateSettings('discord', workspaceId, (s) => ({
    ...s,
    sentimentTags: 'all',
    moderationChannelId: 'mods',
  }));
  await store.stop();

  let worker: ChildProcess | undefined;
  let adapter: ChildProcess | undefined;
  const redisClient = new Redis(url, { maxRetriesPerRequest: 1 });
  redisClient.on('error', () => {});
  try {
    if (!FROM_SOURCE && built === null)
      o.log(
        `  child processes compiled into .bench-build/ in ${buildChildren().toFixed(1)} s (BENCH_FROM_SOURCE=1: tsx)`,
      );
    const t0 = performance.now();
    worker = spawnChild('worker-child.ts', {
      REDIS_URL: url,
      STEWARD_PREFIX: prefix,
      STEWARD_MODEL_DTYPE: o.dtype,
      STEWARD_DEVICE: o.device,
      ...(o.threads !== undefined ? { STEWARD_THREADS: String(o.threads) } : {}),
      LOG_LEVEL: 'warn',
    });
    await next(worker, 'ready', 240_000);
    o.log(`  worker process ${worker.pid} ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const init: AdapterInit = { redisUrl: url, prefix, workspaceId, texts };
    adapter = spawnChild('adapter-child.ts', {});
    adapter.send({ type: 'init', ...init });
    await next(adapter, 'ready', 60_000);
    // From here this process only orchestrates and waits; the children are what is measured (see reniceOwnThreads).
    const parentNice = Number(process.env.BENCH_PARENT_NICE ?? PARENT_NICE);
    const reniced = parentNice <= LAUNCH_NICE ? 0 : reniceOwnThreads(parentNice);
    if (reniced > 0) o.log(`  the bench's own ${reniced} threads at nice ${parentNice} (BENCH_PARENT_NICE)`);

    const warm = await phase(adapter, {
      name: 'warm-up',
      rate: Math.min(50, o.capacityGuess / 4),
      durationMs: o.quick ? 2000 : 3000,
      warmupMs: 0,
      drainMs: 20_000,
      seed: 1,
    });
    o.log(`  warm-up: ${warm.received}/${warm.sent} actions, p50 ${warm.p50Ms.toFixed(1)} ms`);
    const idle = await phase(adapter, {
      name: 'idle',
      rate: 0,
      durationMs: o.quick ? 1000 : 2000,
      warmupMs: 0,
      drainMs: 0,
      seed: 0,
    });
    o.log(
      `  adapter loop lag with the worker idle (machine baseline): p99 ${idle.loopLagP99Ms.toFixed(1)} ms`,
    );
    const snap = () => snapshot(worker!, redisClient, next);
    const warmed = await snap();
    const workerRssMb = warmed.rss / 2 ** 20;

    const backlog = Math.min(60_000, Math.ceil(2 * o.capacityGuess * (o.floodS + 3)));
    const filled = await prefill(url, prefix, workspaceId, texts, backlog);
    const satStart = await snap();
    // Both flat-out phases: the flood's length after a ramp that is not counted.
    const flat = { durationMs: o.floodS * 1000 + SATURATED_RAMP_MS, warmupMs: SATURATED_RAMP_MS, drainMs: 0 };
    // A busy community's message rate; the adapter's own work stays small so its loop delay shows blocking.
    const adapterRate = Math.min(ADAPTER_RATE, o.capacityGuess / 2);
    const flood = await phase(adapter, { name: 'saturated', rate: adapterRate, seed: 2, ...flat });
    const satUse = phaseUse(satStart, await snap());
    const left = await discardBacklog(url, prefix);
    const saturated = left > 0;
    const capacity = flood.pipelinePerS;
    o.log(
      `  saturated: ${backlog} pre-filled (${filled.toFixed(0)}/s), worker answered ${capacity.toFixed(0)} msg/s for ${o.floodS} s` +
        ` (${saturated ? `${left} left waiting: saturated` : 'backlog ran out: capacity is a lower bound'});` +
        ` adapter at ${adapterRate.toFixed(0)}/s: loop lag p99 ${flood.loopLagP99Ms.toFixed(1)} ms,` +
        ` max ${flood.loopLagMaxMs.toFixed(1)} ms, enqueue ${flood.enqueueMeanMs.toFixed(2)} ms`,
    );

    // The box's capacity as it runs: the adapter enqueues every message live (its CPU and Redis's share the two
    // cores with the worker, as in the Poisson phase), closed loop, so the enqueue rate is what the box answers.
    const waits: number[] = [];
    const counter = inboundQueue(url, prefix);
    let sampling = true;
    const sampler = (async () => {
      await sleep(SATURATED_RAMP_MS);
      while (sampling) {
        waits.push((await counter.getJobCounts('waiting')).waiting ?? 0);
        await sleep(250);
      }
    })();
    const liveStart = await snap();
    const live = await phase(adapter, {
      name: 'live capacity',
      rate: 1, // unused: the loop sends on each answer
      inFlight: LIVE_IN_FLIGHT,
      seed: 4,
      ...flat,
    });
    const liveUse = phaseUse(liveStart, await snap());
    sampling = false;
    await sampler;
    await counter.close();
    await discardBacklog(url, prefix);
    const liveCapacity = live.pipelinePerS;
    const liveMinWaiting = waits.length > 0 ? Math.min(...waits) : 0;
    o.log(
      `  live capacity: the adapter enqueuing every message (${LIVE_IN_FLIGHT} unanswered), ${liveCapacity.toFixed(0)} msg/s for ${o.floodS} s` +
        ` (${((100 * liveCapacity) / capacity).toFixed(0)} % of the worker alone; inbound jobs waiting ${liveMinWaiting}–${Math.max(0, ...waits)}:` +
        ` ${liveMinWaiting > 0 ? 'the worker never ran dry' : 'the worker ran dry at times, so this is a lower bound'});` +
        ` adapter CPU ${live.cpuMsPerMsg.toFixed(2)} ms/msg (${live.cpuCores.toFixed(2)} cores)`,
    );
    const beforePoisson = await snap();

    // The load point stays half the worker-alone capacity (as in every earlier run of this bench); the live figure
    // shows what that point is of the box as it runs.
    const poissonRate = o.poissonRate ?? Math.max(1, capacity * 0.5);
    const poisson = await phase(adapter, {
      name: 'poisson',
      rate: poissonRate,
      durationMs: o.poissonS * 1000,
      warmupMs: Math.min(3000, o.poissonS * 200),
      drainMs: 5000,
      seed: 3,
      breakdown: true,
    });
    o.log(
      `  Poisson @ ${poissonRate.toFixed(0)}/s (${((100 * poissonRate) / capacity).toFixed(0)} % of the worker alone, ${((100 * poissonRate) / liveCapacity).toFixed(0)} % of the live capacity) for ${o.poissonS} s: ${poisson.received}/${poisson.sent} actions,` +
        ` p50 ${poisson.p50Ms.toFixed(1)} ms, p90 ${poisson.p90Ms.toFixed(1)} ms, p99 ${poisson.p99Ms.toFixed(1)} ms;` +
        ` adapter loop lag p99 ${poisson.loopLagP99Ms.toFixed(1)} ms, adapter CPU ${poisson.cpuMsPerMsg.toFixed(2)} ms/msg (${poisson.cpuCores.toFixed(2)} cores` +
        (poisson.mainWaitingForCpu === null
          ? ''
          : `; its main thread on a CPU ${(100 * poisson.mainOnCpu!).toFixed(0)} %, waiting for one ${(100 * poisson.mainWaitingForCpu).toFixed(0)} %`) +
        '),' +
        ` enqueue ${poisson.enqueueMeanMs.toFixed(2)} ms`,
    );
    const end = await snap();
    const poissonUse = phaseUse(beforePoisson, end);
    const b = poisson.breakdown;
    if (b) {
      o.log(
        `  Poisson latency by stage (BullMQ timestamps, ${b.samples} jobs, p50 / p99 ms): queue wait ${ms(b.queue_wait_p50_ms, b.queue_wait_p99_ms)},` +
          ` worker to action ${ms(b.to_action_p50_ms, b.to_action_p99_ms)}, outbound wait ${ms(b.outbound_wait_p50_ms, b.outbound_wait_p99_ms)},` +
          ` delivery ${ms(b.delivery_p50_ms, b.delivery_p99_ms)}; off the path: worker after the action ${ms(b.after_action_p50_ms, b.after_action_p99_ms)}`,
      );
    }
    o.log(`  worker while saturated: ${describeUse(satUse)}`);
    o.log(`  worker at the live capacity: ${describeUse(liveUse)}`);
    o.log(`  worker at 50 % load: ${describeUse(poissonUse)}`);
    o.log(
      `  worker RSS ${workerRssMb.toFixed(0)} MB after warm-up, largest batch ${end.counters.largestBatch}`,
    );
    return {
      capacity,
      saturated,
      flood,
      liveCapacity,
      liveMinWaiting,
      live,
      idle,
      poisson,
      poissonRate,
      workerRssMb,
      workerSaturated: satUse,
      workerLive: liveUse,
      workerPoisson: poissonUse,
    };
  } finally {
    await Promise.all([stopChild(adapter), stopChild(worker)]);
    redisClient.disconnect();
    // Back to the launch value for whatever this process forks next (a second run); raising a priority needs
    // privilege, and without it the check at the top of the next run says so.
    if (getPriority() !== LAUNCH_NICE) reniceOwnThreads(LAUNCH_NICE);
  }
}
