import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLocalEngine, type LocalEngine } from '../../models/runtime/index.ts';
import { captureLogger, hasModel, modelFolder, testConfig } from '../../models/runtime/testing.ts';
import { isSupported } from '../../worker/library/answer.ts';

// Written for this test (no training item): two sentences, each holding a word the other lacks.
const MEETUP = {
  title: 'Meetups',
  text: 'We meet on the first Friday of every month at the Central Library. Parking is free behind the station.',
};

/** Issue 10: library answers are written by the answer model from the retrieved passage (models.answer). */
describe.skipIf(!hasModel('answer') || !hasModel('reply'))('answer model (models/bundled/answer)', () => {
  let engine: LocalEngine;
  beforeAll(async () => {
    engine = createLocalEngine(testConfig({ dtype: 'q8', embed: 'off' }), captureLogger().logger);
    await engine.start();
  }, 120_000);
  afterAll(() => engine.stop());

  it('GIVEN a question and its passage WHEN replying THEN the answer model writes from the passage', async () => {
    const [answer, chat] = await engine.reply([
      { text: 'where do we meet?', context: [], source: MEETUP },
      { text: 'do you like star wars?', context: [] },
    ]);
    expect(answer).toMatch(/Library/);
    expect(isSupported(answer!, 'where do we meet?', MEETUP.title, MEETUP.text)).toBe(true);
    // Small talk still goes to the reply model, which writes a line of its own.
    expect(chat!.length).toBeGreaterThan(0);
  });

  it('GIVEN a question about the other sentence THEN the answer comes from that sentence', async () => {
    const [answer] = await engine.reply([{ text: 'is parking free?', context: [], source: MEETUP }]);
    expect(answer).toMatch(/[Pp]arking/);
    expect(isSupported(answer!, 'is parking free?', MEETUP.title, MEETUP.text)).toBe(true);
  });

  it('GIVEN a request in a language the answer model does not list THEN it is not run (empty: the worker quotes)', async () => {
    const ZH = { title: '聚会', text: '我们每个月第一个星期五在中央图书馆见面。车站后面停车免费。' };
    const [zh, en, unknown] = await engine.reply([
      { text: '我们在哪里见面？', context: [], source: ZH, language: 'zh' },
      { text: 'where do we meet?', context: [], source: MEETUP, language: 'en' },
      { text: 'where do we meet?', context: [], source: MEETUP },
    ]);
    expect(zh).toBe('');
    expect(en).toMatch(/Library/);
    expect(unknown).toBe(en);
  });

  it('GIVEN an answer WHEN explained THEN the cross-attention is the answer model’s, over the passage', async () => {
    const request = { text: 'is parking free?', context: [], source: MEETUP };
    const [words] = await engine.attend([{ request, answer: 'Parking is free behind the station.' }]);
    expect(words!.length).toBeGreaterThan(0);
    const passage = new Set(MEETUP.text.split(/\s+/).map((w) => w.replace(/^\W+|\W+$/gu, '')));
    for (const { word } of words!) expect(passage.has(word)).toBe(true);
  });

  it('GIVEN parity.json WHEN running parity_reply.mjs on the bundled folder THEN Node matches PyTorch (q8)', async () => {
    const root = path.resolve(import.meta.dirname, '..', '..');
    const script = path.join(root, 'models', 'training', 'parity_reply.mjs');
    const { stdout } = await promisify(execFile)('node', [script, modelFolder('answer'), '--dtype', 'q8'], {
      cwd: root,
      timeout: 110_000,
    });
    expect(stdout).toContain('reply parity PASS (q8)');
  }, 120_000);

  it('GIVEN the engine info THEN it lists the answer role with its version', () => {
    const answer = engine.info().find((m) => m.role === 'answer');
    expect(answer?.source).toBe(modelFolder('answer'));
    expect(answer?.version).toMatch(/^answer-/);
  });

  it('GIVEN models.answer=off THEN a library answer is left to the reply model, which reads no passage', async () => {
    const off = createLocalEngine(
      testConfig({ dtype: 'q8', embed: 'off', answer: 'off' }),
      captureLogger().logger,
    );
    await off.start();
    try {
      expect(off.info().some((m) => m.role === 'answer')).toBe(false);
      expect(await off.reply([{ text: 'where do we meet?', context: [], source: MEETUP }])).toEqual(['']);
    } finally {
      await off.stop();
    }
  }, 120_000);
});

describe('models.answer setting', () => {
  it('GIVEN STEWARD_MODEL_ANSWER THEN it sets models.answer; by default the bundled answer model', () => {
    expect(loadConfig({ env: {} }).models.answer).toBe('models/bundled/answer');
    expect(loadConfig({ env: { STEWARD_MODEL_ANSWER: 'off' } }).models.answer).toBe('off');
    expect(loadConfig({ env: { STEWARD_MODEL_ANSWER: path.join('x', 'y') } }).models.answer).toBe('x/y');
  });
});
