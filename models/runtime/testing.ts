/** Helpers shared by the runtime's tests (test/models/runtime*.test.ts, thread-engine*.test.ts); not used at run time. */
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../src/logger.ts';
import { configureTransformersEnv, DeviceChoice } from './load.ts';
import { createLocalEngine, type LocalEngine } from './local-engine.ts';
import { ReplyModel } from './reply.ts';
import { resolveSource, type RuntimeConfig } from './settings.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** The bundled model folder of a role; STEWARD_TEST_MODEL_<ROLE> points tests at another export (e.g. a smoke run). */
export function modelFolder(role: 'signals' | 'reply' | 'answer' | 'embed'): string {
  const override = process.env[`STEWARD_TEST_MODEL_${role.toUpperCase()}`];
  return override ? path.resolve(override) : path.join(ROOT, 'models', 'bundled', role);
}

/** Whether the role's folder holds an exported model yet (the models are trained separately). */
export function hasModel(role: 'signals' | 'reply' | 'answer' | 'embed'): boolean {
  const folder = modelFolder(role);
  return existsSync(path.join(folder, 'config.json')) && existsSync(path.join(folder, 'onnx'));
}

export function testConfig(
  models: Partial<RuntimeConfig['models']> = {},
  worker: Partial<RuntimeConfig['worker']> = {},
): RuntimeConfig {
  return {
    models: {
      signals: modelFolder('signals'),
      reply: modelFolder('reply'),
      answer: hasModel('answer') ? modelFolder('answer') : 'off',
      embed: modelFolder('embed'),
      sentiment: undefined,
      moderation: undefined,
      allowRemote: false,
      dtype: 'fp32',
      device: 'cpu',
      threads: 1,
      threadNice: 0,
      cacheDir: undefined,
      ...models,
    },
    worker: { replyBatchSize: 8, maxReplyTokens: 24, ...worker },
  };
}

export interface CapturedLogger {
  logger: Logger;
  records: Array<Record<string, unknown> & { level: number; msg?: string }>;
}

/** A real pino logger whose JSON lines are kept in memory, so tests can assert on what was logged. */
export function captureLogger(level = 'debug'): CapturedLogger {
  const records: CapturedLogger['records'] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) records.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level }, stream), records };
}

/**
 * The bundled reply model with `steward.source_prefix` declared, in a temporary folder (its files linked, not
 * copied): the same ONNX weights fed `question<sep>source: <title>. <passage>` as a passage-reading model is. The
 * bundled model was not trained on that layout (worker/library/README.md), so its replies are no better for it;
 * tests use it to exercise the passage and cross-attention paths with real weights.
 */
export function sourceReadingReplyFolder(): string {
  return linkedModelFolder(modelFolder('reply'), (steward) => ({
    ...steward,
    source_prefix: 'source: ',
    max_input_length: 128,
  }));
}

/**
 * A temporary model folder whose files are links to `from`'s (except `omit`) and whose config.json is `from`'s with
 * its `steward` block passed through `edit`: the same weights under another card. The caller removes it.
 */
export function linkedModelFolder(
  from: string,
  edit: (steward: Record<string, unknown>) => Record<string, unknown>,
  omit: readonly string[] = [],
): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'steward-model-'));
  for (const name of readdirSync(from))
    if (name !== 'config.json' && !omit.includes(name))
      symlinkSync(path.join(from, name), path.join(dir, name));
  const config = JSON.parse(readFileSync(path.join(from, 'config.json'), 'utf8'));
  config.steward = edit(config.steward ?? {});
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}

/** A reply model folder loaded on the CPU, int8, as the benches that judge reply models read it (logs: warnings). */
export async function loadReplyModel(dir: string, threads: number): Promise<ReplyModel> {
  const config = testConfig({ reply: dir, dtype: 'q8', threads });
  configureTransformersEnv(config.models);
  const { logger } = captureLogger('warn');
  return ReplyModel.load(resolveSource('reply', dir, false), {
    config,
    logger,
    device: new DeviceChoice('cpu', logger),
  });
}

/**
 * Two started engines (signals only, no reply model) on the bundled signals folder: as shipped, and with its
 * config.json's steward block edited by `edit` (a linked copy of the folder), for tests that compare a feature on and
 * off. `stop()` stops both and removes the copy.
 */
export async function enginesBeside(
  edit: (steward: Record<string, unknown>) => Record<string, unknown>,
  dtype: RuntimeConfig['models']['dtype'] = 'fp32',
): Promise<{ shipped: LocalEngine; edited: LocalEngine; stop: () => Promise<void> }> {
  const folder = linkedModelFolder(modelFolder('signals'), edit);
  const shipped = createLocalEngine(testConfig({ dtype, threads: 2 }), captureLogger().logger, {
    reply: false,
  });
  const edited = createLocalEngine(
    testConfig({ dtype, threads: 2, signals: folder }),
    captureLogger().logger,
    {
      reply: false,
    },
  );
  const stop = async () => {
    await Promise.all([shipped.stop(), edited.stop()]);
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    await Promise.all([shipped.start(), edited.start()]);
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  return { shipped, edited, stop };
}
