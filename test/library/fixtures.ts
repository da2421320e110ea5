import { LocalEngine } from '../../models/runtime/local-engine.ts';
import { hasModel, testConfig } from '../../models/runtime/testing.ts';
import type { LibraryItem } from '../../src/domain/library.ts';
import { testLogger } from '../queue/fixtures.ts';

export const modelsPresent = hasModel('signals') && hasModel('embed');

/** The bundled signals model and library sentence encoder in this thread (no reply model): real search vectors. */
export async function libraryEngine(): Promise<LocalEngine> {
  const engine = new LocalEngine(testConfig({ dtype: 'q8' }), testLogger(), { reply: false });
  await engine.start();
  return engine;
}

/** A small community library on clearly different subjects. */
export const LIBRARY: LibraryItem[] = [
  {
    id: 'meetup',
    title: 'Monthly meetup',
    text: 'We meet on the first Friday of every month at 6pm in the Central Library, room 3.',
    url: 'https://example.org/meetup',
    kind: 'event',
  },
  {
    id: 'coc',
    title: 'Code of conduct',
    text: 'Be kind. Harassment, slurs and personal attacks get a warning, then a ban.',
    kind: 'resource',
  },
  {
    id: 'help-channel',
    title: 'Where to ask for help',
    text: 'Post coding questions in #help with your error message and what you tried.',
    kind: 'channel',
  },
  {
    id: 'donate',
    title: 'Donations',
    text: 'You can support the server through our Open Collective page; every cent pays for hosting.',
    url: 'https://example.org/donate',
    kind: 'faq',
  },
];
