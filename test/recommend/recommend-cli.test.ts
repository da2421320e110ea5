import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSteward } from '../cli/spawn.ts';
import { bundledModelsPresent, MISSING_MODELS } from '../support/stack.ts';

const present = bundledModelsPresent();
if (!present) console.warn(`steward recommend: ${MISSING_MODELS}`);

const ZH = '我想去一个风景优美、美食丰富的地方度假';
const EN = 'I want to go on holiday somewhere with beautiful scenery and rich food';

/** The contract of issue 11: `steward recommend --json [--each] [--library FILE] [FILE|-]`. */
describe.skipIf(!present)('steward recommend', () => {
  it('GIVEN the travel library THEN the Chinese request and its English translation both get Thailand first, with why', async () => {
    const input = [
      { user: 'mei', text: ZH },
      { user: 'sam', text: EN },
      { user: 'ola', text: 'the glaciers and volcanoes and waterfalls were unreal' },
      { user: 'ola', text: 'we saw the northern lights on our road trip' },
      { user: 'bad', text: 'not json' },
    ]
      .map((l) => (l.user === 'bad' ? l.text : JSON.stringify(l)))
      .join('\n');
    const dir = await mkdtemp(join(tmpdir(), 'steward-rec-cli-'));
    try {
      const ran = await runSteward(
        ['recommend', '--json', '--each', '--library', 'examples/travel-library.jsonl', '-'],
        input,
        { STEWARD_DATA_DIR: dir },
      );
      expect(ran.code, ran.stderr).toBe(0);
      const lines = ran.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      // --each: one line per input line, in order; then one line per user.
      expect(lines.map((l) => l.line ?? l.user)).toEqual([1, 2, 3, 4, 5, 'mei', 'sam', 'ola']);
      expect(lines[4].error).toMatch(/invalid JSON/);
      const [zh, en] = lines;
      expect(zh.recommendations[0]).toMatchObject({ id: 'thailand', title: 'Thailand' });
      expect(zh.recommendations[0].why).toMatch(/you asked about .*风景/);
      expect(en.recommendations[0]).toMatchObject({ id: 'thailand' });
      expect(en.recommendations[0].why).toMatch(/you asked about .*scenery/);
      for (const l of lines.filter((x) => x.recommendations))
        for (const r of l.recommendations)
          expect(Object.keys(r)).toEqual(expect.arrayContaining(['id', 'title', 'score', 'why']));
      const ola = lines.find((l) => l.user === 'ola' && l.line === undefined);
      expect(ola.recommendations[0]).toMatchObject({ id: 'iceland' });
      expect(ola.recommendations[0].why).toMatch(/you talked about/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('GIVEN no library THEN it says how to give one and exits 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'steward-rec-cli-'));
    try {
      const ran = await runSteward(['recommend', '--json'], '{"user":"a","text":"hi"}\n', {
        STEWARD_DATA_DIR: dir,
      });
      expect(ran.code).toBe(2);
      expect(ran.stderr).toMatch(/--library FILE/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
