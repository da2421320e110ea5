import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalApp } from '../../app/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { FakeEngine } from '../worker/fake-engine.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** Runs local mode over piped lines with the rule-based test engine; returns what it printed. */
async function chat(lines: string[], engine = new FakeEngine()): Promise<string[]> {
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

describe('local chat', () => {
  it('GIVEN a line addressed to steward THEN a tag and a reply are printed under it', async () => {
    const out = await chat(['steward, any good movies lately?']);
    expect(out[0]).toBe('you: steward, any good movies lately?');
    expect(out).toContain('  😐 neutral');
    expect(out.some((l) => l.startsWith('steward: re: any good movies lately?'))).toBe(true);
  });

  it('GIVEN "@steward" or "Steward:" THEN it counts as addressed too', async () => {
    const out = await chat(['@steward hi', 'Steward: hello', 'just chatting']);
    expect(out.filter((l) => l.startsWith('steward: '))).toHaveLength(2);
  });

  it('GIVEN an insult THEN a moderator alert with the words that drove it', async () => {
    const out = await chat(['you are an idiot']);
    expect(out.some((l) => l.includes('alert for moderators'))).toBe(true);
    expect(out.some((l) => l.includes('insult 95% — words: idiot'))).toBe(true);
    expect(out.some((l) => l.startsWith('steward: '))).toBe(false);
  });

  it('GIVEN many lines THEN each line’s output follows it, in input order', async () => {
    const lines = Array.from({ length: 40 }, (_, i) =>
      i % 3 === 0 ? `steward, question ${i}` : `line ${i}`,
    );
    const out = await chat(lines);
    const echoes = out.filter((l) => l.startsWith('you: ')).map((l) => l.slice(5));
    expect(echoes).toEqual(lines);
    // Every reply appears after its own line's echo and before the next one.
    for (let i = 0; i < out.length; i++) {
      const reply = /^steward: re: question (\d+)/.exec(out[i]!);
      if (!reply) continue;
      const previousEcho = out
        .slice(0, i)
        .reverse()
        .find((l) => l.startsWith('you: '));
      expect(previousEcho).toBe(`you: steward, question ${reply[1]}`);
    }
  });

  it('GIVEN /topics add before a message on that topic THEN the message gets a topic reply', async () => {
    const out = await chat([
      '/topics add movies movies films cinema',
      'any good movies films cinema tonight',
    ]);
    expect(out).toContain('  Added topic `movies`: movies films cinema');
    expect(out.some((l) => l.startsWith('steward: ') && l.includes('[movies]'))).toBe(true);
  });

  it('GIVEN a bad admin command THEN the hint is printed and the chat goes on', async () => {
    const out = await chat(['/config mode loud', 'hello']);
    expect(out.some((l) => l.includes('✗') && l.includes('config mode suggest|auto-hide'))).toBe(true);
    expect(out).toContain('you: hello');
  });

  it('GIVEN the models fail for a line THEN the line says so and later lines still print', async () => {
    const engine = new FakeEngine();
    engine.poisonWord = 'poison';
    const out = await chat(['poison pill', 'fine line'], engine);
    expect(out.some((l) => l.includes('could not analyse'))).toBe(true);
    expect(out).toContain('you: fine line');
  });
});
