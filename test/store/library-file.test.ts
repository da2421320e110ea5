import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../src/store/file.ts';
import { libraryContract } from './library-contract.ts';

libraryContract('file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steward-library-'));
  return { open: () => new FileStore({ dir }), cleanup: () => rm(dir, { recursive: true, force: true }) };
});
