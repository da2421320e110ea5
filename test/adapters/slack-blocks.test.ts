import { describe, expect, it } from 'vitest';
import { ALERT_BUTTONS, alertBlocks, resolvedBlocks } from '../../adapters/slack/blocks.ts';
import type { AlertAction } from '../../src/domain/action.ts';
import { alertAction } from '../support/actions.ts';

const alert = (overrides: Partial<AlertAction> = {}): AlertAction =>
  alertAction({
    target: { platform: 'slack', workspaceId: 'T1', channelId: 'C1', messageId: '1.2' },
    flagId: 'flag:slack:T1:C1:1.2',
    moderationChannelId: 'CMOD',
    author: { id: 'U1', name: 'mallory' },
    excerpt: 'you <b>idiot</b> & co',
    scores: { insult: 0.91, threat: 0.1 },
    reasons: { insult: ['idiot'] },
    ...overrides,
  });

describe('Slack alert blocks', () => {
  it('GIVEN a flag WHEN rendered THEN author, channel, link, scores, reasons, excerpt and buttons are there', () => {
    const blocks = alertBlocks(alert(), 'https://x.slack.com/archives/C1/p12');
    const json = JSON.stringify(blocks);
    for (const part of [
      '<@U1>',
      '<#C1>',
      'https://x.slack.com/archives/C1/p12',
      '*insult* 0.91',
      'threat 0.10',
      '`idiot`',
    ]) {
      expect(json).toContain(part);
    }
    expect(json).toContain('&lt;b&gt;idiot&lt;/b&gt; &amp; co');
    const actions = blocks.find((b) => b.type === 'actions') as {
      elements: Array<{ action_id: string; value: string }>;
    };
    expect(actions.elements.map((e) => e.action_id)).toEqual(Object.values(ALERT_BUTTONS));
    expect(actions.elements.every((e) => e.value === 'flag:slack:T1:C1:1.2')).toBe(true);
  });

  it('GIVEN a label a rule raised WHEN rendered THEN its score reads as the rule with the model score beside it', () => {
    const json = JSON.stringify(
      alertBlocks(alert({ scores: { insult: 0.09 }, ruleLabels: ['insult'] }), null),
    );
    expect(json).toContain('*insult* rule, model 0.09');
  });

  it('GIVEN a huge excerpt WHEN rendered THEN every section stays under Slack limit', () => {
    const blocks = alertBlocks(alert({ excerpt: 'x'.repeat(10_000) }), null);
    for (const block of blocks) {
      const text = (block.text as { text?: string } | undefined)?.text ?? '';
      expect(text.length).toBeLessThanOrEqual(3_000);
    }
  });

  it('GIVEN a settled alert WHEN resolved THEN the buttons go and the note is added', () => {
    const resolved = resolvedBlocks(alertBlocks(alert(), null), 'Dismissed by <@U2>', true);
    expect(resolved.some((b) => b.type === 'actions')).toBe(false);
    expect(JSON.stringify(resolved.at(-1))).toContain('Dismissed by <@U2>');
  });
});
