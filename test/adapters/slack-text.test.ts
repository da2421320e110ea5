import { describe, expect, it } from 'vitest';
import { escapeMrkdwn, plainText, slackEmojiName, splitText } from '../../adapters/slack/text.ts';

describe('Slack text helpers', () => {
  it('GIVEN a short text WHEN split THEN it stays one chunk', () => {
    expect(splitText('hello there', 3_000)).toEqual(['hello there']);
  });

  it('GIVEN a long text WHEN split THEN every chunk fits and prefers sentence boundaries', () => {
    const text = Array.from({ length: 400 }, (_, i) => `Sentence ${i} is here.`).join(' ');
    const chunks = splitText(text, 1_000);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every((c) => c.length <= 1_000 && c.length > 0)).toBe(true);
    expect(chunks.slice(0, -1).every((c) => c.endsWith('.'))).toBe(true);
    expect(chunks.join(' ')).toBe(text);
  });

  it('GIVEN one endless word WHEN split THEN it is cut hard without splitting an emoji', () => {
    const text = `${'a'.repeat(9)}😀${'b'.repeat(20)}`;
    const chunks = splitText(text, 10);
    expect(chunks.every((c) => c.length <= 10)).toBe(true);
    expect(chunks.join('')).toBe(text);
  });

  it('GIVEN control characters WHEN escaped THEN Slack cannot read a mention or link', () => {
    expect(escapeMrkdwn('<!channel> & <@U1>')).toBe('&lt;!channel&gt; &amp; &lt;@U1&gt;');
  });

  it('GIVEN Slack markup WHEN read for the models THEN mentions, channels and links become readable text', () => {
    const names = (id: string) => (id === 'U2' ? 'ada' : undefined);
    const text =
      '<@UBOT> hi <@U2> and <@U3|bob> see <#C1|general> <https://x.org|the site> <!here> a &amp; b &lt;3';
    expect(plainText(text, 'UBOT', names)).toBe('hi @ada and @bob see #general the site @here a & b <3');
  });

  it('GIVEN sentiment emoji WHEN named for reactions.add THEN Slack names come back', () => {
    expect(slackEmojiName('😊', 'positive')).toBe('blush');
    expect(slackEmojiName('😟', 'negative')).toBe('worried');
    expect(slackEmojiName(':tada:', 'positive')).toBe('tada');
    expect(slackEmojiName('🦄', 'neutral')).toBe('neutral_face');
  });
});
