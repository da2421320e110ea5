import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LibraryItem } from '../../src/domain/library.ts';
import type { Store } from '../../src/store/types.ts';
import type { StoreHarness } from './contract.ts';

export const item = (id: string, over: Partial<LibraryItem> = {}): LibraryItem => ({
  id,
  title: `Title of ${id}`,
  text: `Text of ${id}.`,
  kind: 'faq',
  ...over,
});

/** The library part of the Store contract; run against Redis and files alike. */
export function libraryContract(name: string, makeHarness: () => StoreHarness): void {
  describe(`${name} store: library`, () => {
    let harness: StoreHarness;
    let store: Store;
    const opened: Store[] = [];
    const open = async () => {
      const s = harness.open();
      await s.start();
      opened.push(s);
      return s;
    };

    beforeEach(async () => {
      harness = makeHarness();
      store = await open();
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.stop();
      await harness.cleanup();
    });

    it('GIVEN an unknown workspace THEN an empty library at version 0', async () => {
      expect(await store.listLibrary('discord', 'nobody')).toEqual([]);
      expect(await store.libraryVersion('discord', 'nobody')).toBe(0);
    });

    it('GIVEN items put THEN they are listed by id, the version bumps and other workspaces are untouched', async () => {
      const v1 = await store.putLibraryItems('discord', 'g1', [
        item('b', { url: 'https://example.org/b', topic: 'travel' }),
        item('a'),
      ]);
      expect(v1).toBe(1);
      const listed = await store.listLibrary('discord', 'g1');
      expect(listed.map((i) => i.id)).toEqual(['a', 'b']);
      expect(listed[1]).toEqual(item('b', { url: 'https://example.org/b', topic: 'travel' }));
      expect(await store.listLibrary('slack', 'g1')).toEqual([]);
      expect(await store.libraryVersion('slack', 'g1')).toBe(0);
    });

    it('GIVEN an item with an existing id THEN it replaces the old one', async () => {
      await store.putLibraryItems('discord', 'g1', [item('a')]);
      const v = await store.putLibraryItems('discord', 'g1', [item('a', { title: 'New' })]);
      expect(v).toBe(2);
      expect((await store.listLibrary('discord', 'g1')).map((i) => i.title)).toEqual(['New']);
    });

    it('GIVEN a removal THEN the item is gone, the count says so and the version moved on', async () => {
      await store.putLibraryItems('discord', 'g1', [item('a'), item('b')]);
      expect(await store.removeLibraryItems('discord', 'g1', ['a', 'zzz'])).toBe(1);
      expect((await store.listLibrary('discord', 'g1')).map((i) => i.id)).toEqual(['b']);
      expect(await store.libraryVersion('discord', 'g1')).toBeGreaterThan(1);
      expect(await store.removeLibraryItems('discord', 'g1', ['zzz'])).toBe(0);
    });

    it('GIVEN an invalid item THEN the put throws and nothing changes', async () => {
      await expect(
        store.putLibraryItems('discord', 'g1', [item('ok'), item('bad', { title: '' })]),
      ).rejects.toThrow();
      expect(await store.listLibrary('discord', 'g1')).toEqual([]);
      expect(await store.libraryVersion('discord', 'g1')).toBe(0);
    });

    it('GIVEN 10 concurrent puts THEN none is lost', async () => {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.putLibraryItems('discord', 'g1', [item(`i${i}`)])),
      );
      expect(await store.listLibrary('discord', 'g1')).toHaveLength(10);
      expect(await store.libraryVersion('discord', 'g1')).toBe(10);
    });

    it('GIVEN a restart THEN the library is still there', async () => {
      await store.putLibraryItems('local', 'local', [item('a', { kind: 'event' })]);
      await store.stop();
      const again = await open();
      expect(await again.listLibrary('local', 'local')).toEqual([item('a', { kind: 'event' })]);
      expect(await again.libraryVersion('local', 'local')).toBe(1);
    });

    it("GIVEN a second store on the same data THEN it sees the first one's changes", async () => {
      const other = await open();
      await store.putLibraryItems('local', 'local', [item('a')]);
      expect((await other.listLibrary('local', 'local')).map((i) => i.id)).toEqual(['a']);
      await other.removeLibraryItems('local', 'local', ['a']);
      expect(await store.listLibrary('local', 'local')).toEqual([]);
      expect(await store.libraryVersion('local', 'local')).toBe(2);
    });
  });
}
