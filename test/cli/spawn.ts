import { spawn } from 'node:child_process';

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `steward <args>` as a user would (a child process through tsx), feeding `input` on stdin. */
export function runSteward(
  args: string[],
  input: string | Buffer,
  env: NodeJS.ProcessEnv = {},
): Promise<Ran> {
  return runNode(['--import', 'tsx', 'app/cli/main.ts', ...args], input, env);
}

/** Runs `node <args>` as a child process with the test's environment (minus LOG_LEVEL), feeding `input`. */
export function runNode(args: string[], input: string | Buffer, env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const inherited = { ...process.env };
    delete inherited.LOG_LEVEL; // the command's own default (quiet) applies
    const child = spawn(process.execPath, args, {
      env: { ...inherited, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => {}); // the child may exit before reading everything
    child.stdin.end(input);
  });
}
