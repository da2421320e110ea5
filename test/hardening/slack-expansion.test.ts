import { describe, expect, it } from 'vitest';
import { plainText } from '../../adapters/slack/text.ts';
import { parseInboundJob } from '../../queue/jobs.ts';
import { boundText, MAX_TEXT_LENGTH } from '../../src/domain/message.ts';

// Issue 13, fault 1: mention expansion grew a short message past the cap, and the job failed unmoderated.
describe('Slack mention expansion is bounded', () => {
  const longName = (id: string) => `${id} ${'Very Long Display Name '.repeat(4)}`;
  const mentions = Array.from({ length: 600 }, (_, i) => `<@U${String(i).padStart(8, '0')}>`).join(' ');
  const raw = `you absolute idiot ${mentions} and another insult: moron`;

  it('GIVEN 600 mentions with long names WHEN read for the models THEN the text fits and keeps the insults', () => {
    expect(raw.length).toBeLessThan(MAX_TEXT_LENGTH);
    const text = plainText(raw, 'UBOT', longName);
    expect(text.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
    expect(text).toContain('you absolute idiot');
    expect(text).toContain('moron');
    const job = parseInboundJob({
      payload: {
        platform: 'slack',
        workspaceId: 'T1',
        channelId: 'C1',
        messageId: '1700000000.000100',
        author: { id: 'U1', name: 'member' },
        text,
        mentionsBot: false,
        timestamp: 1,
      },
    });
    expect(job.text).toBe(text);
  });

  it('GIVEN a mention whose label is huge WHEN expanded THEN the label is clipped', () => {
    const text = plainText(`hi <@U1|${'x'.repeat(5_000)}>`, 'UBOT', () => undefined);
    expect(text.length).toBeLessThan(300);
  });

  it('GIVEN text over the cap WHEN bounded THEN both its head and its tail are kept', () => {
    const text = `idiot ${'filler '.repeat(20_000)} moron`;
    const bounded = boundText(text);
    expect(bounded.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
    expect(bounded.startsWith('idiot ')).toBe(true);
    expect(bounded.endsWith(' moron')).toBe(true);
    expect(boundText('short')).toBe('short');
  });
});
