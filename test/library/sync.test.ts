import { describe, expect, it } from 'vitest';
import { MemoryLibrary } from '../../src/store/library.ts';
import { bundledChineseNullLines, NULL_LINES } from '../../worker/library/index.ts';
import { LibraryIndexes } from '../../worker/library/sync.ts';
import { hashEmbed } from '../worker/fake-engine.ts';
import { LIBRARY } from './fixtures.ts';

describe('LibraryIndexes and the library-relative threshold', () => {
  it('GIVEN two workspaces THEN the null queries are embedded once per worker and each index has its own cutoff', async () => {
    const store = new MemoryLibrary();
    await store.putLibraryItems('discord', 'big', LIBRARY);
    await store.putLibraryItems('discord', 'small', LIBRARY.slice(0, 1));
    const embedded: number[] = [];
    const embed = async (texts: string[]) => {
      embedded.push(texts.length);
      return texts.map(hashEmbed);
    };
    const indexes = new LibraryIndexes(store, embed);
    const big = await indexes.index('discord', 'big');
    const small = await indexes.index('discord', 'small');
    const total = embedded.reduce((a, b) => a + b, 0);
    // The null lines (English and Chinese) once, plus at least one passage per item of both workspaces.
    const nullLines = NULL_LINES + bundledChineseNullLines().length;
    expect(total - nullLines).toBeGreaterThanOrEqual(LIBRARY.length + 1);
    expect(total - nullLines).toBeLessThan(NULL_LINES);
    expect(big.cutoff(0.9)).not.toBeNull();
    expect(small.cutoff(0.9)).not.toBeNull();
    expect(big.cutoff(0.9, 'zh')).not.toBeNull();
    // An empty workspace has nothing to answer from and no cutoff.
    expect((await indexes.index('discord', 'empty')).cutoff(0.9)).toBeNull();
  });

  it('GIVEN the null embedding fails once THEN the next sync embeds them again rather than keeping the failure', async () => {
    const store = new MemoryLibrary();
    await store.putLibraryItems('discord', 'w', LIBRARY);
    let fail = true;
    const embed = async (texts: string[]) => {
      if (fail && texts.length > 0 && !LIBRARY.some((i) => texts[0]!.includes(i.title))) {
        fail = false;
        throw new Error('model busy');
      }
      return texts.map(hashEmbed);
    };
    const indexes = new LibraryIndexes(store, embed, { checkMs: 0 });
    await expect(indexes.index('discord', 'w')).rejects.toThrow('model busy');
    expect((await indexes.index('discord', 'w')).cutoff(0.9)).not.toBeNull();
  });
});
