import { describe, expect, it } from 'vitest';
import { JobScrubber } from '../../queue/forget.ts';
import { inboundJobId } from '../../src/domain/message.ts';

const ref = (messageId: string) => ({
  platform: 'discord' as const,
  workspaceId: 'g1',
  channelId: 'c1',
  messageId,
});
const job = (payload: Record<string, unknown>) => ({ payload, nonce: 'n' });
const author = (id: string) => ({ id, name: `name of ${id}`, roles: [], isBot: false });
const tag = (messageId: string) => ({
  kind: 'react',
  key: `${inboundJobId(ref(messageId))}:react`,
  target: ref(messageId),
  sentiment: 'positive',
  emoji: '😊',
});

describe('JobScrubber (forget-me rules for finished jobs)', () => {
  it('GIVEN the member reacted to someone else’s message THEN the reaction job is scrubbed, but not the actions on that message', () => {
    const s = new JobScrubber({ platform: 'discord', workspaceId: 'g1', userId: 'me' });
    const reaction = job({
      ...ref('m1'),
      author: author('me'),
      text: 'their words',
      reaction: { emoji: '👍', authorId: 'them' },
    });
    expect(s.inbound(reaction)).toEqual({ payload: { ...ref('m1'), forgotten: true }, nonce: 'n' });
    expect(s.outbound(tag('m1'))).toBeNull();
  });

  it('GIVEN someone reacted to the member’s message THEN that reaction job (holding the member’s words) is scrubbed too, with the actions on the message', () => {
    const s = new JobScrubber({ platform: 'discord', workspaceId: 'g1', userId: 'me' });
    const reaction = job({
      ...ref('m2'),
      author: author('them'),
      text: 'my words',
      reaction: { emoji: '👍', authorId: 'me' },
    });
    expect(s.inbound(reaction)?.payload).toEqual({ ...ref('m2'), forgotten: true });
    expect(s.outbound(tag('m2'))).toEqual({
      kind: 'react',
      key: tag('m2').key,
      target: ref('m2'),
      forgotten: true,
    });
  });

  it('GIVEN another workspace, another member, or a job already scrubbed THEN nothing changes', () => {
    const s = new JobScrubber({ platform: 'discord', workspaceId: 'g1', userId: 'me' });
    expect(s.inbound(job({ ...ref('m3'), workspaceId: 'g2', author: author('me'), text: 'x' }))).toBeNull();
    expect(s.inbound(job({ ...ref('m4'), author: author('them'), text: 'x' }))).toBeNull();
    expect(s.inbound(job({ ...ref('m5'), forgotten: true }))).toBeNull();
    expect(s.outbound({ ...tag('m4'), forgotten: true })).toBeNull();
    expect(s.outbound(null)).toBeNull();
  });

  it('GIVEN a payload too large to store whole THEN its preview is matched by the member id and workspace', () => {
    const s = new JobScrubber({ platform: 'discord', workspaceId: 'g1', userId: 'me' });
    const preview = JSON.stringify({ workspaceId: 'g1', author: { id: 'me' }, text: 'x'.repeat(100) });
    expect(s.inbound(job({ truncated: true, preview }))).toEqual({
      payload: { forgotten: true },
      nonce: 'n',
    });
  });
});
