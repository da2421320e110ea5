import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INBOUND_QUEUE, outboundQueueName, type QueueDriver } from '../../queue/types.ts';
import type { AlertAction, ReplyAction } from '../../src/domain/action.ts';
import { type InboundMessageInput, inboundJobId, type MessageRef } from '../../src/domain/message.ts';
import { MalformedInputError, PlatformRejectedError } from '../../src/errors.ts';
import type { DriverFactory } from './contract.ts';
import { inbound, waitFor } from './fixtures.ts';

const MEMBER = { id: 'u-forget-9d2', name: 'Oriel Vantablack' };
const OTHER = { id: 'u-stays-4c1', name: 'Bram Stays' };

const refOf = (m: InboundMessageInput): MessageRef => ({
  platform: m.platform,
  workspaceId: m.workspaceId,
  channelId: m.channelId,
  messageId: m.messageId,
});

function alert(m: InboundMessageInput): AlertAction {
  return {
    kind: 'alert',
    key: `${inboundJobId(m)}:alert`,
    target: refOf(m),
    flagId: `flag:${m.messageId}`,
    moderationChannelId: 'mods',
    author: m.author,
    excerpt: m.text,
    scores: { insult: 0.9 },
    flagged: ['insult'],
    reasons: { insult: [m.text.split(' ')[0]!] },
    autoHidden: false,
  };
}

function reply(m: InboundMessageInput, text: string): ReplyAction {
  return { kind: 'reply', key: `${inboundJobId(m)}:reply`, target: refOf(m), text, reason: 'mention' };
}

/** Forget-me through the queue driver (QueueDriver.forgetMember); run once per driver. */
export function forgetContract(name: string, factory: () => DriverFactory): void {
  describe(`QueueDriver forget-me: ${name}`, () => {
    let f: DriverFactory;
    let driver: QueueDriver;

    beforeEach(async () => {
      f = factory();
      driver = await f.create();
    });
    afterEach(async () => {
      await driver.stop();
      await f.cleanup();
    });

    it("GIVEN finished jobs of two members WHEN one is forgotten THEN only that member's jobs lose their text, id and name, and still deduplicate", async () => {
      const done = inbound({ author: MEMBER, text: 'my glacier hiking diary, day three' });
      const failed = inbound({ author: MEMBER, text: 'fail: you absolute walnut' });
      const others = inbound({ author: OTHER, text: 'fail: keep this one' });
      await driver.consumeInbound(
        async (message) => {
          if (message.text.startsWith('fail')) throw new MalformedInputError('refused for the test');
        },
        { concurrency: 2 },
      );
      await driver.consumeOutbound(
        'discord',
        async (action) => {
          if (action.kind === 'alert') throw new PlatformRejectedError('missing_access');
        },
        { concurrency: 2 },
      );
      for (const m of [done, failed, others]) await driver.enqueueInbound(m);
      await driver.enqueueOutbound('discord', [
        reply(done, 'How about Iceland? (why: you talked about glacier, hiking.)'),
        alert(failed),
        alert(others),
      ]);
      await waitFor(
        async () => {
          const [i, o] = await Promise.all([
            driver.counts(INBOUND_QUEUE),
            driver.counts(outboundQueueName('discord')),
          ]);
          return i.completed === 1 && i.failed === 2 && o.completed === 1 && o.failed === 2;
        },
        10_000,
        'three messages and three actions finished',
      );

      expect(await driver.forgetMember('discord', done.workspaceId, MEMBER.id)).toBe(4);

      const inboundFailed = await driver.failedJobs(INBOUND_QUEUE, 10);
      const outboundFailed = await driver.failedJobs(outboundQueueName('discord'), 10);
      const text = JSON.stringify([inboundFailed, outboundFailed]);
      for (const secret of [MEMBER.id, MEMBER.name, failed.text]) expect(text).not.toContain(secret);
      // The other member's jobs are as they were (replayable), and the failure reasons stay for admins.
      for (const kept of [OTHER.id, OTHER.name, others.text, 'refused for the test', 'missing_access'])
        expect(text).toContain(kept);
      const stub = inboundFailed.find((j) => j.id === inboundJobId(failed));
      expect(stub?.data).toEqual({ ...refOf(failed), forgotten: true });
      const action = outboundFailed.find((j) => j.id === `${inboundJobId(failed)}:alert`);
      expect(action?.data).toEqual({
        kind: 'alert',
        key: action?.id,
        target: refOf(failed),
        forgotten: true,
      });
      // The completed job keeps its id: a redelivered event is still one job.
      expect((await driver.enqueueInbound(done)).duplicate).toBe(true);
      // Nothing left to do the second time.
      expect(await driver.forgetMember('discord', done.workspaceId, MEMBER.id)).toBe(0);
    });
  });
}
