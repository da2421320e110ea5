import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalEngine, type LocalEngine } from '../../models/runtime/index.ts';
import {
  featureBuckets,
  featureStrings,
  LexicalChannel,
  LexicalMetaSchema,
  mixLogit,
  mixSignals,
  parseSafetensors,
} from '../../models/runtime/lexical.ts';
import { ModelLoadError } from '../../models/runtime/settings.ts';
import { preprocess } from '../../models/runtime/signals.ts';
import {
  captureLogger,
  enginesBeside,
  hasModel,
  linkedModelFolder,
  modelFolder,
  testConfig,
} from '../../models/runtime/testing.ts';

describe('lexical features', () => {
  it('are lower-cased word unigrams and bigrams, and character 2..5-grams of each padded word', () => {
    const { words, chars } = featureStrings('Hi YOU', 1000);
    expect(words).toEqual(['w hi', 'w you', 'b hi you']);
    // " hi " is 4 characters: its 2- and 3-grams, then itself once for n = 4, and nothing longer.
    expect(chars.slice(0, 6)).toEqual(['c  h', 'c hi', 'c i ', 'c  hi', 'c hi ', 'c  hi ']);
    expect(chars).toContain('c  you ');
    expect(chars).not.toContain('c  hi  ');
  });

  it('count code points, not UTF-16 units, and cut the text at max_chars', () => {
    expect(featureStrings('😂x', 1000).chars).toContain('c 😂x');
    expect(featureStrings('abcdef', 3).words).toEqual(['w abc']);
    expect(featureStrings('', 1000)).toEqual({ words: [], chars: [] });
    // Single letters and punctuation are not word tokens, but they still have character n-grams.
    expect(featureStrings('a !', 1000).words).toEqual([]);
    expect(featureStrings('a !', 1000).chars).toEqual(['c  a', 'c a ', 'c  a ', 'c  !', 'c ! ', 'c  ! ']);
  });

  it('featureBuckets counts exactly the buckets zlib.crc32 gives featureStrings, for every script and length', () => {
    const texts = [
      'Hi YOU there, you idiot!!',
      'Ça va? Très bien — merci 😂😂 ok',
      '我想去一个风景优美的地方 and back',
      'Привет, как дела? 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 a b c',
      'x',
      '',
      'supercalifragilisticexpialidocious '.repeat(40),
      'İstanbul ǅemal ß STRASSE',
    ];
    const reference = (strings: string[], buckets: number) => {
      const m = new Map<number, number>();
      for (const s of strings) m.set(crc32(s) % buckets, (m.get(crc32(s) % buckets) ?? 0) + 1);
      return m;
    };
    for (const text of texts) {
      for (const max of [1000, 7]) {
        const strings = featureStrings(text, max);
        const fast = featureBuckets(text, max, 1 << 18, 1 << 18);
        expect(fast.words, text).toEqual(reference(strings.words, 1 << 18));
        expect(fast.chars, text).toEqual(reference(strings.chars, 1 << 18));
      }
    }
  });

  it('mixLogit interpolates between the two logits', () => {
    expect(mixLogit(2, -2, 0)).toBe(2);
    expect(mixLogit(2, -2, 1)).toBe(-2);
    expect(mixLogit(2, -2, 0.75)).toBe(-1);
  });

  it('mixSignals mixes the outputs the channel has, each with its family weight, and leaves the rest', () => {
    const meta = LexicalMetaSchema.parse({
      file: 'x',
      languages: ['en'],
      outputs: ['negative', 'positive', 'offensive'],
      mix: { sentiment: 0.5, offensive: 0.25 },
      max_chars: 10,
      buckets: { word: 1, char: 1 },
    });
    const out = mixSignals(meta, [4, 8, 4], ['negative', 'neutral', 'positive'], [0, 1, 2], 0);
    expect(out.sentiment).toEqual([2, 1, 5]);
    expect(out.offensive).toBe(1);
    expect(
      mixSignals(meta, [4, 8, 4], ['negative', 'neutral', 'positive'], [0, 1, 2], undefined).offensive,
    ).toBe(undefined);
  });
});

describe('parseSafetensors', () => {
  it('reads F32 and I8 tensors at their offsets, whatever the header length', () => {
    const f = new Float32Array([1.5, -2]);
    const i = new Int8Array([-127, 0, 127]);
    const header = JSON.stringify({
      __metadata__: { format: 'pt' },
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'I8', shape: [3], data_offsets: [8, 11] },
    });
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(BigInt(Buffer.byteLength(header)));
    const buf = Buffer.concat([size, Buffer.from(header), Buffer.from(f.buffer), Buffer.from(i.buffer)]);
    const t = parseSafetensors(buf);
    expect(Array.from(t.get('a') as Float32Array)).toEqual([1.5, -2]);
    expect(Array.from(t.get('b') as Int8Array)).toEqual([-127, 0, 127]);
    expect(t.has('__metadata__')).toBe(false);
  });

  it('rejects a dtype it cannot read', () => {
    const header = JSON.stringify({ a: { dtype: 'BF16', shape: [1], data_offsets: [0, 2] } });
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(BigInt(header.length));
    expect(() => parseSafetensors(Buffer.concat([size, Buffer.from(header), Buffer.alloc(2)]))).toThrow(
      /BF16/,
    );
  });
});

const bundled = modelFolder('signals');
const meta = hasModel('signals')
  ? JSON.parse(readFileSync(path.join(bundled, 'config.json'), 'utf8'))
  : undefined;
const hasChannel = Boolean(meta?.steward.lexical_channel);

describe.skipIf(!hasChannel)('the bundled lexical channel', () => {
  let channel: LexicalChannel;
  let withChannel: LocalEngine;
  let without: LocalEngine;
  let stop: () => Promise<void>;
  const ENGLISH = [
    'you are a complete idiot and nobody wants you here',
    'this is fucking stupid',
    'I love this community, everyone is so helpful!',
    'ugh, the update broke everything again',
    'the meeting is moved to 3pm tomorrow.',
  ];
  const CHINESE = ['这个人真是个傻瓜', '今天天气不错，我们去公园吧'];

  beforeAll(async () => {
    channel = await LexicalChannel.load(
      { role: 'signals', location: bundled, local: true },
      LexicalMetaSchema.parse(meta.steward.lexical_channel),
    );
    // The same graph, tokenizer and offsets; the config without the channel.
    ({
      shipped: withChannel,
      edited: without,
      stop,
    } = await enginesBeside(({ lexical_channel: _, ...steward }) => steward));
  });
  afterAll(() => stop?.());

  it('gives the logits the Python trainer wrote for its parity texts (same features, hashes and weights)', () => {
    expect(channel.meta.parity.length).toBeGreaterThan(5);
    for (const c of channel.meta.parity) {
      const got = channel.logits(preprocess(c.text, meta.steward.preprocess));
      c.logits.forEach((v, j) => {
        expect(Math.abs(got[j]! - v)).toBeLessThan(1e-3);
      });
    }
  });

  it('reads insults as offensive and praise as positive on its own', () => {
    const at = (o: string) => channel.meta.outputs.indexOf(o);
    const insult = channel.logits('you are a complete idiot and nobody wants you here');
    const praise = channel.logits('I love this community, everyone is so helpful!');
    expect(insult[at('offensive')]!).toBeGreaterThan(praise[at('offensive')]!);
    expect(praise[at('positive')]!).toBeGreaterThan(praise[at('negative')]!);
    expect(
      channel
        .read('you are a complete idiot')
        .topWords(at('offensive'))
        .map((w) => w.word),
    ).toContain('idiot');
  });

  it('mixes English sentiment and offensive into the runtime scores; Chinese and the other labels are untouched', async () => {
    const texts = [...ENGLISH, ...CHINESE];
    const [a, b] = await Promise.all([withChannel.signals(texts), without.signals(texts)]);
    const { mix, outputs } = channel.meta;
    texts.forEach((text, i) => {
      expect(a[i]!.language).toBe(b[i]!.language);
      if (a[i]!.language !== 'en') {
        expect(a[i]!.sentiment).toEqual(b[i]!.sentiment);
        expect(a[i]!.moderation).toEqual(b[i]!.moderation);
        return;
      }
      const lex = channel.logits(preprocess(text, meta.steward.preprocess));
      const logit = (p: number) => Math.log(p / (1 - p));
      const off = b[i]!.moderation.offensive!;
      const expected =
        1 / (1 + Math.exp(-mixLogit(logit(off), lex[outputs.indexOf('offensive')]!, mix.offensive)));
      expect(a[i]!.moderation.offensive).toBeCloseTo(expected, 5);
      for (const label of Object.keys(a[i]!.moderation).filter((l) => l !== 'offensive'))
        expect(a[i]!.moderation[label]).toBe(b[i]!.moderation[label]);
      // Sentiment: the log-probabilities mixed with the channel's logits, renormalised.
      const s = b[i]!.sentiment.scores;
      const z = (['negative', 'neutral', 'positive'] as const).map((l) =>
        Math.exp(mixLogit(Math.log(s[l]), lex[outputs.indexOf(l)]!, mix.sentiment)),
      );
      const total = z[0]! + z[1]! + z[2]!;
      expect(a[i]!.sentiment.scores.negative).toBeCloseTo(z[0]! / total, 5);
      expect(a[i]!.sentiment.scores.positive).toBeCloseTo(z[2]! / total, 5);
    });
    expect(a.slice(ENGLISH.length).every((s) => s.language === 'zh')).toBe(true);
  });

  it('a config that names a missing channel file fails to load with the file named', async () => {
    const broken = linkedModelFolder(bundled, (steward) => steward, ['lexical.safetensors']);
    try {
      const engine = createLocalEngine(
        testConfig({ dtype: 'fp32', threads: 1, signals: broken }),
        captureLogger().logger,
        { reply: false },
      );
      const error = await engine.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ModelLoadError);
      expect(String((error as Error).message)).toMatch(/lexical\.safetensors/);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });
});
