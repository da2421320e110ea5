import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalEngine } from '../../models/runtime/index.ts';
import { SentimentChannel, SentimentChannelMetaSchema } from '../../models/runtime/sentiment-zh.ts';
import { ModelLoadError } from '../../models/runtime/settings.ts';
import { enginesBeside, hasModel, modelFolder } from '../../models/runtime/testing.ts';
import { softmax } from '../../src/domain/vector.ts';

const folder = modelFolder('signals');
const steward = hasModel('signals')
  ? JSON.parse(readFileSync(path.join(folder, 'config.json'), 'utf8')).steward
  : undefined;
const meta = SentimentChannelMetaSchema.parse(
  steward?.sentiment_channel ?? { file: 'none', languages: ['zh'], mix: 1 },
);
const load = () => SentimentChannel.load({ role: 'signals', location: folder, local: true }, meta);
const labelOf = (logits: number[]) =>
  ['negative', 'neutral', 'positive'][logits.indexOf(Math.max(...logits))];

describe.skipIf(!steward?.sentiment_channel)('the Chinese sentiment channel', () => {
  it('GIVEN the parity cases sentiment_zh.py wrote THEN the runtime gives the same logits', async () => {
    const channel = await load();
    expect(meta.parity.length).toBeGreaterThan(5);
    for (const c of meta.parity) {
      const got = channel.logits(c.text);
      expect(got.length).toBe(3);
      c.logits.forEach((v, j) => {
        expect(Math.abs(got[j]! - v), `${c.text} class ${j}`).toBeLessThan(1e-4);
      });
    }
  });

  it('GIVEN everyday chat, a complaint, praise and abuse THEN everyday lines get no strong tag, the others their label', async () => {
    const channel = await load();
    // Not lines of any evaluation set: written for this test. `sentimentTags strong` tags a score ≥ 0.8 only.
    for (const text of ['你几点下班', '我先去洗澡了', '会议改到三点', '你吃饭了没']) {
      const [negative, , positive] = softmax(channel.logits(text));
      expect(Math.max(negative!, positive!), text).toBeLessThan(0.8);
    }
    expect(labelOf(channel.logits('会议改到三点'))).toBe('neutral');
    expect(labelOf(channel.logits('这家店的菜又贵又难吃，服务员态度也差'))).toBe('negative');
    expect(labelOf(channel.logits('房间很干净，位置方便，下次还来'))).toBe('positive');
    expect(labelOf(channel.logits('你他妈的给我滚'))).toBe('negative');
  });

  it('GIVEN a channel file that does not match its config THEN loading fails with a clear error', async () => {
    await expect(
      SentimentChannel.load(
        { role: 'signals', location: folder, local: true },
        { ...meta, file: 'missing.json' },
      ),
    ).rejects.toBeInstanceOf(ModelLoadError);
    const file = { version: 'x', max_chars: 5, ngrams: [1, 2], vocab: 'a', idf: [1], bias: [0, 0, 0] };
    expect(
      () =>
        new SentimentChannel(meta, {
          ...file,
          classes: ['positive', 'neutral', 'negative'],
          weights: [0, 0, 0],
        }),
    ).toThrow(/classes must be negative, neutral, positive/);
    expect(
      () =>
        new SentimentChannel(meta, { ...file, classes: ['negative', 'neutral', 'positive'], weights: [0] }),
    ).toThrow(/sizes do not agree/);
  });
});

describe.skipIf(!steward?.sentiment_channel)('the sentiment channel in the runtime', () => {
  let withChannel: LocalEngine;
  let without: LocalEngine;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({
      shipped: withChannel,
      edited: without,
      stop,
    } = await enginesBeside(({ sentiment_channel: _, ...rest }) => rest, 'q8'));
  });
  afterAll(() => stop?.());

  it('GIVEN Chinese text THEN its sentiment is the mix of the graph and the channel; moderation and English are untouched', async () => {
    const texts = [
      '你吃饭了没',
      '气死我了，又堵车',
      '谢谢大家的帮助',
      'I love this so much',
      'this is awful',
    ];
    const [a, b] = await Promise.all([withChannel.signals(texts), without.signals(texts)]);
    const channel = await load();
    texts.forEach((text, i) => {
      expect(a[i]!.moderation).toEqual(b[i]!.moderation);
      if (a[i]!.language === 'zh') {
        const mixed = channel.mixed(text, b[i]!.sentiment.scores);
        const expected = softmax([mixed.negative, mixed.neutral, mixed.positive]);
        expect(a[i]!.sentiment.scores.negative).toBeCloseTo(expected[0]!, 6);
        expect(a[i]!.sentiment.scores.positive).toBeCloseTo(expected[2]!, 6);
      } else {
        expect(a[i]!.sentiment).toEqual(b[i]!.sentiment);
      }
    });
    // "Have you eaten?": the graph, which never saw chat, reads it as strongly negative; the channel does not.
    expect(b[0]!.sentiment.label).toBe('negative');
    expect(a[0]!.sentiment.label).toBe('neutral');
  });
});
