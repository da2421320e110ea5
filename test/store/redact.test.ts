import { describe, expect, it } from 'vitest';
import type { FlagRecord } from '../../src/domain/flag.ts';
import { EXPIRED, expireExcerpt, FORGOTTEN, memberView, redactMember } from '../../src/store/members.ts';

const flag = (over: Partial<FlagRecord> = {}): FlagRecord => ({
  id: 'flag:1',
  platform: 'discord',
  workspaceId: 'g',
  channelId: 'c',
  messageId: 'm',
  authorId: 'author',
  authorName: 'Ann',
  excerpt: 'same to you',
  context: [
    { authorId: 'parent', authorName: 'Pat', text: 'you are an idiot', fromBot: false },
    { authorId: 'bot', text: 'please keep it civil', fromBot: true },
  ],
  flagged: ['insult'],
  scores: { insult: 0.9 },
  reasons: { insult: ['“same to you” in reply to a message flagged insult (idiot)'] },
  createdAt: 1,
  status: 'actioned',
  history: [{ at: 2, actorId: 'mod', actorName: 'Mo', action: 'delete' }],
  appeal: {
    memberId: 'author',
    note: 'it was a joke',
    at: 3,
    status: 'upheld',
    decidedAt: 4,
    decidedById: 'mod',
    decidedByName: 'Mo',
  },
  ...over,
});

describe('forget-me and expiry on flags with a reply chain and an appeal', () => {
  it('GIVEN a member quoted in another flag’s reply chain THEN their turn is forgotten, the rest kept', () => {
    const next = redactMember(flag(), 'parent')!;
    expect(next.context).toEqual([
      { authorId: FORGOTTEN, text: FORGOTTEN, fromBot: false },
      { authorId: 'bot', text: 'please keep it civil', fromBot: true },
    ]);
    expect(next.excerpt).toBe('same to you');
    expect(JSON.stringify(next)).not.toMatch(/Pat|you are an idiot/);
  });

  it('GIVEN the flagged member THEN their appeal note goes with their excerpt', () => {
    const next = redactMember(flag(), 'author')!;
    expect(next.appeal).toMatchObject({ memberId: FORGOTTEN, note: FORGOTTEN, status: 'upheld' });
    expect(JSON.stringify(next)).not.toMatch(/it was a joke|Ann/);
  });

  it('GIVEN the moderator who decided the appeal THEN their id and name go', () => {
    const next = redactMember(flag(), 'mod')!;
    expect(next.appeal).toMatchObject({ decidedById: FORGOTTEN });
    expect(JSON.stringify(next)).not.toMatch(/"Mo"|"mod"/);
  });

  it('GIVEN a member the flag does not mention THEN nothing changes', () => {
    expect(redactMember(flag(), 'stranger')).toBeNull();
  });

  it('GIVEN expiry THEN the reply chain texts expire with the excerpt', () => {
    const next = expireExcerpt(flag())!;
    expect(next.context!.map((t) => t.text)).toEqual([EXPIRED, EXPIRED]);
  });

  it('GIVEN a data export for a member quoted in a flag’s reply chain THEN their turn shows, no one else’s words or names', () => {
    const view = memberView(flag(), 'parent')!;
    expect(view.context![0]).toMatchObject({ authorId: 'parent', text: 'you are an idiot' });
    expect(JSON.stringify(view)).not.toMatch(/same to you|it was a joke|Ann|"Mo"|"mod"/);
  });
});

describe('forget-me and expiry on the attribution weights', () => {
  const weighted = () =>
    flag({
      reasons: { insult: ['same', 'you'] },
      attributionWeights: {
        insult: [
          { word: 'same', weight: 1 },
          { word: 'you', weight: 0.3 },
        ],
      },
    });

  it('GIVEN the flagged member forgotten THEN their weighted words go with the reasons', () => {
    const next = redactMember(weighted(), 'author')!;
    expect(next.reasons).toEqual({ insult: [] });
    expect(next.attributionWeights).toEqual({ insult: [] });
    expect(JSON.stringify(next)).not.toMatch(/"same"|"you"/);
  });

  it('GIVEN someone else forgotten THEN the weights stay', () => {
    expect(redactMember(weighted(), 'mod')!.attributionWeights).toEqual(weighted().attributionWeights);
  });

  it('GIVEN the excerpt expires THEN the weights are blanked with it', () => {
    const next = expireExcerpt(weighted())!;
    expect(next.attributionWeights).toEqual({ insult: [] });
    expect(JSON.stringify(next)).not.toMatch(/"same"|"you"/);
  });

  it('GIVEN the data export of the moderator who acted THEN the author’s weighted words are not in it', () => {
    const view = memberView(weighted(), 'mod')!;
    expect(view.history[0]).toMatchObject({ actorId: 'mod', actorName: 'Mo' });
    expect(view.attributionWeights).toEqual({ insult: [] });
    expect(JSON.stringify(view)).not.toMatch(/"same"|"you"|Ann/);
  });

  it('GIVEN an old flag without weights THEN redaction adds none', () => {
    expect(redactMember(flag(), 'author')!).not.toHaveProperty('attributionWeights');
    expect(expireExcerpt(flag())!).not.toHaveProperty('attributionWeights');
  });
});
