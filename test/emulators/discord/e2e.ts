import { existsSync } from 'node:fs';
import path from 'node:path';
import { createThreadEngine } from '../../../models/runtime/index.ts';
import type { DiscordTuning } from '../../../adapters/discord/options.ts';
import { loadConfig } from '../../../src/config.ts';
import type { InferenceEngine } from '../../../src/engine.ts';
import { createLogger } from '../../../src/logger.ts';
import { createTestStack, type TestStack } from '../../support/stack.ts';
import { type DiscordHarness, startDiscordHarness } from './harness.ts';

/**
 * Model folders for the end-to-end tests: the bundled models, or the exports named by STEWARD_TEST_MODEL_SIGNALS /
 * STEWARD_TEST_MODEL_REPLY (the same variables the runtime's tests honour).
 */
export function e2eModels(): { signals: string; reply: string } {
  return {
    signals: path.resolve(process.env.STEWARD_TEST_MODEL_SIGNALS ?? 'models/bundled/signals'),
    reply: path.resolve(process.env.STEWARD_TEST_MODEL_REPLY ?? 'models/bundled/reply'),
  };
}

export function e2eModelsPresent(): boolean {
  const { signals, reply } = e2eModels();
  return [signals, reply].every(
    (dir) => existsSync(path.join(dir, 'config.json')) && existsSync(path.join(dir, 'onnx')),
  );
}

export const MISSING_E2E_MODELS =
  'bundled models missing (models/bundled/{signals,reply}); Discord e2e skipped';

export type DiscordE2E = DiscordHarness & { stack: TestStack; engine: InferenceEngine };

/** Real Redis + BullMQ + RedisStore + a worker running the real models, and the real adapter on the emulator. */
export async function startDiscordE2E(tuning: Partial<DiscordTuning> = {}): Promise<DiscordE2E> {
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const models = e2eModels();
  const config = loadConfig({
    env: { LOG_LEVEL: 'silent' },
    overrides: { 'models.signals': models.signals, 'models.reply': models.reply, 'models.threads': 1 },
  });
  const engine = createThreadEngine(config, logger);
  const stack = await createTestStack({
    withWorker: true,
    engine,
    logger,
    config: { 'models.signals': models.signals, 'models.reply': models.reply },
  });
  try {
    const harness = await startDiscordHarness({ queue: stack.queue, store: stack.store, logger, tuning });
    return {
      ...harness,
      stack,
      engine,
      async stop() {
        await harness.stop();
        await stack.cleanup();
      },
    };
  } catch (error) {
    await stack.cleanup();
    throw error;
  }
}

/**
 * Of a few candidate insults, the one the loaded model scores highest on any moderation label, with a threshold
 * for that label that flags it: the model's default, or just under the score when the default is higher.
 */
export async function pickToxic(
  engine: InferenceEngine,
): Promise<{ text: string; label: string; score: number; threshold: number }> {
  const candidates = [
    'you are a stupid worthless idiot',
    'shut up you pathetic moron',
    'you are an idiot and everyone hates you',
    'go away you disgusting loser',
    'fuck you, you stupid piece of shit',
  ];
  const signals = await engine.signals(candidates);
  let best = { text: candidates[0]!, label: '', score: -1 };
  signals.forEach((s, i) => {
    for (const [label, score] of Object.entries(s.moderation)) {
      if (score > best.score) best = { text: candidates[i]!, label, score };
    }
  });
  const fallback = engine.defaults().thresholds[best.label] ?? 0.5;
  const threshold = Math.max(0.01, Math.min(fallback, Math.floor(best.score * 90) / 100));
  return { ...best, threshold };
}

/** Thresholds that never flag: for tests about replies, so a model's moderation scores cannot suppress them. */
export function neverFlag(engine: InferenceEngine): Record<string, number> {
  return Object.fromEntries(engine.defaults().labels.map((label) => [label, 1]));
}
