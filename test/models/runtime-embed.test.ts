import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { dot } from '../../src/domain/vector.ts';
import { ErrorCode, StewardError } from '../../src/errors.ts';
import { createLocalEngine, type LocalEngine } from '../../models/runtime/index.ts';
import { captureLogger, hasModel, modelFolder, testConfig } from '../../models/runtime/testing.ts';

/** Issue 10: the library is searched with its own sentence encoder (models.embed), not the signals embeddings. */
describe.skipIf(!hasModel('embed'))('library sentence encoder (models/bundled/embed)', () => {
  let engine: LocalEngine;
  beforeAll(async () => {
    engine = createLocalEngine(testConfig({ dtype: 'q8' }), captureLogger().logger, { reply: false });
    await engine.start();
  }, 120_000);
  afterAll(() => engine.stop());

  it('GIVEN texts of any length WHEN embedded for search THEN each vector is unit length, in input order', async () => {
    const texts = ['', 'hi', 'when is the monthly meetup?', 'word '.repeat(500)];
    const vectors = await engine.embedSearch(texts);
    expect(vectors).toHaveLength(texts.length);
    for (const v of vectors) {
      expect(v.length).toBeGreaterThan(0);
      expect(Math.abs(dot(v, v) - 1)).toBeLessThan(1e-4);
    }
    // Batching (length buckets) must not change a text's vector beyond int8 rounding: q8 quantizes activations
    // with one scale per batch, so batchmates move it slightly (CI saw cosine 1 − 1.6e-4).
    const [alone] = await engine.embedSearch([texts[2]!]);
    expect(Math.abs(dot(alone!, vectors[2]!) - 1)).toBeLessThan(1e-3);
  });

  it('GIVEN a question WHEN compared THEN a rewording of it is nearer than an unrelated FAQ entry', async () => {
    // Wordings written for this test (not clinc150): the encoder must generalise past its training requests.
    const [question, reworded, unrelated] = await engine.embedSearch([
      'how do I reset my password?',
      'I forgot my login password, how can I change it',
      'what time does the community meetup start on friday',
    ]);
    expect(dot(question!, reworded!)).toBeGreaterThan(dot(question!, unrelated!) + 0.1);
  });

  it('GIVEN the engine info THEN it lists the embed role with its version', () => {
    const embed = engine.info().find((m) => m.role === 'embed');
    expect(embed?.source).toBe(modelFolder('embed'));
    expect(embed?.version).toMatch(/^embed-/);
  });

  it('GIVEN models.embed=off WHEN embedding for search THEN the signals embeddings are used', async () => {
    const off = createLocalEngine(testConfig({ dtype: 'q8', embed: 'off' }), captureLogger().logger, {
      reply: false,
    });
    await off.start();
    try {
      expect(off.info().some((m) => m.role === 'embed')).toBe(false);
      const [search] = await off.embedSearch(['where are the rules?']);
      const [signals] = await off.embed(['where are the rules?']);
      expect(Array.from(search!)).toEqual(Array.from(signals!));
    } finally {
      await off.stop();
    }
  }, 120_000);

  it('GIVEN a folder whose graph has no last_hidden_state WHEN starting THEN the error names STEWARD_MODEL_EMBED', async () => {
    const wrong = createLocalEngine(
      testConfig({ dtype: 'q8', embed: modelFolder('signals') }),
      captureLogger().logger,
      { reply: false },
    );
    const error = await wrong.start().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StewardError);
    expect((error as StewardError).code).toBe(ErrorCode.ModelLoad);
    expect((error as StewardError).message).toContain('STEWARD_MODEL_EMBED');
    expect((error as StewardError).message).toContain('last_hidden_state');
  }, 120_000);
});

describe('models.embed setting', () => {
  it('GIVEN STEWARD_MODEL_EMBED THEN it sets models.embed; by default the bundled encoder', () => {
    expect(loadConfig({ env: {} }).models.embed).toBe('models/bundled/embed');
    expect(loadConfig({ env: { STEWARD_MODEL_EMBED: 'off' } }).models.embed).toBe('off');
    expect(loadConfig({ env: { STEWARD_MODEL_EMBED: path.join('x', 'y') } }).models.embed).toBe('x/y');
  });
});
