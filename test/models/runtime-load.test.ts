import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { env } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, LifecycleError, StewardError } from '../../src/errors.ts';
import { createLocalEngine } from '../../models/runtime/index.ts';
import { resolveSource } from '../../models/runtime/settings.ts';
import { captureLogger, hasModel, modelFolder, testConfig } from '../../models/runtime/testing.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'steward-runtime-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function loadError(promise: Promise<unknown>): Promise<StewardError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StewardError);
  return error as StewardError;
}

describe('model sources', () => {
  it('GIVEN a signals path that is not a folder WHEN starting THEN a ModelLoad error names STEWARD_MODEL_SIGNALS', async () => {
    const engine = createLocalEngine(
      testConfig({ signals: path.join(scratch, 'nope') }),
      captureLogger().logger,
    );
    const error = await loadError(engine.start());
    expect(error.code).toBe(ErrorCode.ModelLoad);
    expect(error.message).toContain('STEWARD_MODEL_SIGNALS');
    expect(error.message).toContain('STEWARD_ALLOW_REMOTE_MODELS');
  });

  it('GIVEN a missing reply folder WHEN starting THEN the error names STEWARD_MODEL_REPLY before anything loads', async () => {
    const engine = createLocalEngine(
      testConfig({ reply: path.join(scratch, 'missing-reply') }),
      captureLogger().logger,
    );
    const error = await loadError(engine.start());
    expect(error.code).toBe(ErrorCode.ModelLoad);
    expect(error.message).toContain('STEWARD_MODEL_REPLY');
  });

  it('GIVEN a folder without config.json THEN it is rejected as not a model folder', () => {
    const empty = path.join(scratch, 'empty');
    mkdirSync(empty);
    expect(() => resolveSource('sentiment', empty, false)).toThrow(
      /STEWARD_MODEL_SENTIMENT.*no config\.json/,
    );
  });

  it('GIVEN remote models allowed WHEN the value is not a folder THEN it is taken as a hub id', () => {
    expect(resolveSource('moderation', 'org/toxic-model', true)).toEqual({
      role: 'moderation',
      location: 'org/toxic-model',
      local: false,
    });
  });
});

describe('lifecycle', () => {
  it('calls before start, stop before start, and start after a failed start are clear errors or retries', async () => {
    const engine = createLocalEngine(
      testConfig({ signals: path.join(scratch, 'nope') }),
      captureLogger().logger,
    );
    await expect(engine.signals(['x'])).rejects.toBeInstanceOf(LifecycleError);
    expect(() => engine.defaults()).toThrow(LifecycleError);
    await expect(engine.stop()).rejects.toBeInstanceOf(LifecycleError);
    await expect(engine.start()).rejects.toMatchObject({ code: ErrorCode.ModelLoad });
    // A failed start leaves the engine startable again (the operator fixes the setting and retries).
    await expect(engine.start()).rejects.toMatchObject({ code: ErrorCode.ModelLoad });
  });
});

describe.skipIf(!hasModel('signals'))('loading the bundled signals model', () => {
  it('GIVEN start twice THEN LifecycleError; stop is idempotent', async () => {
    const engine = createLocalEngine(testConfig(), captureLogger().logger, { reply: false });
    await engine.start();
    // Remote loading stays off unless STEWARD_ALLOW_REMOTE_MODELS says otherwise.
    expect(env.allowRemoteModels).toBe(false);
    expect(env.allowLocalModels).toBe(true);
    await expect(engine.start()).rejects.toBeInstanceOf(LifecycleError);
    const first = engine.stop();
    expect(engine.stop()).toBe(first);
    await first;
    await expect(engine.signals(['x'])).rejects.toBeInstanceOf(LifecycleError);
  });

  it('GIVEN stop() while start() is loading THEN it waits for the start and then stops', async () => {
    const engine = createLocalEngine(testConfig(), captureLogger().logger, { reply: false });
    const starting = engine.start();
    const stopping = engine.stop();
    await starting;
    await stopping;
    await expect(engine.signals(['x'])).rejects.toBeInstanceOf(LifecycleError);
    await expect(engine.start()).rejects.toBeInstanceOf(LifecycleError);
  });

  it('GIVEN q8 wanted but only model.onnx present THEN fp32 loads with one warning', async () => {
    // A folder of links to the real files, minus the quantized graph.
    const folder = path.join(scratch, 'fp32-only');
    mkdirSync(path.join(folder, 'onnx'), { recursive: true });
    const source = modelFolder('signals');
    for (const file of readdirSync(source))
      if (file !== 'onnx') symlinkSync(path.join(source, file), path.join(folder, file));
    symlinkSync(path.join(source, 'onnx', 'model.onnx'), path.join(folder, 'onnx', 'model.onnx'));
    const { logger, records } = captureLogger();
    const engine = createLocalEngine(testConfig({ signals: folder, dtype: 'q8' }), logger, { reply: false });
    await engine.start();
    expect(engine.info()[0]).toMatchObject({ role: 'signals', dtype: 'fp32', device: 'cpu' });
    expect(records.filter((r) => r.level === 40 && /dtype/.test(String(r.msg)))).toHaveLength(1);
    await engine.stop();
  });

  it('GIVEN device cuda on a machine without the CUDA provider THEN it runs on cpu after ONE warning', async () => {
    const { logger, records } = captureLogger();
    const engine = createLocalEngine(testConfig({ device: 'cuda' }), logger, { reply: false });
    await engine.start();
    const info = engine.info();
    if (info[0]!.device === 'cuda') {
      // A real GPU machine: nothing to fall back from.
      await engine.stop();
      return;
    }
    expect(info.every((m) => m.device === 'cpu')).toBe(true);
    expect(records.filter((r) => r.level === 40 && /CUDA/.test(String(r.msg)))).toHaveLength(1);
    const [signals] = await engine.signals(['still works on cpu']);
    expect(signals!.embedding.length).toBeGreaterThan(0);
    await engine.stop();
  });

  it('GIVEN models.threads THEN onnxruntime sizes its intra-op pool by it (OS threads grow with the setting)', async () => {
    // ORT's intra-op pool has threads-1 workers per session (the caller is the last one); count OS threads.
    const threadsNow = () => readdirSync('/proc/self/task').length;
    const grow = async (threads: number) => {
      const before = threadsNow();
      const engine = createLocalEngine(testConfig({ threads }), captureLogger().logger, { reply: false });
      await engine.start();
      await engine.signals(['warm the pool']);
      const added = threadsNow() - before;
      await engine.stop();
      return added;
    };
    const one = await grow(1);
    const four = await grow(4);
    expect(four - one).toBeGreaterThanOrEqual(3);
  });
});

describe('model config problems', () => {
  it('GIVEN a config.json without a steward block THEN the error says it is not a Steward signals model', async () => {
    if (!hasModel('signals')) return;
    const folder = path.join(scratch, 'foreign');
    mkdirSync(folder);
    const source = modelFolder('signals');
    for (const file of readdirSync(source)) {
      if (file !== 'config.json') symlinkSync(path.join(source, file), path.join(folder, file));
    }
    writeFileSync(path.join(folder, 'config.json'), JSON.stringify({ model_type: 'bert' }));
    const engine = createLocalEngine(testConfig({ signals: folder }), captureLogger().logger, {
      reply: false,
    });
    const error = await loadError(engine.start());
    expect(error.code).toBe(ErrorCode.ModelLoad);
    expect(error.message).toMatch(/STEWARD_MODEL_SIGNALS.*not a Steward signals model/);
  });
});
