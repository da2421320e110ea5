/**
 * An adapter-like process for the bench: it enqueues inbound messages through the real BullMQ driver on an
 * arrival schedule, consumes the outbound queue as an adapter would (posting nothing), and measures
 * enqueue → first outbound action per message plus its own event-loop delay. It never loads a model.
 * Driven over IPC by bench/latency.ts.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { BullMQDriver } from '../queue/bullmq.ts';
import { type InboundMessageInput, inboundJobId } from '../src/domain/message.ts';
import { type Breakdown, breakdown, type Received, type Stages, stagesOf } from './breakdown.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { threadSched } from './probe.ts';
import { percentile, poissonGapMs, seededRandom, sleep } from './stats.ts';

export interface PhaseRequest {
  type: 'phase';
  name: string;
  /** Mean arrivals per second (Poisson gaps). */
  rate: number;
  /**
   * Closed loop instead of arrivals at `rate`: keep this many of the phase's own messages unanswered, sending the
   * next one as each first action arrives (what the whole box sustains with this process enqueuing live).
   */
  inFlight?: number;
  durationMs: number;
  /** Latencies of messages sent in the first `warmupMs` are left out of the percentiles. */
  warmupMs: number;
  /** After the last send, wait this long at most for outstanding actions. */
  drainMs: number;
  seed: number;
  /** Also split the measured messages' latency by BullMQ job timestamps. */
  breakdown?: boolean;
}

export interface PhaseResult {
  type: 'result';
  name: string;
  sent: number;
  received: number;
  /** This phase's own messages answered per second while sending. */
  receivedPerS: number;
  /** Messages (anyone's, e.g. a pre-filled backlog) whose first action arrived, per second, after the warm-up. */
  pipelinePerS: number;
  sentPerS: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  loopLagP50Ms: number;
  loopLagP99Ms: number;
  loopLagMaxMs: number;
  /** Mean time inside enqueueInbound (adapter-side cost of one message). */
  enqueueMeanMs: number;
  /** This process's CPU (all threads) over the phase, per message it sent; and as a share of one core. */
  cpuMsPerMsg: number;
  cpuCores: number;
  /** Shares of the sending time this process's main thread was on a CPU and runnable but waiting for one (Linux
   * schedstat; null elsewhere). */
  mainOnCpu: number | null;
  mainWaitingForCpu: number | null;
  breakdown?: Breakdown;
  /** The 20 slowest measured messages: sent this many seconds after the phase began (wall clock `startedAt`); ms is
   * null (Infinity over IPC) for one never answered. */
  slowest: Array<{ atS: number; ms: number | null; stages?: Stages }>;
  startedAt: number;
}

export interface AdapterInit {
  redisUrl: string;
  prefix: string;
  workspaceId: string;
  texts: string[];
}

// The texts are too large for an env variable (E2BIG), so the setup arrives as the first IPC message.
const init = await new Promise<AdapterInit>((resolve) => {
  const onInit = (msg: { type: string } & AdapterInit) => {
    if (msg.type !== 'init') return;
    process.off('message', onInit);
    resolve(msg);
  };
  process.on('message', onInit);
});
const logger = createLogger({ level: 'warn' });
// As `steward bot` builds it (config.redis.leanFetching from STEWARD_BULLMQ_LEAN_FETCHING); the worker process reads
// the same variable through its config.
const { leanFetching } = loadConfig({
  env: { STEWARD_BULLMQ_LEAN_FETCHING: process.env.STEWARD_BULLMQ_LEAN_FETCHING },
}).redis;
const driver = new BullMQDriver({ url: init.redisUrl, prefix: init.prefix, logger, leanFetching });
const sentAt = new Map<string, number>();
/** Wall clock (Date.now) when each own message's first action arrived, to compare with BullMQ's timestamps. */
const receivedAt = new Map<string, Received>();
const channelOf = (seq: number) => `c${seq % 7}`;
const latencies = new Map<string, number>();
/** Messages whose first outbound action has arrived, whoever enqueued them. */
let answered = 0;
const seen = new Set<string>();
let seq = 0;
/** The closed-loop phase's hook: called with each message id whose first action arrived. */
let onAnswer: ((id: string) => void) | undefined;

function message(text: string): InboundMessageInput {
  seq += 1;
  return {
    platform: 'discord',
    workspaceId: init.workspaceId,
    channelId: channelOf(seq),
    messageId: `m${seq}`,
    author: { id: `u${seq % 97}`, name: `user${seq % 97}` },
    text,
    mentionsBot: false,
    timestamp: Date.now(),
  };
}

async function runPhase(req: PhaseRequest): Promise<PhaseResult> {
  const random = seededRandom(req.seed);
  const lag = monitorEventLoopDelay({ resolution: 5 });
  const ids: string[] = [];
  const measured = new Set<string>();
  let enqueueMs = 0;
  const inflight = new Set<Promise<void>>();
  const receivedBefore = latencies.size;
  lag.enable();
  const cpuBefore = process.cpuUsage();
  const schedBefore = threadSched(process.pid);
  const start = performance.now();
  // Pipeline throughput counts from the end of the warm-up, once the worker has ramped up.
  let warm = { at: start, answered };
  const warmTimer = setTimeout(() => {
    warm = { at: performance.now(), answered };
  }, req.warmupMs);
  /** Enqueues the next sample line; returns its message id. */
  const send = (): string => {
    const msg = message(init.texts[seq % init.texts.length]!);
    const t0 = performance.now();
    sentAt.set(msg.messageId, t0);
    ids.push(msg.messageId);
    if (t0 - start >= req.warmupMs) measured.add(msg.messageId);
    const p = driver.enqueueInbound(msg).then(
      () => {
        enqueueMs += performance.now() - t0;
      },
      (error: unknown) => logger.error({ err: error }, 'enqueue failed'),
    );
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    return msg.messageId;
  };
  if (req.inFlight !== undefined) {
    // Closed loop: each first action of one of this phase's messages sends the next, until the phase ends.
    const own = new Set<string>();
    const sendOwn = () => own.add(send());
    onAnswer = (id) => {
      if (own.delete(id) && performance.now() - start < req.durationMs) sendOwn();
    };
    for (let i = 0; i < req.inFlight; i++) sendOwn();
    await sleep(req.durationMs);
    onAnswer = undefined;
  }
  // Rate 0: send nothing and only watch the loop (a baseline of what the machine alone costs).
  let next = req.rate > 0 && req.inFlight === undefined ? start : Number.POSITIVE_INFINITY;
  if (req.rate <= 0 && req.inFlight === undefined) await sleep(req.durationMs);
  while (next - start < req.durationMs) {
    const wait = next - performance.now();
    // Sleep even for the last millisecond (a timer fires ≥ 1 ms later; the sends that fell due meanwhile go out
    // together below). This loop used to spin on performance.now() for waits under 1 ms: it blocked the process's
    // event loop, and with it the outbound consumer, and took 16 % of the adapter's CPU in a profile of the Poisson phase.
    if (wait > 0) await sleep(wait);
    // Send every arrival that is due (timers are coarse; Poisson bursts come out as several sends at once).
    while (next <= performance.now() && next - start < req.durationMs) {
      send();
      next += poissonGapMs(req.rate, random);
    }
  }
  const sendEnd = performance.now();
  const cpu = process.cpuUsage(cpuBefore);
  const schedAfter = threadSched(process.pid);
  const schedShare = (i: 0 | 1) =>
    schedBefore && schedAfter
      ? (schedAfter[i] - schedBefore[i]) / 1e6 / Math.max(1e-3, sendEnd - start)
      : null;
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const receivedWhileSending = latencies.size - receivedBefore;
  const pipelinePerS = (answered - warm.answered) / Math.max(1e-3, (sendEnd - warm.at) / 1000);
  clearTimeout(warmTimer);
  await Promise.all(inflight);
  lag.disable();
  const drainUntil = performance.now() + req.drainMs;
  while (performance.now() < drainUntil && ids.some((id) => !latencies.has(id))) await sleep(50);
  const values = [...measured].map((id) => latencies.get(id) ?? Number.POSITIVE_INFINITY);
  const seconds = (sendEnd - start) / 1000;
  const ns = (v: number) => v / 1e6;
  return {
    type: 'result',
    name: req.name,
    sent: ids.length,
    received: ids.filter((id) => latencies.has(id)).length,
    receivedPerS: receivedWhileSending / seconds,
    pipelinePerS,
    sentPerS: ids.length / seconds,
    p50Ms: percentile(values, 50),
    p90Ms: percentile(values, 90),
    p99Ms: percentile(values, 99),
    maxMs: Math.max(...values),
    loopLagP50Ms: ns(lag.percentile(50)),
    loopLagP99Ms: ns(lag.percentile(99)),
    loopLagMaxMs: ns(lag.max),
    enqueueMeanMs: enqueueMs / Math.max(1, ids.length),
    cpuMsPerMsg: cpuMs / Math.max(1, ids.length),
    cpuCores: cpuMs / Math.max(1, sendEnd - start),
    mainOnCpu: schedShare(0),
    mainWaitingForCpu: schedShare(1),
    slowest: await slowest(measured, start),
    startedAt: Date.now() - (performance.now() - start),
    ...(req.breakdown
      ? { breakdown: await breakdown(init.redisUrl, init.prefix, receivedWall(measured)) }
      : {}),
  };
}

async function main(): Promise<void> {
  await driver.start();
  await driver.consumeOutbound(
    'discord',
    async (action) => {
      const id = action.target.messageId;
      if (!seen.has(id)) {
        seen.add(id);
        answered += 1;
        onAnswer?.(id);
      }
      const t0 = sentAt.get(id);
      if (t0 !== undefined && !latencies.has(id)) {
        latencies.set(id, performance.now() - t0);
        receivedAt.set(id, { at: Date.now(), actionKey: action.key });
      }
    },
    { concurrency: 256 },
  );
  process.on('message', (req: PhaseRequest | { type: 'stop' }) => {
    if (req.type !== 'phase' && req.type !== 'stop') return;
    if (req.type === 'stop') {
      void driver.stop().finally(() => process.exit(0));
      return;
    }
    void runPhase(req).then(
      (result) => process.send?.(result),
      (error: unknown) => process.send?.({ type: 'error', message: String(error) }),
    );
  });
  process.send?.({ type: 'ready' });
}

void main().catch((error: unknown) => {
  process.send?.({ type: 'error', message: String(error) });
  process.exit(1);
});

/** The 20 slowest of `ids`, with their stages where the jobs tell them. */
async function slowest(ids: Set<string>, start: number): Promise<PhaseResult['slowest']> {
  const worst = [...ids]
    .map((id) => ({
      id,
      atS: (sentAt.get(id)! - start) / 1000,
      ms: latencies.get(id) ?? Number.POSITIVE_INFINITY,
    }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 20);
  const received = receivedWall(new Set(worst.map((w) => w.id)));
  const stages = await stagesOf(init.redisUrl, init.prefix, received);
  return worst.map(({ id, atS, ms }) => {
    const s = stages.get(inboundJobId(benchRef(id)));
    return { atS, ms, ...(s ? { stages: s } : {}) };
  });
}

/** Inbound job id → action arrival time, for the measured messages of a phase. */
function receivedWall(ids: Set<string>): Map<string, Received> {
  const out = new Map<string, Received>();
  for (const id of ids) {
    const at = receivedAt.get(id);
    if (at !== undefined) out.set(inboundJobId(benchRef(id)), at);
  }
  return out;
}

/** The message ref of one of this process's messages, from its id (the channel follows from the sequence number). */
function benchRef(messageId: string) {
  return {
    platform: 'discord' as const,
    workspaceId: init.workspaceId,
    channelId: channelOf(Number(messageId.slice(1))),
    messageId,
  };
}
