import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_BUTTONS } from '../../adapters/slack/blocks.ts';
import {
  CHANNELS,
  createSlackHarness,
  E2E_ENGINE,
  type SlackHarness,
  USERS,
} from '../emulators/slack/harness.ts';
import { blocksOf, postFlagged } from '../emulators/slack/scenarios.ts';
import { MISSING_MODELS } from '../support/stack.ts';

describe.skipIf(E2E_ENGINE === 'none')(
  `Slack moderation with an admin user token (${E2E_ENGINE} models)`,
  () => {
    let h: SlackHarness;
    let flagged: Awaited<ReturnType<typeof postFlagged>>;

    beforeAll(async () => {
      h = await createSlackHarness({ userToken: true });
      flagged = await postFlagged(h);
    }, 180_000);
    afterAll(() => h?.cleanup());

    it('GIVEN a toxic message WHEN analysed THEN a Block Kit alert with scores, reasons and buttons reaches the mod channel', async () => {
      const blocks = blocksOf(flagged.alert);
      const json = JSON.stringify(blocks);
      expect(json).toContain(`<@${USERS.member}>`);
      expect(json).toContain(`<#${CHANNELS.general}>`);
      expect(json).toContain('https://emulated.slack.com/archives/C0GENERAL/p');
      for (const label of flagged.flag.flagged) {
        expect(json).toContain(label);
        for (const word of flagged.flag.reasons[label] ?? [])
          expect(json).toContain(word.replaceAll('`', "'"));
      }
      const actions = blocks.find((b) => b.type === 'actions') as { elements: Array<{ action_id: string }> };
      expect(actions.elements.map((e) => e.action_id)).toEqual([
        ALERT_BUTTONS.dismiss,
        ALERT_BUTTONS.delete,
        ALERT_BUTTONS.warn,
      ]);
      // Recorded right after the post, so buttons and failure notes can find the alert.
      const alertId = `${CHANNELS.mods}/${flagged.alert.result?.ts}`;
      await expect
        .poll(async () => (await h.stack.store.getFlag(flagged.flag.id))?.alertMessageId, { timeout: 10_000 })
        .toBe(alertId);
    });

    it('GIVEN a member who is no admin WHEN they click Dismiss THEN they get a private refusal and the flag stays open', async () => {
      const response = await h.sender.blockAction({
        userId: USERS.helper,
        channelId: CHANNELS.mods,
        messageTs: String(flagged.alert.result?.ts),
        actionId: ALERT_BUTTONS.dismiss,
        value: flagged.flag.id,
      });
      expect(response.status).toBe(200);
      const refusal = await h.emulator.waitFor(
        () => h.emulator.okCalls('chat.postEphemeral').find((c) => c.params.user === USERS.helper),
        10_000,
        'a private refusal',
      );
      expect(String(refusal.params.text)).toMatch(/admins/);
      expect((await h.stack.store.getFlag(flagged.flag.id))?.status).toBe('open');
    });

    it('GIVEN an admin WHEN they click Delete THEN the message is deleted and the flag log says who', async () => {
      const response = await h.sender.blockAction({
        userId: USERS.admin,
        channelId: CHANNELS.mods,
        messageTs: String(flagged.alert.result?.ts),
        actionId: ALERT_BUTTONS.delete,
        value: flagged.flag.id,
      });
      expect(response.status).toBe(200);
      const deleted = await h.emulator.waitFor(
        () => h.emulator.okCalls('chat.delete')[0],
        10_000,
        'chat.delete',
      );
      expect(deleted.params).toMatchObject({ channel: CHANNELS.general, ts: flagged.ts });
      expect(deleted.tokenKind).toBe('user');
      expect(h.emulator.workspace.messages.find((m) => m.ts === flagged.ts)?.deleted).toBe(true);

      const update = await h.emulator.waitFor(
        () => h.emulator.okCalls('chat.update')[0],
        10_000,
        'the alert update',
      );
      expect(String(update.params.text)).toContain(`<@${USERS.admin}>`);
      expect(blocksOf(update).some((b) => b.type === 'actions')).toBe(false);

      const flag = await h.stack.store.getFlag(flagged.flag.id);
      expect(flag?.status).toBe('actioned');
      expect(flag?.history.at(-1)).toMatchObject({
        actorId: USERS.admin,
        actorName: 'ada',
        action: 'delete',
      });
    });
  },
);

describe.skipIf(E2E_ENGINE !== 'none')('Slack moderation', () => {
  it.skip(MISSING_MODELS, () => {});
});
