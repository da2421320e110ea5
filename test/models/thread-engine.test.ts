import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, LifecycleError, StewardError } from '../../src/errors.ts';
import {
  createLocalEngine,
  createThreadEngine,
  ModelLoadError,
  type ThreadEngine,
} from '../../models/runtime/index.ts';
import { captureLogger, hasModel, testConfig } from '../../models/runtime/testing.ts';

const SAMPLE = [
  'thanks everyone, this server is great',
  'you are an idiot',
  'when is the next meetup?',
  '我爱北京天安门。',
  '',
];

describe('thread engine lifecycle without models', () => {
  it('GIVEN a missing model folder THEN start rejects with a ModelLoadError rebuilt from the thread', async () => {
    const { logger } = captureLogger();
    const engine = createThreadEngine(testConfig({ signals: '/nonexistent/steward/signals' }), logger);
    const error = await engine.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelLoadError);
    expect(error).toBeInstanceOf(StewardError);
    expect((error as StewardError).code).toBe(ErrorCode.ModelLoad);
    expect((error as Error).message).toContain('STEWARD_MODEL_SIGNALS');
    // The failed start terminated its thread and left the engine startable; calls are lifecycle errors.
    await expect(engine.signals(['x'])).rejects.toBeInstanceOf(LifecycleError);
    await expect(engine.stop()).rejects.toBeInstanceOf(LifecycleError);
  });
});

describe.skipIf(!hasModel('signals'))('thread engine with the bundled signals model', () => {
  const threads: Worker[] = [];
  const captured = captureLogger('info');
  let engine: ThreadEngine;

  beforeAll(async () => {
    engine = createThreadEngine(testConfig({ threads: 1 }), captured.logger, {
      reply: false,
      onThread: (worker) => threads.push(worker),
    });
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('GIVEN start twice THEN LifecycleError; defaults() and info() answer synchronously', async () => {
    await expect(engine.start()).rejects.toBeInstanceOf(LifecycleError);
    expect(engine.defaults().labels.length).toBeGreaterThan(0);
    expect(engine.info()[0]).toMatchObject({ role: 'signals', device: 'cpu' });
    // The thread's log lines come out of the process logger, marked with their origin.
    expect(captured.records.some((r) => r.msg === 'models loaded' && r.thread === 'inference')).toBe(true);
  });

  it('returns the same signals as the in-process engine, with Float32Array embeddings', async () => {
    const local = createLocalEngine(testConfig({ threads: 2 }), captureLogger().logger, { reply: false });
    await local.start();
    const [viaThread, inProcess] = await Promise.all([engine.signals(SAMPLE), local.signals(SAMPLE)]);
    await local.stop();
    viaThread.forEach((s, i) => {
      expect(s.embedding).toBeInstanceOf(Float32Array);
      expect(Array.from(s.embedding)).toEqual(Array.from(inProcess[i]!.embedding));
      expect(s.sentiment).toEqual(inProcess[i]!.sentiment);
      expect(s.moderation).toEqual(inProcess[i]!.moderation);
      expect(s.attributions).toEqual(inProcess[i]!.attributions);
    });
    const vectors = await engine.embed(SAMPLE);
    expect(vectors.every((v) => v instanceof Float32Array)).toBe(true);
  });

  it('GIVEN the thread started without a reply model WHEN reply() is called THEN the LifecycleError crosses over', async () => {
    await expect(engine.reply([{ text: 'hi', context: [] }])).rejects.toMatchObject({
      code: ErrorCode.Lifecycle,
      message: expect.stringContaining('without the reply model'),
    });
  });

  it('keeps the main event loop responsive while a large batch runs in the thread', async () => {
    const texts = Array.from({ length: 768 }, (_, i) =>
      `${SAMPLE[i % SAMPLE.length]} message number ${i} `.repeat(1 + (i % 7)),
    );
    // What the OS scheduler alone costs on this machine right now (a busy CI box delays timers too).
    const idle = monitorEventLoopDelay({ resolution: 5 });
    idle.enable();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    idle.disable();
    const busy = monitorEventLoopDelay({ resolution: 5 });
    busy.enable();
    // Batches until half a second of inference was watched, however fast this machine is (a fast one finishes a
    // batch sooner; requiring one batch to be slow would fail there for the wrong reason).
    const started = performance.now();
    let elapsed = 0;
    let batches = 0;
    do {
      const results = await engine.signals(texts);
      expect(results).toHaveLength(texts.length);
      batches += 1;
      elapsed = performance.now() - started;
    } while (elapsed < 500);
    busy.disable();
    const [p99, idleP99] = [busy.percentile(99) / 1e6, idle.percentile(99) / 1e6];
    // Were the batches on this thread, the loop would stall for whole encoder runs.
    expect(
      p99,
      `p99 ${p99.toFixed(1)} ms (idle ${idleP99.toFixed(1)} ms) over ${batches} batches, ${elapsed.toFixed(0)} ms`,
    ).toBeLessThan(50 + idleP99);
  });

  it('GIVEN the thread dies mid-call THEN that call fails with a clear error and the next call restarts it', async () => {
    const before = threads.length;
    const texts = Array.from({ length: 256 }, (_, i) => `a message to keep the thread busy ${i}`.repeat(4));
    const inFlight = engine.signals(texts);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await threads.at(-1)!.terminate();
    await expect(inFlight).rejects.toMatchObject({
      code: ErrorCode.ModelRun,
      message: expect.stringContaining('inference thread'),
    });
    expect(captured.records.some((r) => r.level === 50 && /inference thread died/.test(String(r.msg)))).toBe(
      true,
    );
    const [again] = await engine.signals(['back again']);
    expect(again!.embedding.length).toBeGreaterThan(0);
    expect(threads.length).toBe(before + 1);
  });
});

describe.skipIf(!hasModel('signals'))('thread engine shutdown', () => {
  it('GIVEN a call in flight WHEN stop() runs THEN the call finishes first and then the thread is gone', async () => {
    const threads: Worker[] = [];
    const engine = createThreadEngine(testConfig({ threads: 1 }), captureLogger().logger, {
      reply: false,
      onThread: (worker) => threads.push(worker),
      tuning: { bucketSize: 4 },
    });
    await engine.start();
    const exited = new Promise((resolve) => threads[0]!.once('exit', resolve));
    const call = engine.signals(Array.from({ length: 64 }, (_, i) => `text ${i}`));
    await engine.stop();
    await exited;
    // Many buckets, so stop() arrived mid-call: the in-flight work still completes on live sessions.
    expect(await call).toHaveLength(64);
    await expect(engine.signals(['x'])).rejects.toBeInstanceOf(LifecycleError);
  });
});

describe.skipIf(!hasModel('signals') || !hasModel('reply'))('thread engine replies', () => {
  it('generates a batch of replies in the thread, in order, with the same seeded result as in-process', async () => {
    const requests = [
      { text: 'Do you like Star Wars?', context: [] },
      { text: 'what are you up to this weekend?', context: [] },
      { text: 'I finally fixed my bike', context: [] },
    ];
    const engine = createThreadEngine(testConfig({ threads: 1 }), captureLogger().logger);
    await engine.start();
    const replies = await engine.reply(requests);
    const again = await engine.reply(requests);
    await engine.stop();
    expect(replies).toHaveLength(3);
    expect(replies.every((r) => typeof r === 'string' && r.length > 0)).toBe(true);
    expect(again).toEqual(replies);
  });
});

/** Niceness of each thread of this process, from /proc (Linux). */
function threadNiceness(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3; nice is field 19.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

describe.skipIf(!hasModel('signals') || process.platform !== 'linux')(
  'thread engine priority (models.threadNice)',
  () => {
    it("GIVEN a threadNice above the process's THEN the inference thread and its onnxruntime pool run at it, the main thread as before", async (ctx) => {
      const processNice = getPriority();
      // Above the process's own niceness (the suite may itself run under `nice`): the engine never raises priority.
      const target = Math.max(7, processNice + 3);
      if (target > 19) ctx.skip();
      const before = threadNiceness().filter((n) => n === target).length;
      const engine = createThreadEngine(
        testConfig({ threads: 2, threadNice: target }),
        captureLogger().logger,
        {
          reply: false,
        },
      );
      await engine.start();
      try {
        // The thread itself and the intra-op pool's extra thread (threads: 2) at least.
        expect(threadNiceness().filter((n) => n === target).length - before).toBeGreaterThanOrEqual(2);
        expect(getPriority()).toBe(processNice);
        const [signals] = await engine.signals(['still answers at a lower priority']);
        expect(signals?.embedding.length).toBeGreaterThan(0);
      } finally {
        await engine.stop();
      }
    });
  },
);
