import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NODE_FLAGS } from '../../app/node-flags.ts';

// Node takes these flags only on its command line, so each way of starting Steward writes them out itself.
describe('the node flags Steward starts with (app/node-flags.ts)', () => {
  const flags = NODE_FLAGS.join(' ');

  it('GIVEN bin/steward.js run as a program (npx steward) THEN its first line passes them to node', () => {
    const [shebang] = readFileSync('bin/steward.js', 'utf8').split('\n');
    expect(shebang).toBe(`#!/usr/bin/env -S node ${flags}`);
  });

  it('GIVEN the steward and start scripts THEN they pass them to node', () => {
    const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(scripts.steward).toBe(`node ${flags} bin/steward.js`);
    expect(scripts.start).toBe(`node ${flags} bin/steward.js local`);
  });

  it('GIVEN the Docker image, CPU and GPU THEN both entry points pass them to node', () => {
    const entrypoints = readFileSync('Dockerfile', 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('ENTRYPOINT'));
    expect(entrypoints).toHaveLength(2);
    for (const line of entrypoints)
      expect(JSON.parse(line.slice('ENTRYPOINT'.length))).toEqual(['node', ...NODE_FLAGS, 'bin/steward.js']);
  });
});
