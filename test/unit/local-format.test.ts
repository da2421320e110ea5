import { describe, expect, it } from 'vitest';
import { addressed, formatAction } from '../../adapters/local/format.ts';
import { OrderedOutput } from '../../adapters/local/ordered-output.ts';
import { alertAction } from '../support/actions.ts';

describe('addressed', () => {
  it.each([
    ['steward, any good movies?', 'any good movies?'],
    ['Steward: hi', 'hi'],
    ['@steward what now', 'what now'],
    ['@Steward, hello', 'hello'],
  ])('GIVEN "%s" THEN it mentions the bot', (line, text) => {
    expect(addressed(line)).toEqual({ mentionsBot: true, text });
  });

  it.each(['stewardship matters', 'hello steward, hi', 'the steward said'])(
    'GIVEN "%s" THEN it does not',
    (line) => {
      expect(addressed(line).mentionsBot).toBe(false);
    },
  );
});

describe('formatAction', () => {
  const target = { platform: 'local' as const, workspaceId: 'local', channelId: 'general', messageId: 'm1' };

  it('GIVEN an alert THEN moderators see the label, score and the words that drove it', () => {
    const lines = formatAction(alertAction());
    expect(lines[0]).toContain('[#moderators] alert for moderators');
    expect(lines).toContain('    insult 93% — words: idiot, you');
  });

  it('GIVEN a label a rule raised THEN it reads as the rule, with the model score beside it (not as why)', () => {
    const lines = formatAction(
      alertAction({
        excerpt: '你他妈的滚出去',
        scores: { offensive: 0.09 },
        flagged: ['offensive'],
        reasons: { offensive: ['rule “他妈的”'] },
        ruleLabels: ['offensive'],
      }),
    );
    expect(lines).toContain('    offensive rule, model 9% — words: rule “他妈的”');
  });

  it('GIVEN a reply THEN it reads as the bot speaking', () => {
    expect(
      formatAction({ kind: 'reply', key: 'k', target, text: 'Try Arrival.', reason: 'mention' }),
    ).toEqual(['steward: Try Arrival.']);
  });
});

describe('OrderedOutput', () => {
  it('GIVEN a later line finishing first THEN it waits for the earlier one', () => {
    const printed: string[] = [];
    const out = new OrderedOutput((lines) => printed.push(...lines));
    out.open('a', ['you: a']);
    out.open('b', ['you: b']);
    out.finish('b', ['  b done']);
    expect(printed).toEqual([]);
    out.expect('a', 'a:reply');
    out.finish('a');
    expect(printed).toEqual([]); // a still waits for its reply
    out.performed('a', 'a:reply', ['steward: hi']);
    expect(printed).toEqual(['you: a', 'steward: hi', 'you: b', '  b done']);
  });

  it('GIVEN an action performed before the analysis is marked done THEN it is not waited for twice', async () => {
    const printed: string[] = [];
    const out = new OrderedOutput((lines) => printed.push(...lines));
    out.open('a');
    out.performed('a', 'k', ['tag']);
    out.expect('a', 'k'); // a retried job re-enqueueing a performed key
    out.finish('a');
    await out.idle();
    expect(printed).toEqual(['tag']);
  });
});
