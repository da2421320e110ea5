import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SENTIMENT_LABELS, type SentimentLabel, type Signals } from '../../src/domain/analysis.ts';
import { createLocalEngine, type LocalEngine } from '../../models/runtime/index.ts';
import { dot, softmax } from '../../src/domain/vector.ts';
import { LexicalChannel, LexicalMetaSchema } from '../../models/runtime/lexical.ts';
import { preprocess, shiftLogits } from '../../models/runtime/signals.ts';
import {
  captureLogger,
  enginesBeside,
  hasModel,
  modelFolder,
  testConfig,
} from '../../models/runtime/testing.ts';

const TEXTS = [
  'I love this community, everyone is so helpful!',
  'you are a complete idiot and nobody wants you here',
  'The meeting is moved to 3pm tomorrow.',
  'ugh, the update broke everything again',
  'thanks @alice for the link https://example.com/docs',
  'LOL 😂😂😂 that was hilarious',
  '我爱北京天安门。',
  '这个人真是个傻瓜',
  '',
  '   ',
  'ok',
  'What a terrible, awful, horrible day. I hate mondays so much and everything about them.',
  'Does anyone know how to configure the bot to post in a thread instead of the channel?',
  '👍🏽',
];

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tolerance: number): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  expect(worst).toBeLessThanOrEqual(tolerance);
}

/** A label the text's language does not get (the safety channel's, outside Chinese) counts as -1. */
function vectorOf(s: Signals, labels: string[]): number[] {
  return [...SENTIMENT_LABELS.map((l) => s.sentiment.scores[l]), ...labels.map((l) => s.moderation[l] ?? -1)];
}

/** The safety channel's labels, which only the languages it reads get (Chinese). */
const CHANNEL_LABELS: { labels: string[]; languages: string[] } = (() => {
  if (!hasModel('signals')) return { labels: [], languages: [] };
  const cfg = JSON.parse(readFileSync(path.join(modelFolder('signals'), 'config.json'), 'utf8')).steward;
  return { labels: cfg.safety_channel?.outputs ?? [], languages: cfg.safety_channel?.languages ?? [] };
})();
const labelsFor = (labels: string[], language: string) =>
  CHANNEL_LABELS.languages.includes(language)
    ? labels
    : labels.filter((l) => !CHANNEL_LABELS.labels.includes(l));

describe.skipIf(!hasModel('signals'))('signals on the bundled model', () => {
  const captured = captureLogger();
  let engine: LocalEngine;
  let bucketed: LocalEngine;
  let labels: string[];

  beforeAll(async () => {
    engine = createLocalEngine(testConfig({ dtype: 'fp32', threads: 2 }), captured.logger, { reply: false });
    // Tiny buckets force many encoder runs of different padded widths over the same batch.
    bucketed = createLocalEngine(testConfig({ dtype: 'fp32', threads: 2 }), captureLogger().logger, {
      reply: false,
      tuning: { bucketSize: 3, maxBucketTokens: 64 },
    });
    await Promise.all([engine.start(), bucketed.start()]);
    labels = engine.defaults().labels;
  });
  afterAll(async () => {
    await Promise.all([engine?.stop(), bucketed?.stop()]);
  });

  it('returns the configured labels with probabilities that are well formed, for every kind of input', async () => {
    const results = await engine.signals(TEXTS);
    expect(results).toHaveLength(TEXTS.length);
    const defaults = engine.defaults();
    expect(labels.length).toBeGreaterThan(0);
    expect(Object.keys(defaults.thresholds).sort()).toEqual([...labels].sort());
    const dim = results[0]!.embedding.length;
    expect(dim).toBeGreaterThan(0);
    results.forEach((s, i) => {
      const scores = SENTIMENT_LABELS.map((l) => s.sentiment.scores[l]);
      expect(scores.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(s.sentiment.label).toBe(SENTIMENT_LABELS[scores.indexOf(Math.max(...scores))]);
      expect(Object.keys(s.moderation).sort()).toEqual([...labelsFor(labels, s.language)].sort());
      for (const p of Object.values(s.moderation)) expect(p >= 0 && p <= 1).toBe(true);
      expect(Object.keys(s.attributions).sort()).toEqual([...labelsFor(labels, s.language)].sort());
      for (const words of Object.values(s.attributions)) {
        expect(words.length).toBeLessThanOrEqual(3);
        // Attributions are whole words of the text (as the model saw it: mentions and links mapped to
        // placeholders), never subword pieces or special tokens.
        const seen = TEXTS[i]!.toLowerCase()
          .replace(/@\w+/g, '@user')
          .replace(/https?:\/\/\S+/g, 'http');
        for (const word of words) expect(seen).toContain(word.toLowerCase());
      }
      // The same words with the model's weights: the strongest 1, the others relative to it (0.1..1).
      for (const [label, words] of Object.entries(s.attributions)) {
        const weighted = s.attributionWeights?.[label];
        expect(weighted?.map((w) => w.word)).toEqual(words);
        weighted?.forEach((w, rank) => {
          expect(w.weight).toBeGreaterThanOrEqual(0.1);
          expect(w.weight).toBeLessThanOrEqual(rank === 0 ? 1 : weighted[rank - 1]!.weight);
          if (rank === 0) expect(w.weight).toBe(1);
        });
      }
      expect(s.embedding).toBeInstanceOf(Float32Array);
      expect(s.embedding.length).toBe(dim);
      expect(Math.sqrt(dot(s.embedding, s.embedding))).toBeCloseTo(1, 4);
    });
  });

  it('gives the same result for a text alone, in a batch, in another order and across length buckets', async () => {
    const batch = await engine.signals(TEXTS);
    const order = TEXTS.map((_, i) => i).reverse();
    const shuffled = await bucketed.signals(order.map((i) => TEXTS[i]!));
    for (let i = 0; i < TEXTS.length; i++) {
      const [alone] = await engine.signals([TEXTS[i]!]);
      const other = shuffled[order.indexOf(i)]!;
      for (const candidate of [batch[i]!, other]) {
        expectClose(vectorOf(candidate, labels), vectorOf(alone!, labels), 1e-4);
        expectClose(candidate.embedding, alone!.embedding, 1e-4);
        expect(candidate.attributions).toEqual(alone!.attributions);
        expect(candidate.attributionWeights).toEqual(alone!.attributionWeights);
      }
    }
  });

  it('embed() returns the same vectors as signals()', async () => {
    const texts = TEXTS.slice(0, 5);
    const [vectors, signals] = await Promise.all([engine.embed(texts), engine.signals(texts)]);
    vectors.forEach((v, i) => {
      expectClose(v, signals[i]!.embedding, 1e-5);
    });
    expect(await engine.embed([])).toEqual([]);
    expect(await engine.signals([])).toEqual([]);
  });

  it('places a paraphrase closer than an unrelated text', async () => {
    const triples = [
      [
        'How do I reset my password?',
        'I forgot my password, how can I change it?',
        'The football match last night was amazing.',
      ],
      [
        'Is the server down for anyone else?',
        'Anyone else unable to connect to the server right now?',
        'My cat loves sleeping in the sun.',
      ],
      [
        'What time does the event start?',
        'When does the event begin?',
        'This pizza recipe needs more garlic.',
      ],
      [
        'I really love this new update!',
        'This latest update is fantastic, I like it a lot.',
        'Where can I buy cheap train tickets?',
      ],
      [
        'Can someone help me install the bot?',
        'I need help setting up the bot.',
        'It is raining heavily in London today.',
      ],
    ];
    const vectors = await engine.embed(triples.flat());
    const margins = triples.map((_, t) => {
      const [a, para, other] = [vectors[3 * t]!, vectors[3 * t + 1]!, vectors[3 * t + 2]!];
      return dot(a, para) - dot(a, other);
    });
    // A small model gets most, not all, of these; on average the paraphrase must clearly win.
    expect(margins.filter((m) => m > 0).length).toBeGreaterThanOrEqual(4);
    expect(margins.reduce((x, y) => x + y, 0) / margins.length).toBeGreaterThan(0.05);
  });

  it('truncates a 10,000-character text to the model limit, logs it at debug, and keeps its beginning', async () => {
    const long = 'This is a long complaint about the server being slow. '.repeat(190).slice(0, 10_000);
    expect(long).toHaveLength(10_000);
    captured.records.length = 0;
    const [full, half] = await engine.signals([long, long.slice(0, 5_000)]);
    expect(captured.records.some((r) => r.level === 20 && /truncated/.test(String(r.msg)))).toBe(true);
    // Both are cut to the same first max_length tokens, so the model saw the same input.
    expectClose(vectorOf(full!, labels), vectorOf(half!, labels), 1e-4);
  });
});

describe.skipIf(!hasModel('signals'))('q8 weights', () => {
  it('agree with fp32 on the sentiment label for most texts', async () => {
    const fp32 = createLocalEngine(testConfig({ dtype: 'fp32', threads: 2 }), captureLogger().logger, {
      reply: false,
    });
    const q8 = createLocalEngine(testConfig({ dtype: 'q8', threads: 2 }), captureLogger().logger, {
      reply: false,
    });
    await Promise.all([fp32.start(), q8.start()]);
    expect(q8.info()[0]!.dtype).toBe('q8');
    const texts = TEXTS.filter((t) => t.trim() !== '');
    const [a, b] = await Promise.all([fp32.signals(texts), q8.signals(texts)]);
    const agree = a.filter((s, i) => s.sentiment.label === b[i]!.sentiment.label).length;
    expect(agree / texts.length).toBeGreaterThanOrEqual(0.7);
    // int8 activations are quantized with one scale over the padded batch, so batch and single runs differ
    // slightly (fp32 agrees to 1e-4, above); they must still agree to within 0.02 in probability.
    for (let i = 0; i < texts.length; i++) {
      const [alone] = await q8.signals([texts[i]!]);
      expectClose(vectorOf(b[i]!, q8.defaults().labels), vectorOf(alone!, q8.defaults().labels), 2e-2);
    }
    await Promise.all([fp32.stop(), q8.stop()]);
  });
});

describe.skipIf(!hasModel('signals'))('the English sentiment logit offsets (balanced prior)', () => {
  const bundled = modelFolder('signals');
  const meta = JSON.parse(readFileSync(path.join(bundled, 'config.json'), 'utf8'));
  const offsets: number[] | undefined = meta.steward.sentiment_logit_adjustment?.en;
  // Ordinary English lines that sit between negative and neutral: what the offsets move.
  const ENGLISH = [
    'the update is out, not sure how I feel about it',
    'ugh, the update broke everything again',
    'the meeting is moved to 3pm tomorrow.',
    'I guess the new layout is fine',
    'my train was late again this morning',
    'What a terrible, awful, horrible day.',
  ];
  const CHINESE = ['这个人真是个傻瓜', '今天天气不错，我们去公园吧'];
  let withOffsets: LocalEngine;
  let without: LocalEngine;
  let stop: () => Promise<void>;
  let lexical: LexicalChannel | undefined;
  /** The bundled lexical channel's mix over English sentiment (identity without one). */
  const mixLexical = (
    scores: Record<SentimentLabel, number>,
    text: string,
  ): Record<SentimentLabel, number> => {
    if (!lexical) return scores;
    const lex = lexical.logits(preprocess(text, meta.steward.preprocess));
    const w = lexical.meta.mix.sentiment;
    const mixed = softmax(
      SENTIMENT_LABELS.map((l) => (1 - w) * Math.log(scores[l]) + w * lex[lexical!.meta.outputs.indexOf(l)]!),
    );
    return Object.fromEntries(SENTIMENT_LABELS.map((l, i) => [l, mixed[i]!])) as Record<
      SentimentLabel,
      number
    >;
  };

  beforeAll(async () => {
    if (meta.steward.lexical_channel) {
      const lexMeta = LexicalMetaSchema.parse(meta.steward.lexical_channel);
      lexical = await LexicalChannel.load({ role: 'signals', location: bundled, local: true }, lexMeta);
    }
    // The same graph and tokenizer, its config without the offsets.
    // Without the lexical channel too: it mixes into the same scores (test/models/runtime-lexical.test.ts).
    ({
      shipped: withOffsets,
      edited: without,
      stop,
    } = await enginesBeside(({ sentiment_logit_adjustment: _, lexical_channel: __, ...steward }) => steward));
  });
  afterAll(() => stop?.());

  it('the bundled card has English offsets that favour the minority negative class', () => {
    expect(offsets).toHaveLength(3);
    expect(offsets![1]).toBe(0);
    expect(offsets![0]).toBeGreaterThan(offsets![2]!);
  });

  it('English scores are the graph softmax with the offsets added to its logits; Chinese scores are untouched', async () => {
    const texts = [...ENGLISH, ...CHINESE];
    const [a, b] = await Promise.all([withOffsets.signals(texts), without.signals(texts)]);
    let moved = 0;
    texts.forEach((_, i) => {
      const adjusted = a[i]!.sentiment.scores;
      const raw = b[i]!.sentiment.scores;
      expect(a[i]!.language).toBe(b[i]!.language);
      const expected =
        a[i]!.language === 'en' ? mixLexical(shiftLogits(SENTIMENT_LABELS, raw, offsets!), texts[i]!) : raw;
      expectClose(
        SENTIMENT_LABELS.map((l) => adjusted[l]),
        SENTIMENT_LABELS.map((l) => expected[l]),
        1e-5,
      );
      if (a[i]!.language === 'en') moved += Number(adjusted.negative > raw.negative + 1e-3);
      // The moderation side is not affected by the offsets.
      if (!lexical) expect(a[i]!.moderation).toEqual(b[i]!.moderation);
    });
    expect(a.slice(ENGLISH.length).every((s) => s.language === 'zh')).toBe(true);
    expect(moved).toBe(ENGLISH.length);
  });
});

describe('shiftLogits', () => {
  it('is the identity with zero offsets and renormalises otherwise', () => {
    const scores = { negative: 0.2, neutral: 0.5, positive: 0.3 };
    const same = shiftLogits(SENTIMENT_LABELS, scores, [0, 0, 0]);
    for (const l of SENTIMENT_LABELS) expect(same[l]).toBeCloseTo(scores[l], 6);
    const shifted = shiftLogits(SENTIMENT_LABELS, scores, [Math.log(2), 0, 0]);
    // negative's odds against each other class double
    expect(shifted.negative / shifted.neutral).toBeCloseTo(0.8, 6);
    expect(shifted.negative + shifted.neutral + shifted.positive).toBeCloseTo(1, 6);
  });
});
