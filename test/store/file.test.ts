import { mkdtempSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { localSettingsDefaults } from '../../src/store/defaults.ts';
import { FileStore } from '../../src/store/file.ts';
import { flag, storeContract } from './contract.ts';

storeContract('file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steward-store-'));
  return {
    open: (options) =>
      new FileStore({ dir, ...(options?.localDefaults ? { defaults: localSettingsDefaults } : {}) }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

it('GIVEN a torn last line in flags.jsonl THEN the store starts with the earlier records', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steward-store-'));
  try {
    const store = new FileStore({ dir });
    await store.start();
    await store.recordFlag(flag('f1'));
    await store.stop();
    const log = join(dir, 'flags.jsonl');
    await writeFile(log, `${await readFile(log, 'utf8')}{"id":"f2","plat`);
    const again = new FileStore({ dir });
    await again.start();
    expect((await again.getFlag('f1'))?.id).toBe('f1');
    expect(await again.getFlag('f2')).toBeNull();
    await again.stop();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it('GIVEN the data folder THEN settings.json is readable JSON an operator can inspect', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steward-store-'));
  try {
    const store = new FileStore({ dir });
    await store.start();
    await store.updateSettings('local', 'local', (s) => ({ ...s, replyMode: 'off' }));
    await store.stop();
    const saved = JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8'));
    expect(saved['local:local'].replyMode).toBe('off');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
