import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGTERM');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Starts `steward dashboard --port 0` on a fresh file store; resolves with the printed address and link. */
async function startCli(): Promise<{ url: string; link: string; stderr: () => string; child: ChildProcess }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'steward-dashboard-'));
  dirs.push(dir);
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli/main.ts', 'dashboard', '--port', '0'], {
    env: { ...process.env, STEWARD_DATA_DIR: dir, LOG_LEVEL: 'debug', REDIS_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr?.on('data', (c) => {
    err += c;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no sign-in link within 30 s; stderr: ${err}`)), 30_000);
    child.stdout?.on('data', (c) => {
      out += c;
      if (/signin\?token=\S+\n/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  const url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1] ?? '';
  const link = /(http:\/\/\S+\/signin\?token=\S+)/.exec(out)?.[1] ?? '';
  return { url, link, stderr: () => err, child };
}

describe('steward dashboard', () => {
  it('prints its 127.0.0.1 address and a one-time link; /healthz, /metrics, 401 without session, page after sign-in; the token stays out of the log', async () => {
    const { url, link, stderr, child } = await startCli();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(link.startsWith(`${url}signin?token=`)).toBe(true);
    expect((await fetch(`${url}healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${url}metrics`)).text();
    expect(metrics).toMatch(/^steward_queue_jobs\{queue="inbound",state="waiting"\} 0$/m);
    expect(metrics).toMatch(/^steward_process_cpu_seconds_total /m);
    expect(metrics).toMatch(/^# TYPE steward_end_to_end_seconds histogram$/m);
    expect((await fetch(`${url}api/flags?platform=local&workspace=local`)).status).toBe(401);

    const signIn = await fetch(link, { redirect: 'manual' });
    expect(signIn.status).toBe(303);
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!;
    const flags = await fetch(`${url}api/flags?platform=local&workspace=local`, { headers: { cookie } });
    expect(flags.status).toBe(200);
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(403);

    const token = new URL(link).searchParams.get('token')!;
    expect(stderr()).not.toContain(token);
    expect(stderr()).not.toContain(cookie.split('=')[1]!);
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
  });

  it('refuses a bad --port with the usage', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'app/cli/main.ts', 'dashboard', '--port', 'abc'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let err = '';
    child.stderr?.on('data', (c) => {
      err += c;
    });
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(2);
    expect(err).toContain('--port takes a port number');
  });
});
