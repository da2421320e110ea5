import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.ts';
import { createLocalEngine, type LocalEngine } from '../../models/runtime/index.ts';
import { captureLogger, hasModel, testConfig } from '../../models/runtime/testing.ts';
import { buildOnnx } from '../fixtures/onnx/build.ts';

// ---------------------------------------------------------------------------------------------------------
// A real, standard-shaped sequence-classification model folder (config.json with id2label, a WordPiece
// tokenizer.json, onnx/model.onnx with input_ids + attention_mask -> logits), so the test needs no hub access.
// The graph (built by test/fixtures/onnx/build.py with python3-onnx) sums a per-token logit table over the
// unmasked tokens, so each word's effect on each label is known by construction.
// ---------------------------------------------------------------------------------------------------------

const VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  'you',
  'are',
  'an',
  'idiot',
  'stupid',
  'love',
  'this',
  'great',
];
VOCAB.push(
  'terrible',
  'hate',
  'the',
  'bot',
  'is',
  'awful',
  'nice',
  'thanks',
  '!',
  '.',
  ',',
  'and',
  'totally',
);

function writeClassifier(
  dir: string,
  id2label: Record<number, string>,
  weights: Record<string, number[]>,
  bias: number[],
  problemType?: string,
): string {
  mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  const neutral = bias.map(() => 0);
  const table = VOCAB.map((word) => weights[word] ?? neutral);
  writeFileSync(path.join(dir, 'onnx', 'model.onnx'), buildOnnx({ kind: 'classifier', table, bias }));
  const label2id = Object.fromEntries(Object.entries(id2label).map(([i, l]) => [l, Number(i)]));
  const config = {
    model_type: 'bert',
    architectures: ['BertForSequenceClassification'],
    id2label,
    label2id,
    max_position_embeddings: 512,
    problem_type: problemType,
  };
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const special = (id: number) => ({
    id,
    content: VOCAB[id],
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [0, 1, 2, 3].map(special),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(VOCAB.map((w, i) => [w, i])),
    },
  };
  writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileSync(
    path.join(dir, 'tokenizer_config.json'),
    JSON.stringify({
      tokenizer_class: 'BertTokenizer',
      do_lower_case: true,
      model_max_length: 512,
      pad_token: '[PAD]',
      unk_token: '[UNK]',
      cls_token: '[CLS]',
      sep_token: '[SEP]',
    }),
  );
  return dir;
}

describe.skipIf(!hasModel('signals'))('hub sequence classifiers in place of the signals heads', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'steward-classifier-'));
  let engine: LocalEngine;

  beforeAll(async () => {
    const bad = [3, 0, 0];
    const good = [0, 0, 3];
    const sentiment = writeClassifier(
      path.join(scratch, 'sentiment'),
      { 0: 'LABEL_0', 1: 'LABEL_1', 2: 'LABEL_2' },
      {
        terrible: bad,
        hate: bad,
        awful: bad,
        idiot: bad,
        stupid: bad,
        love: good,
        great: good,
        nice: good,
        thanks: good,
      },
      [0, 1, 0],
    );
    const moderation = writeClassifier(
      path.join(scratch, 'moderation'),
      { 0: 'toxic', 1: 'insult' },
      { idiot: [3, 5], stupid: [3, 2], hate: [2, 0], totally: [0.5, 0.5] },
      [-2, -2],
      'multi_label_classification',
    );
    engine = createLocalEngine(testConfig({ sentiment, moderation, threads: 1 }), captureLogger().logger, {
      reply: false,
      embed: false,
    });
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('reports the classifiers as their own roles and their labels as the moderation labels', () => {
    expect(engine.info().map((m) => m.role)).toEqual(['signals', 'sentiment', 'moderation']);
    expect(engine.defaults()).toMatchObject({
      labels: ['toxic', 'insult'],
      thresholds: { toxic: 0.5, insult: 0.5 },
    });
  });

  it('scores sentiment with a softmax and moderation with a sigmoid per label, embeddings from signals', async () => {
    const [nice, rude, plain] = await engine.signals([
      'thanks, this bot is great!',
      'you are a stupid idiot',
      'the bot',
    ]);
    expect(nice!.sentiment.label).toBe('positive');
    expect(rude!.sentiment.label).toBe('negative');
    expect(plain!.sentiment.label).toBe('neutral');
    for (const s of [nice!, rude!, plain!]) {
      const sum = s.sentiment.scores.negative + s.sentiment.scores.neutral + s.sentiment.scores.positive;
      expect(sum).toBeCloseTo(1, 6);
      expect(Object.keys(s.moderation)).toEqual(['toxic', 'insult']);
      expect(s.embedding.length).toBeGreaterThan(0);
    }
    // idiot (3) + stupid (3) - 2 = 4 for toxic; 5 + 2 - 2 = 5 for insult; sigmoid, not softmax.
    expect(rude!.moderation.toxic).toBeCloseTo(1 / (1 + Math.exp(-4)), 5);
    expect(rude!.moderation.insult).toBeCloseTo(1 / (1 + Math.exp(-5)), 5);
  });

  it('explains flagged labels by occlusion: the words whose removal lowers the score most, strongest first', async () => {
    const [rude, calm] = await engine.signals(['You are a totally stupid idiot!', 'nice bot']);
    expect(rude!.attributions.insult).toEqual(['idiot', 'stupid', 'totally']);
    // Each word's drop relative to the largest: idiot 1, the others below it, in the same order.
    const weights = rude!.attributionWeights!.insult!;
    expect(weights.map((w) => w.word)).toEqual(['idiot', 'stupid', 'totally']);
    expect(weights[0]!.weight).toBe(1);
    expect(weights[1]!.weight).toBeLessThanOrEqual(1);
    expect(weights[2]!.weight).toBeLessThan(weights[1]!.weight);
    expect(calm!.attributionWeights).toEqual({ toxic: [], insult: [] });
    expect(rude!.attributions.toxic!.slice(0, 2).sort()).toEqual(['idiot', 'stupid']);
    // Nothing scored high enough to need an explanation.
    expect(calm!.attributions).toEqual({ toxic: [], insult: [] });
  });

  it('GIVEN a folder that is not a classifier THEN the error names the setting', async () => {
    const broken = path.join(scratch, 'broken');
    writeClassifier(broken, { 0: 'joy', 1: 'anger' }, {}, [0, 0]);
    const other = createLocalEngine(testConfig({ sentiment: broken }), captureLogger().logger, {
      reply: false,
    });
    await expect(other.start()).rejects.toMatchObject({
      code: ErrorCode.ModelLoad,
      message: expect.stringMatching(/STEWARD_MODEL_SENTIMENT.*"joy"/),
    });
  });
});
