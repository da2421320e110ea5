import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { executeCommand } from '../../src/commands/run.ts';
import type { CommandContext } from '../../src/commands/types.ts';
import { FileStore } from '../../src/store/file.ts';

let dir: string;
let store: FileStore;
const ctx = (isAdmin = true): CommandContext => ({
  platform: 'slack',
  workspaceId: 'T1',
  actor: { id: 'U1', name: 'Ada', isAdmin },
  store,
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steward-libcmd-'));
  store = new FileStore({ dir });
  await store.start();
});
afterEach(async () => {
  await store.stop();
  await rm(dir, { recursive: true, force: true });
});

it('GIVEN an admin WHEN `library add` with title, text, link and kind THEN the item is stored with an id from the title', async () => {
  const reply = await executeCommand(
    'library add Code of conduct | Be kind; no harassment. | https://example.org/coc | resource',
    ctx(),
  );
  expect(reply.ok).toBe(true);
  expect(await store.listLibrary('slack', 'T1')).toEqual([
    {
      id: 'code-of-conduct',
      title: 'Code of conduct',
      text: 'Be kind; no harassment.',
      url: 'https://example.org/coc',
      kind: 'resource',
    },
  ]);
});

it('GIVEN a member (not admin) WHEN `library add` THEN refused and nothing stored; `library list` works for them', async () => {
  const reply = await executeCommand('library add A | B', ctx(false));
  expect(reply.ok).toBe(false);
  expect(await store.listLibrary('slack', 'T1')).toEqual([]);
  expect((await executeCommand('library list', ctx(false))).ok).toBe(true);
});

it('GIVEN the structured (Discord) form THEN the same item results', async () => {
  const reply = await executeCommand(
    {
      group: 'library',
      sub: 'add',
      options: { title: 'Meetup', text: 'Fridays at 6pm', kind: 'event', id: 'meetup' },
    },
    ctx(),
  );
  expect(reply.ok).toBe(true);
  expect((await store.listLibrary('slack', 'T1'))[0]).toMatchObject({ id: 'meetup', kind: 'event' });
});

it('GIVEN `library import` with JSONL and a bad line THEN the good items are stored and the bad line is named', async () => {
  const content = [
    '{"id":"a","title":"A","text":"alpha"}',
    'not json',
    '{"title":"Bee hive","text":"b"}',
  ].join('\n');
  const reply = await executeCommand({ group: 'library', sub: 'import', options: { content } }, ctx());
  expect(reply.ok).toBe(true);
  expect(reply.text).toContain('line 2');
  expect((await store.listLibrary('slack', 'T1')).map((i) => i.id)).toEqual(['a', 'bee-hive']);
});

it('GIVEN `library remove` of an unknown id THEN a refusal that says how to find ids; a known id is removed', async () => {
  await executeCommand('library add A thing | text', ctx());
  expect((await executeCommand('library remove nope', ctx())).ok).toBe(false);
  expect((await executeCommand('library remove a-thing', ctx())).ok).toBe(true);
  expect(await store.listLibrary('slack', 'T1')).toEqual([]);
});

it('GIVEN `library add` without text THEN a hint with the usage', async () => {
  const reply = await executeCommand('library add Only a title', ctx());
  expect(reply.ok).toBe(false);
  expect(reply.text).toContain('library add <title> | <text>');
});
