import { describe, expect, it } from 'vitest';
import type { LibraryItem } from '../../src/domain/library.ts';
import { contentWords, foldMessage, halfLifeMs } from '../../src/domain/profile.ts';
import { Catalog } from '../../worker/recommend/catalog.ts';
import { isRecommendationRequest } from '../../worker/recommend/intent.ts';
import { recommend } from '../../worker/recommend/rank.ts';

const item = (id: string, text: string, kind: LibraryItem['kind'] = 'resource'): LibraryItem => ({
  id,
  title: id,
  text,
  kind,
});
const axis = (i: number) => Float32Array.from({ length: 4 }, (_, d) => (d === i ? 1 : 0));
const who = { platform: 'local' as const, workspaceId: 'w', userId: 'u' };

describe('recommendation ranking', () => {
  const catalog = new Catalog(
    [
      item('hockey', 'NHL games, goalies and the Stanley Cup'),
      item('music', 'Songs, albums and concerts'),
      item('beach', 'Beaches, islands and street food. 关键词: 海滩, 美食'),
      item('#food', 'Recipes and restaurants', 'channel'),
    ],
    [axis(0), axis(1), axis(2), axis(3)],
  );

  it('GIVEN a profile built from hockey talk THEN hockey comes first, explained by the matched words', () => {
    let p = foldMessage(null, who, axis(0), contentWords('what a save by the goalie tonight'), 0);
    p = foldMessage(p, who, axis(0), contentWords('the Stanley Cup final was tense'), 1);
    const [top] = recommend(catalog, { profile: p });
    expect(top?.id).toBe('hockey');
    expect(top?.matched.profile).toEqual(expect.arrayContaining(['goalie', 'stanley', 'cup']));
    expect(top?.why).toMatch(/^you talked about /);
  });

  it('GIVEN a Chinese request and no usable embedding THEN its character pairs find the item with Chinese keywords', () => {
    const [top] = recommend(catalog, {
      request: { words: contentWords('有没有海滩和美食的地方'), embedding: null },
    });
    expect(top?.id).toBe('beach');
    expect(top?.why).toMatch(/you asked about .*(海滩|美食)/);
  });

  it('GIVEN a request and a profile THEN the request leads and the profile breaks the tie', () => {
    const profile = foldMessage(null, who, axis(1), contentWords('that album and the concert'), 0);
    const request = { words: contentWords('any concert or NHL game tips?'), embedding: null };
    expect(recommend(catalog, { profile, request })[0]?.id).toBe('music');
  });

  it('GIVEN kinds THEN only items of those kinds are ranked', () => {
    const profile = foldMessage(null, who, axis(3), ['recipe'], 0);
    expect(recommend(catalog, { profile }, { kinds: ['channel'] }).map((r) => r.id)).toEqual(['#food']);
  });

  it('GIVEN an empty library THEN nothing is recommended', () => {
    expect(recommend(new Catalog([], []), { profile: foldMessage(null, who, axis(0), ['x'], 0) })).toEqual(
      [],
    );
  });
});

describe('interest profiles', () => {
  it('GIVEN an old message THEN its weight has decayed by its age in half-lives', () => {
    const p = foldMessage(null, who, axis(0), ['hockey'], 0);
    const later = foldMessage(p, who, axis(1), ['music'], halfLifeMs(null));
    expect(later.vector[0]).toBeCloseTo(0.5);
    expect(later.terms).toEqual({ music: 1, hockey: 0.5 });
  });

  it('GIVEN a word repeated in one message and more terms than are kept THEN it counts once and only the strongest stay, stored order breaking ties', () => {
    const many = Array.from({ length: 45 }, (_, i) => `term${String.fromCharCode(97 + (i % 26))}${i}`);
    let p = foldMessage(null, who, axis(0), many.slice(0, 30), 0);
    p = foldMessage(p, who, axis(0), ['goalie', 'goalie', ...many.slice(0, 10), ...many.slice(30)], 0);
    expect(p.terms.goalie).toBe(1);
    expect(Object.keys(p.terms)).toHaveLength(40);
    // The ten repeated terms (weight 2) lead in their stored order, then the weight-1 terms in stored-then-new order.
    expect(Object.keys(p.terms).slice(0, 10)).toEqual(many.slice(0, 10));
    expect(Object.keys(p.terms).slice(10, 30)).toEqual(many.slice(10, 30));
    expect(Object.keys(p.terms)[30]).toBe('goalie');
    expect(p.terms[many[44]!]).toBeUndefined();
  });

  it('GIVEN a retention limit THEN the half-life is a fifth of it at most', () => {
    expect(halfLifeMs(5)).toBe(86_400_000);
    expect(halfLifeMs(null)).toBe(14 * 86_400_000);
  });

  it('GIVEN text THEN content words drop function words, fold plurals and pair Chinese characters', () => {
    expect(contentWords('Where should I go? The beaches and the islands!')).toEqual(['beach', 'island']);
    expect(contentWords('我想去度假')).toEqual(['我想', '想去', '去度', '度假']);
  });

  it('GIVEN requests THEN recommendation requests are told apart from chat', () => {
    expect(isRecommendationRequest('where should I go on holiday?')).toBe(true);
    expect(isRecommendationRequest('我想去一个风景优美、美食丰富的地方度假')).toBe(true);
    expect(isRecommendationRequest('can you recommend a good film')).toBe(true);
    expect(isRecommendationRequest('the game last night was great')).toBe(false);
  });
});

describe('explanations', () => {
  it('GIVEN overlapping Chinese character pairs THEN the bridging pairs are left out', async () => {
    const { joinPairs } = await import('../../worker/recommend/rank.ts');
    expect(joinPairs(['风景', '景优', '优美', 'food', '美食'])).toEqual(['风景', '优美', 'food', '美食']);
    expect(joinPairs(['优美', '风景', '景优'])).toEqual(['优美', '风景']);
  });
});

describe('the answer a member reads', () => {
  const catalog = new Catalog(
    [
      item(
        'Thailand',
        '海滩、寺庙和街头美食。Beaches, temples and street food. 关键词: 海滩, 美食, 风景',
        'resource',
      ),
      item('Japan', 'Temples, trains and food. 关键词: 寺庙, 美食'),
      item('#travel', 'Trips and holidays', 'channel'),
    ],
    [axis(0), axis(1), axis(2)],
  );

  it('GIVEN a request in Chinese THEN the recommendation is written in Chinese, with why in Chinese words', async () => {
    const { answerText } = await import('../../worker/recommend/service.ts');
    const recs = recommend(
      catalog,
      { request: { words: contentWords('我想去有海滩和美食的地方度假'), embedding: null } },
      { kinds: ['resource'] },
    );
    const channel = recommend(
      catalog,
      { request: { words: contentWords('旅行'), embedding: null } },
      { kinds: ['channel'] },
    )[0];
    const zh = answerText(catalog.items[0]!, recs, channel, 'zh');
    expect(zh).toMatch(/^推荐你看看 \*Thailand\*：海滩、寺庙和街头美食。（理由：你问到了.*(海滩|美食).*。）/);
    expect(zh).toContain('另外还有：Japan。');
    expect(zh).not.toMatch(/How about|why:|Also:/);
    // The same ranking for an English request reads as before.
    expect(answerText(catalog.items[0]!, recs, undefined, 'en')).toMatch(
      /^How about \*Thailand\*\? .*\(why: you asked about /,
    );
  });
});
