import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundledModelsPresent } from '../support/stack.ts';
import { runNode } from './spawn.ts';

// A resolve hook that refuses tsx: the compiled entry point must not need it (it is a dev dependency).
const NO_TSX_HOOKS = `export async function resolve(specifier, context, next) {
  if (specifier === 'tsx' || specifier.startsWith('tsx/')) throw new Error('tsx was loaded: ' + specifier);
  return next(specifier, context);
}`;
const NO_TSX = `import { register } from 'node:module'; register(${JSON.stringify(
  `data:text/javascript,${encodeURIComponent(NO_TSX_HOOKS)}`,
)});`;

describe('the compiled CLI (dist/, as production runs it)', () => {
  beforeAll(() => {
    // `npm ci` builds dist/ (the prepare script); a checkout that skipped it builds here.
    if (!existsSync('dist/app/cli/main.js')) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json']);
  }, 240_000);

  it.runIf(bundledModelsPresent())(
    'GIVEN bin/steward.js analyze --json WHEN tsx cannot load THEN it analyses plain and "{"-lines',
    async () => {
      const lines = ['{New Post} Yolanda Adams and Common singing at the show', '{"text":"hello there"}'];
      const ran = await runNode(
        [
          '--import',
          `data:text/javascript,${encodeURIComponent(NO_TSX)}`,
          'bin/steward.js',
          'analyze',
          '--json',
          '-',
        ],
        `${lines.join('\n')}\n`,
      );
      expect(ran.stderr).not.toContain('tsx was loaded');
      expect(ran.code).toBe(0);
      const out = ran.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { line: number; text?: string; error?: string });
      expect(out.map((o) => [o.line, o.text, o.error])).toEqual([
        [1, lines[0], undefined],
        [2, 'hello there', undefined],
      ]);
    },
    120_000,
  );
});
