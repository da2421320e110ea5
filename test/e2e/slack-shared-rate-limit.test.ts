import { afterAll, describe, expect, it } from 'vitest';
import { InboundRateLimiter } from '../../adapters/rate-limit.ts';
import { CHANNELS, createSlackHarness, type SlackHarness, USERS } from '../emulators/slack/harness.ts';
import { deletePrefix, randomPrefix, REDIS_URL, sleep } from '../queue/fixtures.ts';

// Two bot processes (two real Bolt adapters) behind one Slack app, each with its own limiter on the same Redis.
describe('Slack adapters in two bot processes', () => {
  const prefix = randomPrefix('shared-limit');
  const limiters: InboundRateLimiter[] = [];
  const harnesses: SlackHarness[] = [];
  afterAll(async () => {
    for (const h of harnesses) await h.cleanup();
    for (const l of limiters) await l.stop();
    await deletePrefix(REDIS_URL, prefix);
  });

  it('GIVEN a member floods both processes WHEN over the burst THEN the limit is shared: only `burst` messages are queued', async () => {
    for (let i = 0; i < 2; i++) {
      const limiter = new InboundRateLimiter({
        burst: 3,
        windowMs: 60_000,
        redis: { url: REDIS_URL, prefix },
      });
      await limiter.start();
      limiters.push(limiter);
      harnesses.push(await createSlackHarness({ withWorker: false, rateLimiter: limiter }));
    }
    const [a, b] = harnesses as [SlackHarness, SlackHarness];
    expect(a.teamId).toBe(b.teamId); // one workspace, so one budget per member
    // Different channels keep the two emulators' message timestamps from naming the same message.
    const send = async (h: SlackHarness, channel: string, text: string, user: string = USERS.member) => {
      const { event } = h.sender.say({ channel, user, text });
      expect((await h.sender.event(event)).status).toBe(200);
    };
    await send(a, CHANNELS.general, 'flood a1');
    await send(a, CHANNELS.general, 'flood a2');
    await send(b, CHANNELS.mods, 'flood b1');
    await send(b, CHANNELS.mods, 'flood b2');
    await send(a, CHANNELS.general, 'flood a3');
    await send(b, CHANNELS.mods, 'calm', USERS.helper);
    await sleep(300);
    const queued = (h: SlackHarness) => h.enqueues.map((e) => e.message.text);
    expect(queued(a)).toEqual(['flood a1', 'flood a2']);
    expect(queued(b)).toEqual(['flood b1', 'calm']);
  });
});
