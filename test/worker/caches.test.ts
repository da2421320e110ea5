import { describe, expect, it } from 'vitest';
import { defaultSettings, type WorkspaceSettings } from '../../src/domain/settings.ts';
import { SettingsCache } from '../../src/store/settings-cache.ts';
import { matchTopics, TopicIndex } from '../../worker/topics.ts';
import { hashEmbed } from './fake-engine.ts';

function fakeStore(read: () => Promise<WorkspaceSettings>) {
  let reads = 0;
  return {
    store: {
      getSettings: () => {
        reads += 1;
        return read();
      },
    },
    reads: () => reads,
  };
}

describe('SettingsCache', () => {
  it('GIVEN a burst of lookups THEN the store is read once per workspace until the TTL passes', async () => {
    let now = 0;
    const { store, reads } = fakeStore(async () => defaultSettings());
    const cache = new SettingsCache(store, 2_000, () => now);
    await Promise.all([cache.get('discord', 'a'), cache.get('discord', 'a'), cache.get('discord', 'a')]);
    await cache.get('slack', 'a');
    expect(reads()).toBe(2);
    now = 1_999;
    await cache.get('discord', 'a');
    expect(reads()).toBe(2);
    now = 2_000;
    await cache.get('discord', 'a');
    expect(reads()).toBe(3);
  });

  it('GIVEN the store fails THEN the last good copy is used, and nothing cached means the error surfaces', async () => {
    let now = 0;
    let fail = false;
    const { store, reads } = fakeStore(async () => {
      if (fail) throw new Error('redis down');
      return defaultSettings({ replyMode: 'off' });
    });
    const cache = new SettingsCache(store, 100, () => now);
    await expect(cache.get('discord', 'a')).resolves.toMatchObject({ replyMode: 'off' });
    fail = true;
    now = 500;
    await expect(cache.get('discord', 'a')).resolves.toMatchObject({ replyMode: 'off' });
    await expect(cache.get('discord', 'never-read')).rejects.toThrow(/redis down/);
    fail = false;
    await cache.get('discord', 'a'); // the stale copy does not stop the next read from trying again
    expect(reads()).toBe(4);
  });
});

describe('SettingsCache without a TTL', () => {
  it('GIVEN ttl 0 (local mode) WHEN read twice THEN the store is read each time, and a failure still falls back', async () => {
    let fail = false;
    const { store, reads } = fakeStore(async () => {
      if (fail) throw new Error('disk busy');
      return defaultSettings({ replyMode: 'topics' });
    });
    const cache = new SettingsCache(store, 0, () => 0);
    await cache.get('local', 'w');
    await cache.get('local', 'w');
    expect(reads()).toBe(2);
    fail = true;
    await expect(cache.get('local', 'w')).resolves.toMatchObject({ replyMode: 'topics' });
    expect(reads()).toBe(3);
  });

  it('GIVEN more workspaces than the bound WHEN read THEN the least recently read is read again, the others are not', async () => {
    const { store, reads } = fakeStore(async () => defaultSettings());
    const cache = new SettingsCache(store, 60_000, () => 0);
    for (let i = 0; i <= 10_000; i++) await cache.get('slack', `w${i}`);
    expect(reads()).toBe(10_001);
    await cache.get('slack', 'w10000');
    expect(reads()).toBe(10_001);
    await cache.get('slack', 'w0'); // evicted by the 10,001st workspace
    expect(reads()).toBe(10_002);
  });
});

describe('topics', () => {
  const engine = {
    calls: 0,
    async embed(texts: string[]) {
      this.calls += 1;
      return texts.map(hashEmbed);
    },
  };

  it('GIVEN the same topics in two workspaces THEN they are embedded once; a change embeds again', async () => {
    const index = new TopicIndex(engine);
    const topics = [{ name: 'rust', description: 'cargo borrow checker' }];
    await index.vectorsFor(topics);
    await index.vectorsFor([{ ...topics[0]! }]);
    expect(engine.calls).toBe(1);
    await index.vectorsFor([{ name: 'rust', description: 'cargo crates' }]);
    expect(engine.calls).toBe(2);
    expect(await index.vectorsFor([])).toEqual({ names: [], vectors: [] });
  });

  it('GIVEN the embedding fails once THEN the error reaches the caller and the next call embeds again', async () => {
    let calls = 0;
    const index = new TopicIndex({
      async embed(texts: string[]) {
        calls += 1;
        if (calls === 1) throw new Error('model busy');
        return texts.map(hashEmbed);
      },
    });
    const topics = [{ name: 'go', description: 'goroutines' }];
    await expect(index.vectorsFor(topics)).rejects.toThrow(/model busy/);
    expect((await index.vectorsFor(topics)).names).toEqual(['go']);
    expect(calls).toBe(2);
  });

  it('GIVEN a bound of 2 WHEN a third topic set is embedded THEN the least recently used one is embedded again', async () => {
    let calls = 0;
    const index = new TopicIndex(
      {
        async embed(texts: string[]) {
          calls += 1;
          return texts.map(hashEmbed);
        },
      },
      2,
    );
    const set = (name: string) => [{ name, description: name }];
    await index.vectorsFor(set('a'));
    await index.vectorsFor(set('b'));
    await index.vectorsFor(set('a'));
    await index.vectorsFor(set('c')); // evicts b, the least recently used
    await index.vectorsFor(set('a'));
    expect(calls).toBe(3);
    await index.vectorsFor(set('b'));
    expect(calls).toBe(4);
  });

  it('GIVEN similarities THEN matches pass the threshold and come best first', () => {
    const topics = {
      names: ['a', 'b', 'c'],
      vectors: [hashEmbed('apples pears'), hashEmbed('apples pears plums'), hashEmbed('rockets')],
    };
    const matches = matchTopics(hashEmbed('apples pears plums'), topics, 0.5);
    expect(matches.map((m) => m.topic)).toEqual(['b', 'a']);
    expect(matches[0]!.score).toBeCloseTo(1, 5);
  });
});
