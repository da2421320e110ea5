import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInboundJob } from '../../queue/jobs.ts';
import { MAX_TEXT_LENGTH } from '../../src/domain/message.ts';
import { CHANNELS, createSlackHarness, type SlackHarness, USERS } from '../emulators/slack/harness.ts';

// Issue 13, fault 1, through the real Bolt app: the measured case (8,448 characters, 600 mentions, an insult).
describe('Slack: a short message with 600 mentions of a long display name', () => {
  let h: SlackHarness;
  const LONG = 'U0LONGNAME';
  beforeAll(async () => {
    h = await createSlackHarness({ withWorker: false });
    h.emulator.workspace.addUser({
      id: LONG,
      name: `${'Display Name That Goes On '.repeat(3)}ok`.slice(0, 80),
    });
  });
  afterAll(() => h?.cleanup());

  it('GIVEN the name is cached WHEN the message arrives THEN a valid job within the cap still carries the insults', async () => {
    // The long-named member speaks first, so the adapter has their name cached (as in a live workspace).
    const warm = h.sender.say({ channel: CHANNELS.general, user: LONG, text: 'hello all' });
    await h.sender.event(warm.event);
    await h.emulator.waitFor(() => h.enqueues.some((e) => e.message.text === 'hello all'), 10_000, 'warm-up');

    const text = `you absolute idiot ${`<@${LONG}> `.repeat(600)}moron`;
    expect(text.length).toBeGreaterThan(8_400);
    const { event } = h.sender.say({ channel: CHANNELS.general, user: USERS.member, text });
    expect((await h.sender.event(event)).status).toBe(200);
    const queued = await h.emulator.waitFor(
      () => h.enqueues.find((e) => e.message.author.id === USERS.member && e.message.text.includes('idiot')),
      10_000,
      'the message to be queued',
    );
    expect(queued.message.text.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
    expect(queued.message.text).toContain('moron');
    expect(() => parseInboundJob({ payload: queued.message })).not.toThrow();
  });
});
