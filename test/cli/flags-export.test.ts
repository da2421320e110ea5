import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../app/cli/main.ts';
import { FileStore } from '../../src/store/file.ts';
import { STEWARD_ACTOR } from '../../src/store/types.ts';
import { flag } from '../store/contract.ts';
import { memoryIo } from './io.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'steward-flags-'));

/** A store with one flag of every kind a moderator's channel produces. */
beforeAll(async () => {
  const store = new FileStore({ dir: dataDir });
  await store.start();
  const local = { platform: 'local' as const, workspaceId: 'local' };
  await store.recordFlag(flag('open', { ...local, excerpt: 'still waiting' }));
  await store.recordFlag(
    flag('deleted', { ...local, excerpt: 'you are an idiot', flagged: ['offensive', 'insult'] }),
  );
  await store.updateFlag('deleted', { status: 'actioned', actorId: 'mod-1', action: 'delete' });
  await store.recordFlag(flag('dismissed', { ...local, excerpt: 'that movie was sick' }));
  await store.updateFlag('dismissed', { status: 'dismissed', actorId: 'mod-2', action: 'dismiss' });
  // Steward's own auto-hide is its guess, not a moderator's label.
  await store.recordFlag(flag('auto', { ...local, excerpt: 'hidden by steward' }));
  await store.updateFlag('auto', { status: 'actioned', actorId: STEWARD_ACTOR, action: 'auto-hide' });
  // Another workspace's decisions stay out of this export.
  await store.recordFlag(flag('elsewhere', { excerpt: 'discord g1' }));
  await store.updateFlag('elsewhere', { status: 'dismissed', actorId: 'mod-3', action: 'dismiss' });
  await store.stop();
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const run = async (args: string[]) => {
  const io = memoryIo({ STEWARD_DATA_DIR: dataDir });
  const code = await main(['flags', 'export', ...args], io);
  const lines = io
    .out()
    .split('\n')
    .filter((l) => l !== '');
  return { code, rows: lines.map((l) => JSON.parse(l)), err: io.err() };
};

describe('steward flags export', () => {
  it('GIVEN decided flags WHEN exported THEN one labelled example per human decision, flagged labels only', async () => {
    const { code, rows, err } = await run([]);
    expect(code).toBe(0);
    expect(err).toContain('exported 2 moderator decisions');
    const byFlag = Object.fromEntries(rows.map((r) => [r.flag, r]));
    expect(Object.keys(byFlag).sort()).toEqual(['deleted', 'dismissed']);
    expect(byFlag.deleted).toMatchObject({
      text: 'you are an idiot',
      decision: 'actioned',
      labels: { offensive: 1, insult: 1 },
      platform: 'local',
      workspace: 'local',
    });
    expect(byFlag.dismissed).toMatchObject({ decision: 'dismissed', labels: { offensive: 0 } });
    // Nothing about the author travels into a training file.
    expect(JSON.stringify(rows)).not.toMatch(/Una|u1/);
  });

  it('GIVEN --status and another workspace THEN only those decisions', async () => {
    const dismissed = await run(['--status', 'dismissed']);
    expect(dismissed.rows.map((r) => r.flag)).toEqual(['dismissed']);
    const other = await run(['--platform', 'discord', '--workspace', 'g1']);
    expect(other.rows.map((r) => r.flag)).toEqual(['elsewhere']);
  });

  it('GIVEN a bad --status or --platform THEN exit 2 with what to type instead', async () => {
    const io = memoryIo({ STEWARD_DATA_DIR: dataDir });
    expect(await main(['flags', 'export', '--status', 'maybe'], io)).toBe(2);
    expect(io.err()).toContain('--status must be dismissed, actioned or all');
    const io2 = memoryIo({ STEWARD_DATA_DIR: dataDir });
    expect(await main(['flags', 'export', '--platform', 'irc'], io2)).toBe(2);
    expect(io2.err()).toContain('--platform must be one of discord, slack, local');
  });
});
