import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasModel, sourceReadingReplyFolder } from '../../models/runtime/testing.ts';
import { runSteward } from '../cli/spawn.ts';
import { LIBRARY } from './fixtures.ts';

/** The documented contract: `steward library import FILE`, then `steward analyze --json --reply` cites sources. */
describe.skipIf(!hasModel('signals') || !hasModel('reply'))(
  'steward library import + analyze --reply',
  () => {
    let dir: string;
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'steward-libcli-'));
      env = { STEWARD_DATA_DIR: join(dir, 'data'), STEWARD_THREADS: '1' };
      await writeFile(
        join(dir, 'library.jsonl'),
        `${LIBRARY.map((i) => JSON.stringify(i)).join('\n')}\n{oops\n`,
      );
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('GIVEN a JSONL file with one bad line THEN the good items are imported into the local workspace', async () => {
      const ran = await runSteward(['library', 'import', join(dir, 'library.jsonl')], '', env);
      expect(ran.code).toBe(0);
      expect(JSON.parse(ran.stdout)).toMatchObject({
        imported: LIBRARY.length,
        skipped: 1,
        workspace: 'local',
      });
      expect(ran.stderr).toContain(`line ${LIBRARY.length + 1}`);
      const listed = await runSteward(['library', 'list'], '', env);
      expect(
        listed.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).id),
      ).toEqual(LIBRARY.map((i) => i.id).sort());
    });

    it('GIVEN the imported library THEN analyze --json --reply answers a covered question with its source, and an uncovered one without', async () => {
      const input = 'when is the next monthly meetup?\nwhat is the boiling point of mercury in kelvin?\n';
      const ran = await runSteward(['analyze', '--json', '--reply'], input, env);
      expect(ran.code, ran.stderr).toBe(0);
      const [covered, uncovered] = ran.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(covered.sources).toEqual([
        { id: 'meetup', title: 'Monthly meetup', url: 'https://example.org/meetup' },
      ]);
      expect(covered.reply).toContain('(source: Monthly meetup — https://example.org/meetup)');
      expect(uncovered.sources).toEqual([]);
      expect(uncovered.reply).toMatch(/don't know/);
      // The bundled answer model wrote it and read the passage: its attention is reported, over the passage only.
      const passage = new Set(LIBRARY[0]!.text.split(/\s+/).map((w) => w.replace(/^\W+|\W+$/gu, '')));
      expect(covered.attention.length).toBeGreaterThan(0);
      for (const { word } of covered.attention) expect(passage.has(word), word).toBe(true);
      expect(uncovered.attention).toBeUndefined();
    }, 180_000);

    it('GIVEN no answer model and a reply model that reads sources THEN analyze --json --reply weighs the passage words of a covered answer, and nothing for an uncovered one', async () => {
      const model = sourceReadingReplyFolder();
      try {
        const input = 'when is the next monthly meetup?\nwhat is the boiling point of mercury in kelvin?\n';
        const ran = await runSteward(['analyze', '--json', '--reply'], input, {
          ...env,
          STEWARD_MODEL_ANSWER: 'off',
          STEWARD_MODEL_REPLY: model,
        });
        expect(ran.code, ran.stderr).toBe(0);
        const [covered, uncovered] = ran.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
        expect(covered.sources.map((s: { id: string }) => s.id)).toEqual(['meetup']);
        const passage = new Set(LIBRARY[0]!.text.split(/\s+/).map((w) => w.replace(/^\W+|\W+$/gu, '')));
        expect(covered.attention.length).toBeGreaterThan(0);
        expect(covered.attention.length).toBeLessThanOrEqual(12);
        for (const { word, weight } of covered.attention) {
          expect(passage.has(word), word).toBe(true);
          expect(weight).toBeGreaterThan(0);
          expect(weight).toBeLessThanOrEqual(1);
        }
        expect(uncovered.attention).toBeUndefined();
      } finally {
        rmSync(model, { recursive: true, force: true });
      }
    }, 180_000);
  },
);
