import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLocalApp } from '../../app/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { createLocalEngine, type LocalEngine } from '../../models/runtime/index.ts';
import { hasModel, testConfig } from '../../models/runtime/testing.ts';
import { DefaultGroundingOptions } from '../../worker/library/answer.ts';
import { InstrumentedEngine } from '../worker/instrumented-engine.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

// The bundled ONNX models, loaded once for the file; each chat gets them through a wrapper whose start/stop
// leave them loaded (and which can inject a failure).
let models: LocalEngine;
beforeAll(async () => {
  if (!present) return;
  models = createLocalEngine(testConfig({}, { maxReplyTokens: 8 }), createLogger({ level: 'silent' }));
  await models.start();
}, 120_000);
afterAll(() => models?.stop());
const present = hasModel('signals') && hasModel('reply');

/** Whether the models flag a line at the default thresholds (a flagged line gets an alert, never a reply). */
async function flagged(texts: string[]): Promise<boolean[]> {
  const thresholds = models.defaults().thresholds;
  return (await models.signals(texts)).map((s) =>
    Object.entries(s.moderation).some(([label, score]) => score >= (thresholds[label] ?? 0.5)),
  );
}

/** Runs local mode over piped lines with the bundled models; returns what it printed. */
async function chat(lines: string[], engine = new InstrumentedEngine(models)): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'steward-local-'));
  dirs.push(dir);
  const config = loadConfig({ env: { STEWARD_DATA_DIR: dir } });
  const output = new PassThrough();
  let printed = '';
  output.on('data', (chunk) => {
    printed += chunk;
  });
  const { app, chat: adapter } = createLocalApp(
    config,
    createLogger({ level: 'silent' }),
    { input: Readable.from(lines.map((l) => `${l}\n`)), output, interactive: false },
    { engine },
  );
  await app.start();
  await adapter.finished();
  await app.stop();
  return printed.trimEnd().split('\n');
}

describe.skipIf(!present)('local chat (bundled models)', () => {
  it('GIVEN a line addressed to steward THEN a tag and a reply are printed under it', async () => {
    const line = 'steward, any good movies lately?';
    const [signals] = await models.signals(['any good movies lately?']);
    const [isFlagged] = await flagged(['any good movies lately?']);
    const out = await chat([line]);
    expect(out[0]).toBe(`you: ${line}`);
    expect(
      out.some((l) => / (negative|neutral|positive)$/.test(l) && l.endsWith(` ${signals!.sentiment.label}`)),
    ).toBe(true);
    expect(out.filter((l) => l.startsWith('steward: ') && l.length > 'steward: '.length)).toHaveLength(
      isFlagged ? 0 : 1,
    );
  });

  it('GIVEN an empty library THEN a request gets "I don\'t know", English small talk a human line, Chinese small talk a notice, all in the member\'s language', async () => {
    const texts = ['where should I go on holiday?', 'how was your weekend?', '你好', '明天会下雨吗？'];
    expect(await flagged(texts)).toEqual([false, false, false, false]);
    const out = await chat(texts.map((t) => `steward, ${t}`));
    // The line printed after "you: …" that is a reply (tags come between).
    const replyTo = (text: string) =>
      out.slice(out.indexOf(`you: steward, ${text}`) + 1).find((l) => /^(steward|you): /.test(l));
    expect(replyTo(texts[0]!)).toBe(`steward: ${DefaultGroundingOptions.emptyText}`);
    expect(replyTo(texts[1]!)).toMatch(/^steward: /);
    expect(replyTo(texts[1]!)).not.toContain("I don't know");
    // In Chinese: "steward, 明天会下雨吗？" was read as English (more Latin letters than Han) and answered in English.
    expect(replyTo(texts[2]!)).toBe(`steward: ${DefaultGroundingOptions.translations.zh.otherLanguageText}`);
    expect(replyTo(texts[3]!)).toBe(`steward: ${DefaultGroundingOptions.translations.zh.emptyText}`);
  });

  it('GIVEN "@steward" or "Steward:" THEN it counts as addressed too', async () => {
    const out = await chat(['@steward hi', 'Steward: hello', 'just chatting']);
    const unflagged = (await flagged(['hi', 'hello'])).filter((f) => !f).length;
    expect(out.filter((l) => l.startsWith('steward: '))).toHaveLength(unflagged);
    expect(unflagged).toBeGreaterThan(0);
  });

  it('GIVEN an insult THEN a moderator alert with the words that drove it', async () => {
    // The candidate the model scores most toxic, and a workspace threshold just under its score.
    const candidates = [
      'you are an idiot and nobody here wants you around',
      'shut up you stupid worthless loser',
    ];
    const best = (await models.signals(candidates))
      .flatMap((s, i) => Object.entries(s.moderation).map(([label, score]) => ({ i, label, score, s })))
      .sort((a, b) => b.score - a.score)[0]!;
    const threshold = Math.max(0.01, Math.floor((best.score - 0.01) * 100) / 100);
    const text = candidates[best.i]!;
    const out = await chat([`/config threshold ${best.label} ${threshold}`, `steward, ${text}`]);
    expect(out.some((l) => l.includes('alert for moderators'))).toBe(true);
    const words = best.s.attributions[best.label] ?? [];
    const why = words.length > 0 ? ` — words: ${words.slice(0, 5).join(', ')}` : '';
    expect(out).toContain(`    ${best.label} ${Math.round(best.score * 100)}%${why}`);
    expect(out.some((l) => l.startsWith('steward: '))).toBe(false);
  });

  it('GIVEN many lines THEN each line’s output follows it, in input order', async () => {
    const lines = Array.from({ length: 40 }, (_, i) =>
      i % 3 === 0 ? `steward, what about question ${i}?` : `line ${i}`,
    );
    const out = await chat(lines);
    const echoes = out.filter((l) => l.startsWith('you: ')).map((l) => l.slice(5));
    expect(echoes).toEqual(lines);
    // Each line's own output sits between its echo and the next echo: a question (unless the models flag it)
    // has exactly one reply there, any other line none.
    const isFlagged = await flagged(lines.map((l) => l.replace(/^steward, /, '')));
    const blocks = out.reduce<string[][]>((acc, l) => {
      if (l.startsWith('you: ')) acc.push([]);
      else acc.at(-1)?.push(l);
      return acc;
    }, []);
    expect(blocks).toHaveLength(lines.length);
    const repliesPerLine = blocks.map((b) => b.filter((l) => l.startsWith('steward: ')).length);
    expect(repliesPerLine).toEqual(lines.map((l, i) => (l.startsWith('steward, ') && !isFlagged[i] ? 1 : 0)));
  });

  it('GIVEN /topics add before a message on that topic THEN the message gets a topic reply', async () => {
    // The message is the topic's own text, so it matches (cosine 1) whatever the model's threshold. It is a remark,
    // not a request for information: with nothing in the library, a request on a topic gets no reply.
    const out = await chat([
      '/config replies topics',
      '/topics add movies I love films and cinema',
      'movies: I love films and cinema',
    ]);
    expect(out).toContain('  Added topic `movies`: I love films and cinema');
    const [isFlagged] = await flagged(['movies: I love films and cinema']);
    expect(out.filter((l) => l.startsWith('steward: '))).toHaveLength(isFlagged ? 0 : 1);
  });

  it('GIVEN a bad admin command THEN the hint is printed and the chat goes on', async () => {
    const out = await chat(['/config mode loud', 'hello']);
    expect(out.some((l) => l.includes('✗') && l.includes('config mode suggest|auto-hide'))).toBe(true);
    expect(out).toContain('you: hello');
  });

  it('GIVEN the models fail for a line THEN the line says so and later lines still print', async () => {
    const engine = new InstrumentedEngine(models);
    engine.poisonWord = 'poison';
    const out = await chat(['poison pill', 'fine line'], engine);
    expect(out.some((l) => l.includes('could not analyse'))).toBe(true);
    expect(out).toContain('you: fine line');
  });
});
