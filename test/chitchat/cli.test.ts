import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasModel } from '../../models/runtime/testing.ts';
import { runSteward } from '../cli/spawn.ts';

/** The documented contract: `steward analyze --json --reply` answers small talk from the bank, with `"chat"`. */
describe.skipIf(!hasModel('signals') || !hasModel('reply'))('steward analyze --reply on small talk', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'steward-chitchat-'));
    env = { STEWARD_DATA_DIR: join(dir, 'data'), STEWARD_THREADS: '1' };
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('GIVEN a chat line THEN the reply is a human line from the bank and "chat" says where from', async () => {
    const ran = await runSteward(
      ['analyze', '--json', '--reply'],
      'steward, do you like the beatles?\n',
      env,
    );
    expect(ran.code, ran.stderr).toBe(0);
    const result = JSON.parse(ran.stdout.trim());
    expect(result.reply).toMatch(/[a-z]{2,}/i);
    expect(result.reply.split(/\s+/).length).toBeGreaterThanOrEqual(3);
    expect(result.sources).toEqual([]);
    expect(result.chat).toMatchObject({ source: 'self_dialogue', candidates: 100, reranked: 20 });
    expect(result.chat.matched.toLowerCase()).toContain('beatles');
  }, 120_000);

  it('GIVEN STEWARD_CHITCHAT_BANK=off THEN small talk is generated as before, without "chat"', async () => {
    const ran = await runSteward(['analyze', '--json', '--reply'], 'do you like the beatles?\n', {
      ...env,
      STEWARD_CHITCHAT_BANK: 'off',
    });
    expect(ran.code, ran.stderr).toBe(0);
    const result = JSON.parse(ran.stdout.trim());
    expect(result.reply.trim().length).toBeGreaterThan(0);
    expect(result.chat).toBeUndefined();
  }, 120_000);

  it('GIVEN a bank that does not exist THEN it stops at start with an error naming the file and the setting', async () => {
    const ran = await runSteward(['analyze', '--json', '--reply'], 'hello\n', {
      ...env,
      STEWARD_CHITCHAT_BANK: join(dir, 'missing.jsonl.gz'),
    });
    expect(ran.code).toBe(1);
    expect(ran.stdout).toBe('');
    expect(ran.stderr).toMatch(
      /could not load the chit-chat bank: .*missing\.jsonl\.gz cannot be read \(ENOENT\)/,
    );
    expect(ran.stderr).toContain('STEWARD_CHITCHAT_BANK');
  }, 60_000);
});
