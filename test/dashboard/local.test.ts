import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalApp } from '../../app/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { FakeEngine } from '../worker/fake-engine.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function local(interactive: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'steward-dash-local-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = '';
  output.on('data', (c) => {
    printed += c;
  });
  const config = loadConfig({ env: { STEWARD_DATA_DIR: dir } });
  const { app, chat } = createLocalApp(
    config,
    createLogger({ level: 'silent' }),
    { input, output, interactive },
    {
      engine: new FakeEngine(),
    },
  );
  await app.start();
  cleanups.push(() => app.stop());
  return { printed: () => printed, input, chat };
}

describe('the dashboard in local mode', () => {
  it('an interactive session serves it and prints its address and sign-in link', async () => {
    const { printed } = await local(true);
    const url = /Steward dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(printed())?.[1];
    expect(url).toBeDefined();
    expect((await fetch(`${url}healthz`)).status).toBe(200);
    expect(printed()).toMatch(/Sign in \(one-time link\): http:\/\/127\.0\.0\.1:\d+\/signin\?token=/);
  });

  it('a piped session starts no dashboard and still finishes at the end of its input', async () => {
    const { printed, input, chat } = await local(false);
    input.end('hello\n');
    await chat.finished();
    expect(printed()).not.toContain('Steward dashboard');
  });
});
