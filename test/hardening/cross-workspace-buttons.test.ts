import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_BUTTONS, type AlertButton } from '../../adapters/slack/blocks.ts';
import type { FlagRecord } from '../../src/store/types.ts';
import { click, say } from '../emulators/discord/events.ts';
import { startMemoryHarness } from '../emulators/discord/harness.ts';
import { CHANNELS, createSlackHarness, type SlackHarness, USERS } from '../emulators/slack/harness.ts';

// Issue 13, fault 2: a button id names a flag, and nothing else stopped it naming another community's.
const flagOf = (
  over: Partial<FlagRecord> & Pick<FlagRecord, 'id' | 'platform' | 'workspaceId'>,
): FlagRecord => ({
  channelId: 'C0OTHER',
  messageId: '1700000000.000900',
  authorId: 'U0VICTIM',
  authorName: 'victim',
  excerpt: 'someone else’s message',
  flagged: ['offensive'],
  scores: { offensive: 0.9 },
  reasons: { offensive: ['idiot'] },
  createdAt: Date.now(),
  status: 'open',
  history: [],
  ...over,
});

describe('Discord: a moderator of guild A clicks a button naming another workspace’s flag', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  const foreign = [
    [
      'guild B',
      flagOf({
        id: 'flag:discord:999000000000000001:111:222',
        platform: 'discord',
        workspaceId: '999000000000000001',
        channelId: '111',
        messageId: '222',
        authorId: '333',
      }),
    ],
    [
      'a Slack team',
      flagOf({
        id: 'flag:slack:T0OTHER:C0OTHER:1700000000.000900',
        platform: 'slack',
        workspaceId: 'T0OTHER',
      }),
    ],
  ] as const;

  for (const [where, flag] of foreign) {
    for (const action of ['dismiss', 'delete', 'timeout'] as const) {
      it(`GIVEN ${where}'s flag WHEN ${action} is clicked in guild A THEN refused privately and nothing changes`, async () => {
        const harness = await startMemoryHarness();
        stop = harness.stop;
        const { emulator, community, store } = harness;
        await store.recordFlag(flag);
        const alert = say(emulator, {
          channelId: community.mod,
          author: community.users.admin,
          content: 'an alert',
        });
        const interaction = click(emulator, {
          user: community.users.admin,
          messageId: alert.id,
          customId: `steward:${action}:${flag.id}`,
        });
        await emulator.waitFor('the refusal', () => interaction.callbacks[0]);
        expect(interaction.callbacks[0]).toMatchObject({ type: 4, data: { flags: 64 } });
        expect(String(interaction.callbacks[0]?.data?.content)).toMatch(/not in this workspace/);
        expect(emulator.find('DELETE', /\/messages\//)).toHaveLength(0);
        expect(emulator.find('PATCH', /\/members\//)).toHaveLength(0);
        expect(await store.getFlag(flag.id)).toEqual(flag);
      });
    }
  }
});

describe('Slack: an admin of team A clicks a button naming another workspace’s flag', () => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await createSlackHarness({ withWorker: false, userToken: true, adminUsers: [USERS.admin] });
  });
  afterAll(() => h?.cleanup());

  const foreign = [
    [
      'team B',
      flagOf({
        id: 'flag:slack:T0OTHER:C0GENERAL:1700000000.000900',
        platform: 'slack',
        workspaceId: 'T0OTHER',
        channelId: CHANNELS.general,
      }),
    ],
    [
      'a Discord guild',
      flagOf({
        id: 'flag:discord:999000000000000001:111:222',
        platform: 'discord',
        workspaceId: '999000000000000001',
        channelId: CHANNELS.general,
        authorId: USERS.member,
      }),
    ],
  ] as const;

  for (const [where, flag] of foreign) {
    for (const button of Object.keys(ALERT_BUTTONS) as AlertButton[]) {
      it(`GIVEN ${where}'s flag WHEN ${button} is clicked THEN refused privately and nothing changes`, async () => {
        // The flag names a real message of team A's channel: only the ownership check stands in the way.
        const victim = h.sender.say({ channel: CHANNELS.general, user: USERS.member, text: 'mine' }).message;
        const owned = { ...flag, id: `${flag.id}:${button}`, messageId: victim.ts };
        await h.stack.store.recordFlag(owned);
        const alert = h.emulator.workspace.addMessage({
          channel: CHANNELS.mods,
          text: 'an alert',
          user: h.emulator.workspace.bot.userId,
        });
        const before = h.emulator.calls.length;
        const response = await h.sender.blockAction({
          userId: USERS.admin,
          channelId: CHANNELS.mods,
          messageTs: alert.ts,
          actionId: ALERT_BUTTONS[button],
          value: owned.id,
        });
        expect(response.status).toBe(200);
        const refusal = await h.emulator.waitFor(
          () => h.emulator.calls.slice(before).find((c) => c.method === 'chat.postEphemeral'),
          10_000,
          'a private refusal',
        );
        expect(String(refusal.params.text)).toMatch(/not in this workspace/);
        const after = h.emulator.calls.slice(before).map((c) => c.method);
        expect(after).not.toContain('chat.delete');
        expect(after).not.toContain('chat.update');
        expect(after).not.toContain('chat.postMessage');
        expect(h.emulator.workspace.findMessage(CHANNELS.general, victim.ts)?.deleted).toBeFalsy();
        expect(await h.stack.store.getFlag(owned.id)).toEqual(owned);
      });
    }
  }
});

describe('authoriseModAction: the one check every surface (buttons, a dashboard, an API) goes through', () => {
  it('GIVEN every action on every platform WHEN the flag is another workspace’s or platform’s THEN refused', async () => {
    const { authoriseModAction, PLATFORM_ACTIONS } = await import('../../src/domain/moderation-actions.ts');
    const all = new Set(['manage_messages', 'moderate_members'] as const);
    for (const platform of ['discord', 'slack', 'local'] as const) {
      for (const action of PLATFORM_ACTIONS[platform]) {
        const actor = { platform, workspaceId: 'W1', capabilities: all };
        expect(authoriseModAction({ platform, workspaceId: 'W1' }, action, actor).ok).toBe(true);
        expect(authoriseModAction({ platform, workspaceId: 'W2' }, action, actor)).toMatchObject({
          ok: false,
          refusal: 'other_workspace',
        });
        for (const other of ['discord', 'slack', 'local'] as const) {
          if (other === platform) continue;
          expect(authoriseModAction({ platform: other, workspaceId: 'W1' }, action, actor).ok).toBe(false);
        }
        expect(authoriseModAction(null, action, actor)).toMatchObject({ ok: false, refusal: 'unknown_flag' });
      }
    }
  });
});
