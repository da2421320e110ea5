import { describe, expect, it } from 'vitest';
import { contextHits, echoPhrase, parentTurn } from '../../src/domain/context.ts';

describe('moderation in context: echoes', () => {
  it.each([
    ['same to you', 'same to you'],
    ['Same to you!!', 'same to you'],
    ['lol same to you 😂', 'same to you'],
    ['you too buddy', 'you too'],
    ['no u', 'no u'],
    ['+1', '+1'],
    ['^', '^'],
    ['this', 'this'],
    ['你也是', '你也是'],
    ['说得对！', '说得对'],
  ])('GIVEN %j THEN it is the echo %j', (text, phrase) => {
    expect(echoPhrase(text)).toBe(phrase);
  });

  it.each([
    'same to you, have a great weekend and say hi to your mum for me',
    'thank you too',
    'this is great',
    'you too are welcome to join',
    'I agree with the plan but not the date',
    '',
    'lol',
  ])('GIVEN %j (words of its own) THEN no echo', (text) => {
    expect(echoPhrase(text)).toBeNull();
  });

  it('GIVEN a chain THEN the parent is its last turn, unless the bot or the author wrote it', () => {
    const turn = (authorId: string, fromBot = false) => ({ authorId, text: 'x', fromBot });
    expect(parentTurn([turn('a'), turn('b')], 'c')?.authorId).toBe('b');
    expect(parentTurn([turn('a'), turn('bot', true)], 'c')).toBeNull();
    expect(parentTurn([turn('c')], 'c')).toBeNull();
    expect(parentTurn([], 'c')).toBeNull();
  });

  it('GIVEN a flagged parent THEN one hit per label with the parent words; an unflagged parent gives none', () => {
    const hits = contextHits('same to you', {
      scores: { insult: 0.9 },
      flagged: ['insult'],
      reasons: { insult: ['idiot', 'pathetic'] },
    });
    expect(hits).toEqual([
      {
        id: 'context:echo',
        label: 'insult',
        match: 'same to you',
        why: '“same to you” in reply to a message flagged insult (idiot, pathetic)',
      },
    ]);
    expect(contextHits('same to you', { scores: { insult: 0.1 }, flagged: [], reasons: {} })).toEqual([]);
  });
});
