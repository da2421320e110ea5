import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_BUTTONS } from '../../adapters/slack/blocks.ts';
import { outboundQueueName } from '../../queue/types.ts';
import {
  CHANNELS,
  createSlackHarness,
  E2E_ENGINE,
  type SlackHarness,
  USERS,
} from '../emulators/slack/harness.ts';
import { blocksOf, postFlagged } from '../emulators/slack/scenarios.ts';
import { MISSING_MODELS } from '../support/stack.ts';

// Slack lets a bot token delete only the bot's own messages: these tests pin down how that limit is surfaced.
describe.skipIf(E2E_ENGINE === 'none')(
  `Slack moderation with only a bot token (${E2E_ENGINE} models)`,
  () => {
    let h: SlackHarness;
    let flagged: Awaited<ReturnType<typeof postFlagged>>;

    beforeAll(async () => {
      h = await createSlackHarness({ settings: { moderationMode: 'auto-hide' } });
      flagged = await postFlagged(h);
    }, 180_000);
    afterAll(() => h?.cleanup());

    it('GIVEN auto-hide mode WHEN Slack refuses the delete THEN the job fails with the reason and moderators are told', async () => {
      const refused = await h.emulator.waitFor(
        () => h.emulator.calls.find((c) => c.method === 'chat.delete' && c.error === 'cant_delete_message'),
        20_000,
        'the refused delete',
      );
      expect(refused.tokenKind).toBe('bot');
      const note = await h.emulator.waitFor(
        () =>
          h.emulator
            .okCalls('chat.postMessage')
            .find(
              (c) => c.params.channel === CHANNELS.mods && String(c.params.text).includes('Auto-hide failed'),
            ),
        20_000,
        'a note in the moderation channel',
      );
      expect(String(note.params.text)).toContain('SLACK_USER_TOKEN');

      await expect
        .poll(async () => (await h.stack.queue.failedJobs(outboundQueueName('slack'), 10)).length, {
          timeout: 20_000,
        })
        .toBe(1);
      const [failed] = await h.stack.queue.failedJobs(outboundQueueName('slack'), 10);
      expect(failed?.reason).toMatch(
        /steward\.platform\.rejected.*auto-hide .* failed: Slack lets a bot delete only/,
      );
      const flag = await h.stack.store.getFlag(flagged.flag.id);
      expect(flag?.history.map((e) => e.action)).toContain('auto-hide-failed');
      expect(flag?.status).toBe('open');
      expect(h.emulator.workspace.messages.find((m) => m.ts === flagged.ts)?.deleted).toBe(false);
    });

    it('GIVEN an admin WHEN Delete is refused by Slack THEN they are told why and the alert shows it', async () => {
      const response = await h.sender.blockAction({
        userId: USERS.admin,
        channelId: CHANNELS.mods,
        messageTs: String(flagged.alert.result?.ts),
        actionId: ALERT_BUTTONS.delete,
        value: flagged.flag.id,
      });
      expect(response.status).toBe(200);
      const whisper = await h.emulator.waitFor(
        () => h.emulator.okCalls('chat.postEphemeral').find((c) => c.params.user === USERS.admin),
        10_000,
        'a private explanation',
      );
      expect(String(whisper.params.text)).toContain('SLACK_USER_TOKEN');
      const update = await h.emulator.waitFor(
        () => h.emulator.okCalls('chat.update')[0],
        10_000,
        'the alert update',
      );
      expect(String(update.params.text)).toContain('Delete failed');
      // The buttons stay: the flag is still open.
      expect(blocksOf(update).some((b) => b.type === 'actions')).toBe(true);
      const flag = await h.stack.store.getFlag(flagged.flag.id);
      expect(flag?.status).toBe('open');
      expect(flag?.history.at(-1)).toMatchObject({ actorId: USERS.admin, action: 'delete-failed' });
    });

    it('GIVEN an admin WHEN they click Warn user THEN the author gets a DM and the flag log says who', async () => {
      await h.sender.blockAction({
        userId: USERS.admin,
        channelId: CHANNELS.mods,
        messageTs: String(flagged.alert.result?.ts),
        actionId: ALERT_BUTTONS.warn,
        value: flagged.flag.id,
      });
      const dm = await h.emulator.waitFor(
        () => h.emulator.okCalls('chat.postMessage').find((c) => c.params.channel === USERS.member),
        10_000,
        'a DM to the author',
      );
      expect(String(dm.params.text)).toContain(`<#${CHANNELS.general}>`);
      await expect
        .poll(async () => (await h.stack.store.getFlag(flagged.flag.id))?.history.at(-1)?.action, {
          timeout: 5_000,
        })
        .toBe('warn');
    });
  },
);

describe.skipIf(E2E_ENGINE !== 'none')('Slack moderation with only a bot token', () => {
  it.skip(MISSING_MODELS, () => {});
});
