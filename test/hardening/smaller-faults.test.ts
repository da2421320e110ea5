import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalApp, workerLabels } from '../../app/app.ts';
import { runAnalyze, toSummary } from '../../app/cli/analyze.ts';
import { parseCommand } from '../../src/commands/parse.ts';
import { loadConfig } from '../../src/config.ts';
import { MAX_TEXT_LENGTH } from '../../src/domain/message.ts';
import { defaultSettings } from '../../src/domain/settings.ts';
import { createLogger } from '../../src/logger.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { FakeEngine } from '../worker/fake-engine.ts';

// Issue 13, fault 7: the smaller ones.
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('config threshold values', () => {
  it.each(['0x1', '1e0', '0b1', '0o1', 'Infinity', '-0', '1.5', '+1', '101%'])(
    'GIVEN "%s" THEN refused',
    (value) => {
      expect(() => parseCommand(`config threshold offensive ${value}`)).toThrow(/not a number from 0 to 1/);
    },
  );
  it.each([
    ['0.7', 0.7],
    ['1', 1],
    ['.5', 0.5],
    ['70%', 0.7],
    ['0', 0],
  ])('GIVEN "%s" THEN %s', (value, expected) => {
    expect(parseCommand(`config threshold offensive ${value}`)).toMatchObject({ value: expected });
  });
});

describe('analyze input and output', () => {
  async function analyze(input: string, json = true): Promise<string> {
    const output = new PassThrough();
    let out = '';
    output.on('data', (chunk) => {
      out += chunk;
    });
    await runAnalyze({
      input: Readable.from([input]),
      output,
      engine: new FakeEngine(),
      settings: defaultSettings(),
      json,
      reply: false,
      replyBatchSize: 4,
    });
    return out;
  }

  it('GIVEN a JSONL text of 40,000 characters written as \\uXXXX escapes THEN it is measured decoded and analysed', async () => {
    const escaped = '\\u0061'.repeat(MAX_TEXT_LENGTH);
    const out = await analyze(`{"text":"${escaped}"}\n`);
    const result = JSON.parse(out.trim());
    expect(result.error).toBeUndefined();
    expect(result.text).toHaveLength(MAX_TEXT_LENGTH);
  });

  it('GIVEN C1 controls and right-to-left overrides THEN the readable output shows none of them', async () => {
    const out = await analyze('evil \u202egnp.exe\u202c and \u0085\u009b31m red \u2066x\u2069\n', false);
    expect(out).not.toMatch(/[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(out).toContain('gnp.exe');
    const line = toSummary({
      line: 1,
      text: 'a\u202eb',
      language: 'en',
      sentiment: { label: 'neutral', scores: { neutral: 1 } },
      moderation: {
        flagged: true,
        labels: { insult: 0.9 },
        flaggedLabels: ['insult'],
        reasons: ['\u202eidiot'],
      },
      topics: [{ name: 'x\u0085', score: 1 }],
      reply: 'r\u202e',
    });
    expect(line).not.toMatch(/[\u0080-\u009f\u202a-\u202e]/);
  });
});

describe('local mode refuses what analyze refuses', () => {
  async function chat(lines: string[]): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'steward-hardening-local-'));
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
      { engine: new FakeEngine() },
    );
    await app.start();
    await adapter.finished();
    await app.stop();
    return printed;
  }

  it('GIVEN a 5 MB line and binary garbage THEN both are refused, not echoed whole, not flagged', async () => {
    const huge = `you idiot ${'x'.repeat(5_000_000)}`;
    const garbage = '\u0001\u0002\u00ff\ufffd\u0000binary\u0007idiot';
    const out = await chat([huge, garbage, 'hello there']);
    expect(out.length).toBeLessThan(5_000);
    expect(out.match(/✗ not sent: message is longer than 40000 characters/g)).toHaveLength(1);
    expect(out).toMatch(/✗ not sent: line holds control characters/);
    expect(out).not.toMatch(/alert for moderators/);
    expect(out).toContain('you: hello there');
  }, 60_000);
});

describe('distributed steward bot knows the workers’ labels', () => {
  it('GIVEN a worker heartbeat naming its labels THEN the bot’s label list (read by slash commands) holds them', async () => {
    const store = new MemoryStore();
    await store.start();
    const base = { host: 'h', pid: 1, startedAt: 1, at: Date.now(), device: 'cpu', models: [], processed: 0 };
    await store.heartbeat({ ...base, id: 'w1', labels: ['insult', 'threat'] }, 60_000);
    await store.heartbeat({ ...base, id: 'w2', labels: ['offensive'] }, 60_000);
    const labels: string[] = [];
    const component = workerLabels(store, labels, createLogger({ level: 'silent' }));
    await component.start();
    await component.stop();
    await store.stop();
    expect(labels).toEqual(['insult', 'offensive', 'threat']);
  });
});

describe('a wrong Redis password', () => {
  const port = () =>
    new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });

  it('GIVEN a Redis with a password WHEN REDIS_URL has the wrong one THEN the error says so, without the password', async () => {
    const p = await port();
    const redis = spawn(
      'redis-server',
      [
        '--port',
        String(p),
        '--bind',
        '127.0.0.1',
        '--requirepass',
        'right-pw',
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, 400));
      for (const [url, reason] of [
        [`redis://:wrong-pw@127.0.0.1:${p}`, /refused the password.*REDIS_URL/],
        [`redis://127.0.0.1:${p}`, /requires a password.*NOAUTH/],
      ] as const) {
        const store = new RedisStore({ url, prefix: 'hardening-auth' });
        const error = await store.start().then(
          () => null,
          (e: Error) => e,
        );
        await store.stop().catch(() => {});
        expect(error?.message).toMatch(reason);
        expect(error?.message).not.toContain('wrong-pw');
      }
    } finally {
      redis.kill('SIGTERM');
    }
  });
});
