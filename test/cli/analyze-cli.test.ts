import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundledModelsPresent, MISSING_MODELS } from '../support/stack.ts';
import { runSteward } from './spawn.ts';

const present = bundledModelsPresent();
if (!present) console.warn(`steward analyze CLI tests: ${MISSING_MODELS}`);

const dataDir = mkdtempSync(join(tmpdir(), 'steward-analyze-'));
afterAll(() => rm(dataDir, { recursive: true, force: true }));

const SAMPLES = [
  'what a lovely day it is',
  'you are an idiot',
  'does anyone know a good pizza place downtown?',
  'I hate waiting in line',
  'thanks for the help yesterday!',
];

describe.skipIf(!present)('steward analyze with the bundled models', () => {
  it('GIVEN 10,000 lines THEN exit 0 and 10,000 JSON lines in input order', {
    timeout: 600_000,
  }, async () => {
    const input = Array.from({ length: 10_000 }, (_, i) => `${SAMPLES[i % SAMPLES.length]} #${i}`);
    const ran = await runSteward(['analyze', '--json', '-'], `${input.join('\n')}\n`, {
      STEWARD_DATA_DIR: dataDir,
    });
    expect(ran.code, ran.stderr).toBe(0);
    const out = ran.stdout.trimEnd().split('\n');
    expect(out).toHaveLength(10_000);
    const results = out.map((line) => JSON.parse(line));
    expect(results.map((r) => r.text)).toEqual(input);
    for (const r of results.slice(0, 50)) {
      expect(['negative', 'neutral', 'positive']).toContain(r.sentiment.label);
      expect(typeof r.moderation.flagged).toBe('boolean');
      expect(Array.isArray(r.moderation.reasons)).toBe(true);
    }
    expect(ran.stderr).not.toContain('lines/s'); // no progress bar when stderr is not a terminal
  });

  it('GIVEN a binary line and a bad JSONL line THEN error objects in their places and the rest analysed', async () => {
    const input = Buffer.concat([
      Buffer.from('{"text":"hello there"}\n'),
      Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a]),
      Buffer.from('{"text": broken\n'),
      Buffer.from('{"text":"from a chat export"}\n'),
    ]);
    const ran = await runSteward(['analyze', '--json', '--format', 'jsonl'], input, {
      STEWARD_DATA_DIR: dataDir,
    });
    expect(ran.code, ran.stderr).toBe(0);
    const results = ran.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(results).toHaveLength(4);
    expect(results[0].text).toBe('hello there');
    expect(results[1]).toEqual({ line: 2, error: expect.any(String) });
    expect(results[2]).toEqual({ line: 3, error: expect.stringContaining('JSON') });
    expect(results[3].text).toBe('from a chat export');
  });

  it('GIVEN --reply THEN messages that warrant a reply carry one', { timeout: 120_000 }, async () => {
    const ran = await runSteward(
      ['analyze', '--json', '--reply'],
      'any good movies lately?\nthanks for the help yesterday!\n',
      { STEWARD_DATA_DIR: dataDir },
    );
    expect(ran.code, ran.stderr).toBe(0);
    const results = ran.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(results).toHaveLength(2);
    // Whether a line is flagged is the models' call; the rule checked is ours: a flagged line gets no reply,
    // every other line does.
    expect(results.map((r) => typeof r.reply)).toEqual(
      results.map((r) => (r.moderation.flagged ? 'undefined' : 'string')),
    );
    for (const r of results.filter((x) => typeof x.reply === 'string')) expect(r.reply.trim()).not.toBe('');
  });

  it('GIVEN no --json THEN one readable summary line per message', async () => {
    const ran = await runSteward(['analyze'], 'hello\nthanks a lot\n', { STEWARD_DATA_DIR: dataDir });
    expect(ran.code, ran.stderr).toBe(0);
    const out = ran.stdout.trimEnd().split('\n');
    expect(out[0]).toMatch(/^#1 .*"hello"$/);
    expect(out[1]).toMatch(/^#2 /);
  });
});

describe.skipIf(!present)('steward analyze: moderation in context', () => {
  it('GIVEN "same to you" under a flagged parent THEN it is flagged with the reason; under a kind one, not', {
    timeout: 120_000,
  }, async () => {
    const lines = [
      { text: '+1', parent: 'just kill yourself' },
      { text: 'same to you', parent: 'go kill yourself' },
      { text: 'same to you', parent: 'have a great weekend' },
      { text: 'same to you' },
      { text: 'same to you', parent: 42 },
    ];
    const ran = await runSteward(
      ['analyze', '--json', '-'],
      `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`,
      {
        STEWARD_DATA_DIR: dataDir,
      },
    );
    expect(ran.code, ran.stderr).toBe(0);
    const out = ran.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(out[0].moderation.flaggedLabels).toContain('self_harm');
    expect(out[0].moderation.reasons.join(' ')).toContain('in reply to a message flagged self_harm');
    expect(out[1].moderation.flaggedLabels).toContain('self_harm');
    expect(out[2].moderation.flaggedLabels).toEqual([]);
    expect(out[3].moderation.flaggedLabels).toEqual([]);
    expect(out[4].error).toBe('"parent" must be a string');
  });
});
