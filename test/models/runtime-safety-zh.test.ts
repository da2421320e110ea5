import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalEngine } from '../../models/runtime/index.ts';
import { normalise, SafetyChannel, SafetyMetaSchema } from '../../models/runtime/safety-zh.ts';
import { ModelLoadError } from '../../models/runtime/settings.ts';
import { enginesBeside, hasModel, modelFolder } from '../../models/runtime/testing.ts';

const folder = modelFolder('signals');
const steward = hasModel('signals')
  ? JSON.parse(readFileSync(path.join(folder, 'config.json'), 'utf8')).steward
  : undefined;
const meta = SafetyMetaSchema.parse(
  steward?.safety_channel ?? { file: 'none', languages: ['zh'], outputs: ['threat'] },
);
const load = () => SafetyChannel.load({ role: 'signals', location: folder, local: true }, meta);

describe.skipIf(!steward?.safety_channel)('the Chinese safety channel', () => {
  it('reads the text with spaces removed, NFKC-folded and lower-cased, by code point', () => {
    expect(normalise('杀 了\u3000你', 300)).toEqual(['杀', '了', '你']);
    expect(normalise('ＩＰ都扒出来了', 300).slice(0, 2)).toEqual(['i', 'p']);
    expect(normalise('😂你好', 2)).toEqual(['😂', '你']);
  });

  it('GIVEN the parity cases safety_zh.py wrote THEN the runtime gives the same scores', async () => {
    const channel = await load();
    expect(meta.parity.length).toBeGreaterThan(5);
    for (const c of meta.parity) {
      const got = channel.read(c.text).probabilities;
      expect(got.length).toBe(c.probabilities.length);
      c.probabilities.forEach((p, j) => {
        expect(Math.abs(got[j]! - p), `${c.text} class ${j}`).toBeLessThan(1e-4);
      });
    }
  });

  it('GIVEN a threat no built-in rule names THEN threat is its strongest output, with the words behind it', async () => {
    const channel = await load();
    const threshold = steward.thresholds_by_language.zh.default_thresholds.threat;
    const reading = channel.read('等着收尸吧你');
    expect(reading.scores.threat).toBeGreaterThanOrEqual(threshold);
    expect(reading.scores.threat).toBeGreaterThan(reading.scores.self_harm!);
    const words = reading.words('threat');
    expect(words.length).toBeGreaterThan(0);
    expect(words[0]!.weight).toBe(1);
    expect(words.map((w) => w.word).join('')).toMatch(/收尸/);
  });

  it('GIVEN everyday lines with alarming characters THEN neither output reaches its threshold', async () => {
    const channel = await load();
    const zh = steward.thresholds_by_language.zh.default_thresholds;
    for (const text of ['今晚吃火锅', '杀毒软件提示有病毒', '剧本杀有人约吗', '笑死我了', '']) {
      const { scores } = channel.read(text);
      expect(scores.threat, text).toBeLessThan(zh.threat);
      expect(scores.self_harm, text).toBeLessThan(zh.self_harm);
    }
  });

  it('GIVEN a line shorter than min_chars THEN the channel reads nothing into it (no labels, no cap)', async () => {
    const channel = await load();
    expect(meta.min_chars).toBeGreaterThan(2);
    for (const text of ['你猜', '等你', '你 呢']) {
      const reading = channel.read(text);
      expect(reading.scores).toEqual({ threat: 0, self_harm: 0 });
      expect(reading.cap).toBe(1);
      expect(reading.probability('offensive')).toBe(0);
      expect(reading.words('threat')).toEqual([]);
    }
  });

  it('GIVEN a channel file that does not match its config THEN loading fails with a clear error', async () => {
    await expect(
      SafetyChannel.load(
        { role: 'signals', location: folder, local: true },
        { ...meta, file: 'missing.json' },
      ),
    ).rejects.toBeInstanceOf(ModelLoadError);
    const file = { version: 'x', max_chars: 5, ngrams: [1, 2], vocab: 'a', bias: [0, 0, 0] };
    const classes = ['none', 'threat', 'self_harm'];
    expect(() => new SafetyChannel(meta, { ...file, classes, idf: [], weights: [] })).toThrow(
      /sizes do not agree/,
    );
    expect(
      () =>
        new SafetyChannel(meta, {
          ...file,
          classes: ['threat', 'none', 'self_harm'],
          idf: [1],
          weights: [0, 0, 0],
        }),
    ).toThrow(/first class/);
  });
});

describe.skipIf(!steward?.safety_channel)('the safety channel in the runtime', () => {
  let withChannel: LocalEngine;
  let without: LocalEngine;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({
      shipped: withChannel,
      edited: without,
      stop,
    } = await enginesBeside(({ safety_channel: _, ...rest }) => rest, 'q8'));
  });
  afterAll(() => stop?.());

  it('GIVEN Chinese text THEN threat and self_harm are added, every graph label is capped at the channel reading of abuse and offensive raised to its offensive class; English is untouched', async () => {
    const texts = [
      '等着收尸吧你',
      '法院一审以故意杀人罪判处被告人死刑',
      '你就是个傻逼',
      '抱歉抱歉',
      'I will find you',
      'have a nice day',
    ];
    const [a, b] = await Promise.all([withChannel.signals(texts), without.signals(texts)]);
    const channel = await load();
    texts.forEach((text, i) => {
      const { threat, self_harm, ...graph } = a[i]!.moderation;
      const own = b[i]!.moderation;
      expect(Object.keys(graph).sort()).toEqual(Object.keys(own).sort());
      if (a[i]!.language === 'zh') {
        const reading = channel.read(text);
        expect(threat).toBeCloseTo(reading.scores.threat!, 6);
        expect(self_harm).toBeCloseTo(reading.scores.self_harm!, 6);
        for (const [label, score] of Object.entries(graph)) {
          const capped = Math.min(own[label]!, reading.cap);
          const expected =
            label === 'offensive' ? Math.max(capped, reading.probability('offensive')) : capped;
          expect(score, label).toBeCloseTo(expected, 6);
        }
      } else {
        expect([threat, self_harm]).toEqual([undefined, undefined]);
        expect(graph).toEqual(own);
      }
    });
    expect(a[0]!.attributions.threat?.join('')).toMatch(/收尸/);
    // Crime news: the graph reads it as offensive, the channel does not, and the lower reading decides.
    expect(b[1]!.moderation.offensive).toBeGreaterThan(a[1]!.moderation.offensive!);
    expect(a[2]!.moderation.offensive).toBeGreaterThan(0.6);
    // "Sorry, sorry": the graph's hate head never learned Chinese (COLD labels offensive / safe only) and reads it as
    // hate; the channel reads it as benign, and the cap holds it under any threshold. The graph's words stay.
    expect(b[3]!.moderation.hate).toBeGreaterThan(0.73);
    expect(a[3]!.moderation.hate).toBeLessThan(0.2);
    expect(a[3]!.attributions.hate).toEqual(b[3]!.attributions.hate);
  });

  it('GIVEN the engine defaults THEN the channel labels take thresholds (config threshold threat … is accepted)', () => {
    const defaults = withChannel.defaults();
    expect(defaults.labels).toEqual(expect.arrayContaining(['offensive', 'threat', 'self_harm']));
    expect(defaults.thresholdsByLanguage?.zh?.threat).toBe(
      steward.thresholds_by_language.zh.default_thresholds.threat,
    );
  });
});
