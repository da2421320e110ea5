import { LIBRARY_KINDS, type LibraryItem } from '../domain/library.ts';
import type { CommandSpec } from './spec-types.ts';

export const ADD_USAGE = 'library add <title> | <text> [| <url>] [| faq|resource|channel|event]';

export type LibraryCommand =
  | { kind: 'library.add'; item: LibraryItem }
  | { kind: 'library.remove'; id: string }
  | { kind: 'library.list'; query?: string }
  | { kind: 'library.import'; content: string };

/** The `/steward library …` commands, in the order help lists them. */
export const LIBRARY_SPECS: readonly CommandSpec[] = [
  {
    group: 'library',
    sub: 'add',
    usage: ADD_USAGE,
    description: 'Add (or replace) an item of the community library that replies draw on and cite',
    adminOnly: true,
    options: [
      {
        name: 'title',
        type: 'string',
        description: 'Title, shown when a reply cites the item',
        required: true,
      },
      {
        name: 'text',
        type: 'string',
        description: 'What the item says (the answer, the details)',
        required: true,
      },
      { name: 'url', type: 'string', description: 'Link to the full resource', required: false },
      { name: 'kind', type: 'string', description: 'Kind of item', required: false, choices: LIBRARY_KINDS },
      { name: 'topic', type: 'string', description: 'Topic the item belongs to', required: false },
      { name: 'id', type: 'string', description: 'Id (default: made from the title)', required: false },
    ],
  },
  {
    group: 'library',
    sub: 'remove',
    usage: 'library remove <id>',
    description: 'Remove a library item',
    adminOnly: true,
    options: [
      { name: 'id', type: 'string', description: 'Id of the item (see library list)', required: true },
    ],
  },
  {
    group: 'library',
    sub: 'list',
    usage: 'library list [words]',
    description: 'List the library (items whose title or text has the words)',
    adminOnly: false,
    options: [{ name: 'query', type: 'string', description: 'Words to look for', required: false }],
  },
  {
    group: 'library',
    sub: 'import',
    usage: 'library import <JSONL lines or Markdown>',
    description: 'Add many items at once: one JSON object per line, or Markdown with a ## heading per item',
    adminOnly: true,
    options: [{ name: 'content', type: 'string', description: 'JSONL or Markdown text', required: true }],
  },
];
