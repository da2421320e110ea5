import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);

// In a process of its own: renicing is one-way without privilege, and the test runner must keep its priority.
const SCRIPT = `
import { readdirSync, readFileSync } from 'node:fs';
import { reniceOwnThreads } from './bench/probe.ts';
const niceOf = (tid) => Number(readFileSync('/proc/self/task/' + tid + '/stat', 'utf8').split(') ')[1].split(' ')[16]);
const tids = readdirSync('/proc/self/task');
const before = tids.map(niceOf);
const reniced = reniceOwnThreads(Math.min(19, Math.max(...before) + 3));
const after = readdirSync('/proc/self/task').map(niceOf);
console.log(JSON.stringify({ threads: tids.length, before, reniced, after }));
`;

describe.runIf(existsSync('/proc/self/task'))('the bench process stepping aside (bench/probe.ts)', () => {
  it('GIVEN a process with several threads WHEN reniceOwnThreads runs THEN every one of its threads has the new nice value', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], {
      cwd: ROOT,
      timeout: 30_000,
    });
    const { threads, before, reniced, after } = JSON.parse(stdout.trim()) as {
      threads: number;
      before: number[];
      reniced: number;
      after: number[];
    };
    // Node's main thread, V8's platform workers and libuv's: more than one, or the test shows nothing.
    expect(threads).toBeGreaterThan(1);
    expect(reniced).toBe(after.length);
    const target = Math.min(19, Math.max(...before) + 3);
    expect(after).toEqual(after.map(() => target));
  });
});
