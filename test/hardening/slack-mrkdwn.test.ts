import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertBlocks, alertFallback } from '../../adapters/slack/blocks.ts';
import { renderReply } from '../../adapters/slack/interactions.ts';
import { executeCommand } from '../../src/commands/run.ts';
import type { AlertAction } from '../../src/domain/action.ts';
import { MemoryStore } from '../../src/store/memory.ts';

// Issue 13, fault 5: members' words must never render as live Slack markup (pings, links) in any Slack surface.
const HOSTILE = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<@U0ADMIN>',
  '<https://evil.example|Click to verify>',
];
const LIVE = /<[!@#]|<https?:/;

describe('Slack surfaces escape what members wrote', () => {
  let store: MemoryStore;
  beforeEach(async () => {
    store = new MemoryStore();
    await store.start();
  });
  afterEach(() => store.stop());

  const ctx = () => ({
    platform: 'slack' as const,
    workspaceId: 'T1',
    actor: { id: 'UADMIN', name: 'admin', isAdmin: true },
    store,
  });

  it.each(HOSTILE)(
    'GIVEN a flag by "%s" WHEN /steward flags answers THEN nothing renders live',
    async (evil) => {
      await store.recordFlag({
        id: 'f1',
        platform: 'slack',
        workspaceId: 'T1',
        channelId: 'C1',
        messageId: '1.1',
        authorId: 'U9',
        authorName: `${evil} Mallory`,
        excerpt: `hello ${evil} & bye`,
        flagged: ['offensive'],
        scores: { offensive: 0.9 },
        reasons: { offensive: ['idiot'] },
        createdAt: 1,
        status: 'open',
        history: [],
      });
      const text = renderReply(await executeCommand('flags', ctx()));
      expect(text).not.toMatch(LIVE);
      expect(text).toContain(evil.replaceAll('<', '&lt;').replaceAll('>', '&gt;'));
      expect(text).toContain('&amp; bye');
    },
  );

  it('GIVEN hostile input echoed in a refusal or a topic WHEN answered THEN nothing renders live', async () => {
    for (const evil of HOSTILE) {
      expect(renderReply(await executeCommand(`config moderation-channel ${evil}`, ctx()))).not.toMatch(LIVE);
      expect(
        renderReply(await executeCommand(`topics add t${HOSTILE.indexOf(evil)} ${evil}`, ctx())),
      ).not.toMatch(LIVE);
    }
    expect(renderReply(await executeCommand('topics list', ctx()))).not.toMatch(LIVE);
  });

  it('GIVEN a channel Steward names itself WHEN answered THEN it stays a channel link', async () => {
    const text = renderReply(await executeCommand('config moderation-channel <#C0MODS|mods>', ctx()));
    expect(text).toContain('<#C0MODS>');
  });

  it.each(HOSTILE)(
    'GIVEN an author named "%s" WHEN alerted THEN the notification text is escaped',
    (evil) => {
      const action: AlertAction = {
        kind: 'alert',
        key: 'k',
        target: { platform: 'slack', workspaceId: 'T1', channelId: 'C1', messageId: '1.1' },
        flagId: 'f1',
        moderationChannelId: 'C0MODS',
        author: { id: 'U9', name: evil },
        excerpt: evil,
        scores: { offensive: 0.9 },
        flagged: ['offensive'],
        reasons: { offensive: [evil] },
        autoHidden: false,
      };
      expect(alertFallback(action).replace('<#C1>', '')).not.toMatch(LIVE);
      const blocks = JSON.stringify(alertBlocks(action, null));
      expect(blocks.replace('<@U9>', '').replace('<#C1>', '')).not.toMatch(LIVE);
    },
  );
});
