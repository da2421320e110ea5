import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { bundledModelsPresent, MISSING_MODELS } from '../support/stack.ts';
import { runSteward } from './spawn.ts';

const present = bundledModelsPresent();
if (!present) console.warn(`steward local CLI tests: ${MISSING_MODELS}`);

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});
const freshData = () => {
  const dir = mkdtempSync(join(tmpdir(), 'steward-local-cli-'));
  dirs.push(dir);
  return dir;
};

describe.skipIf(!present)('npm start with piped input (bundled models)', () => {
  it('GIVEN the README example THEN a reply for the first line, an alert for the second, exit 0', async () => {
    const ran = await runSteward(['local'], 'steward, any good movies lately?\nyou are an idiot\n', {
      STEWARD_DATA_DIR: freshData(),
    });
    expect(ran.code, ran.stderr).toBe(0);
    const out = ran.stdout.split('\n');
    const second = out.indexOf('you: you are an idiot');
    expect(out[0]).toBe('you: steward, any good movies lately?');
    expect(second).toBeGreaterThan(0);
    expect(out.slice(0, second).some((l) => l.startsWith('steward: '))).toBe(true);
    expect(out.slice(second).some((l) => l.includes('alert for moderators'))).toBe(true);
    expect(out.slice(second).some((l) => l.includes('words:'))).toBe(true);
  });

  it('GIVEN admin commands THEN they change settings that survive a restart', async () => {
    const dir = freshData();
    const first = await runSteward(['local'], '/topics add movies films, cinema and what to watch\n', {
      STEWARD_DATA_DIR: dir,
    });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('Added topic `movies`');
    const second = await runSteward(['local'], '/topics list\n', { STEWARD_DATA_DIR: dir });
    expect(second.stdout).toContain('`movies` — films, cinema and what to watch');
  });

  it('GIVEN models that cannot load THEN exit 1 with the setting to change', async () => {
    const ran = await runSteward(['local'], 'hi\n', {
      STEWARD_DATA_DIR: freshData(),
      STEWARD_MODEL_SIGNALS: '/nope',
    });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain('STEWARD_MODEL_SIGNALS');
  });

  it('GIVEN SIGTERM while stdin is still open THEN it stops cleanly with exit 0', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, STEWARD_DATA_DIR: freshData() };
    delete env.LOG_LEVEL;
    const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli/main.ts', 'local'], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    let stdout = '';
    const answered = new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        if (stdout.includes('you: hello')) resolve();
      });
    });
    child.stdin.write('hello\n');
    await answered;
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
