import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackEmulator } from './slack/server.ts';

describe('Slack emulator: waitFor', () => {
  let emulator: SlackEmulator;
  beforeAll(async () => {
    emulator = await new SlackEmulator({ botToken: 'xoxb-emulator-wait' }).start();
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('GIVEN an async predicate THEN it is refused instead of holding at once (a promise is truthy)', async () => {
    const asyncPredicate = (async () => false) as unknown as () => false;
    await expect(emulator.waitFor(asyncPredicate, 1_000, 'an async check')).rejects.toThrow(
      /async predicate/,
    );
  });

  it('GIVEN a synchronous predicate that becomes true THEN it resolves with its value', async () => {
    let ready: string | false = false;
    setTimeout(() => {
      ready = 'ready';
    }, 60);
    await expect(emulator.waitFor(() => ready, 2_000)).resolves.toBe('ready');
  });
});
