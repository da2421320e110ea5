import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { schedPolicy } from '../../bench/probe.ts';

const hasChrt = existsSync('/proc/self/stat') && spawnSync('chrt', ['--version']).status === 0;

describe.runIf(hasChrt)("reading a process's scheduling policy (bench/probe.ts)", () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });

  const started = (command: string, args: string[]) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    children.push(child);
    return child.pid!;
  };

  it('GIVEN a child started under chrt -b WHEN its policy is read THEN it is SCHED_BATCH, and a plain child has ours', async () => {
    const batch = started('chrt', ['-b', '0', 'sleep', '30']);
    const plain = started('sleep', ['30']);
    // chrt sets the policy and then execs sleep: wait for the exec, or /proc still shows chrt.
    for (let i = 0; i < 50 && schedPolicy(batch) !== 'SCHED_BATCH'; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(schedPolicy(batch)).toBe('SCHED_BATCH');
    expect(schedPolicy(plain)).toBe(schedPolicy(process.pid));
    expect(['SCHED_OTHER', 'SCHED_BATCH', 'SCHED_IDLE']).toContain(schedPolicy(process.pid));
  });

  it('GIVEN a pid no process has WHEN its policy is read THEN the answer is null, not a guess', () => {
    expect(schedPolicy(2 ** 22 + 12345)).toBeNull();
  });
});
