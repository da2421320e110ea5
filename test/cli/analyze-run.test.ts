import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runAnalyze } from '../../app/cli/analyze.ts';
import { defaultSettings } from '../../src/domain/settings.ts';
import { FakeEngine } from '../worker/fake-engine.ts';

/** runAnalyze with the rule-based test engine: ordering, errors and backpressure without real models. */
async function analyze(
  input: Array<string | Buffer>,
  options: { reply?: boolean; chunkSize?: number; engine?: FakeEngine } = {},
) {
  const output = new PassThrough();
  const lines: string[] = [];
  let buffered = '';
  output.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
  });
  const summary = await runAnalyze({
    input: Readable.from(input),
    output,
    engine: options.engine ?? new FakeEngine(),
    settings: defaultSettings({ replyMode: options.reply ? 'mention' : 'off' }),
    json: true,
    reply: options.reply ?? false,
    replyBatchSize: 8,
    chunkSize: options.chunkSize ?? 16,
  });
  return { summary, results: lines.map((l) => JSON.parse(l)) };
}

describe('runAnalyze', () => {
  it('GIVEN 1,000 lines THEN 1,000 results in input order', async () => {
    const input = Array.from({ length: 1000 }, (_, i) => `message number ${i}\n`);
    const { summary, results } = await analyze(input, { chunkSize: 64 });
    expect(summary.lines).toBe(1000);
    expect(results.map((r) => r.line)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(results.map((r) => r.text)).toEqual(input.map((l) => l.trim()));
  });

  it('GIVEN a garbage line among good ones THEN an error object in its place and the rest analysed', async () => {
    const { results } = await analyze([
      'good one\n',
      Buffer.from([0xc3, 0x28, 0x0a]),
      '{"text": 5}\n',
      'you idiot\n',
    ]);
    expect(results[0]).toMatchObject({ line: 1, text: 'good one' });
    expect(results[1]).toEqual({ line: 2, error: expect.stringContaining('UTF-8') });
    expect(results[2]).toEqual({ line: 3, error: expect.stringContaining('"text"') });
    expect(results[3]).toMatchObject({ line: 4, moderation: { flagged: true, reasons: ['idiot'] } });
  });

  it('GIVEN the documented shape THEN every field is there, reply only with --reply', async () => {
    const without = (await analyze(['thanks, great work\n'])).results[0];
    expect(Object.keys(without)).toEqual(['line', 'text', 'language', 'sentiment', 'moderation', 'topics']);
    expect(without.language).toBe('en');
    expect(without.sentiment.label).toBe('positive');
    expect(Object.keys(without.moderation)).toEqual(['flagged', 'labels', 'flaggedLabels', 'reasons']);
    const withReply = (await analyze(['thanks, great work\n'], { reply: true })).results[0];
    expect(typeof withReply.reply).toBe('string');
  });

  it('GIVEN a line in a language moderation cannot read THEN abstained, no sentiment, and the summary counts it', async () => {
    const { results, summary } = await analyze([
      '你这个笨蛋 idiot 我讨厌你\n',
      'you idiot\n',
      '你真是个白痴\n',
    ]);
    expect(results[0]).toMatchObject({
      language: 'zh',
      sentiment: null,
      sentimentAbstained: 'language',
      moderation: { flagged: false, labels: {}, flaggedLabels: [], abstained: 'language' },
    });
    expect(results[1]).toMatchObject({ language: 'en', moderation: { flagged: true } });
    // The model abstains; the rules read every language (builtin:insult-zh).
    expect(results[2]).toMatchObject({
      language: 'zh',
      moderation: { flagged: true, labels: {}, flaggedLabels: ['offensive'], abstained: 'language' },
    });
    expect(summary.skipped).toEqual({ zh: 2 });
  });

  it('GIVEN a text that breaks its batch THEN only that line reports the error', async () => {
    const engine = new FakeEngine();
    engine.poisonWord = 'poison';
    const { results } = await analyze(['fine\n', 'poison\n', 'also fine\n'], { engine });
    expect(results[0]).toMatchObject({ text: 'fine' });
    expect(results[1]).toEqual({ line: 2, error: expect.stringContaining('analysis failed') });
    expect(results[2]).toMatchObject({ text: 'also fine' });
  });
});
