import { expect, it } from 'vitest';
import { parseLibraryText } from '../../src/domain/library-import.ts';

it('GIVEN Markdown THEN each ## heading is an item, # sets the topic, the first link is the url', () => {
  const md = [
    '# travel',
    '## Phuket, Thailand',
    'Beaches and [street food](https://example.org/phuket) all year.',
    '## Visa rules',
    'kind: resource',
    'Check <https://example.org/visa> before you go.',
    '# events',
    '### Monthly meetup',
    'First Friday, 6pm, at the library.',
  ].join('\n');
  const { items, errors } = parseLibraryText(md);
  expect(errors).toEqual([]);
  expect(items).toEqual([
    {
      id: 'phuket-thailand',
      title: 'Phuket, Thailand',
      text: 'Beaches and street food all year.',
      url: 'https://example.org/phuket',
      topic: 'travel',
      kind: 'faq',
    },
    {
      id: 'visa-rules',
      title: 'Visa rules',
      text: 'Check <https://example.org/visa> before you go.',
      url: 'https://example.org/visa',
      topic: 'travel',
      kind: 'resource',
    },
    {
      id: 'monthly-meetup',
      title: 'Monthly meetup',
      text: 'First Friday, 6pm, at the library.',
      topic: 'events',
      kind: 'faq',
    },
  ]);
});

it('GIVEN JSONL with an invalid kind and a missing title THEN those lines are reported and the rest kept', () => {
  const jsonl = [
    '{"id":"x","title":"X","text":"t","kind":"poster"}',
    '{"id":"y","text":"t"}',
    '{"id":"z","title":"Z","text":"t","url":"https://z.example"}',
  ].join('\n');
  const { items, errors } = parseLibraryText(jsonl);
  expect(items.map((i) => i.id)).toEqual(['z']);
  expect(errors).toHaveLength(2);
  expect(errors[0]).toMatch(/^line 1: kind/);
  expect(errors[1]).toMatch(/^line 2: title/);
});
