import { describe, expect, it } from 'vitest';
import { relativeWeight, topWordWeights, topWords, type Word } from '../../models/runtime/tokens.ts';

const words = (...texts: string[]): Word[] => texts.map((text, i) => ({ text, positions: [i] }));

describe('attribution weights of the words that drove a label', () => {
  it('GIVEN per-token contributions THEN the strongest words with their share of the strongest, same order as topWords', () => {
    const w = words('you', 'absolute', 'idiot', 'today');
    const contribution = [0.8, 0.3, 2, 0.1];
    const weighted = topWordWeights(w, (p) => contribution[p]!);
    expect(weighted).toEqual([
      { word: 'idiot', weight: 1 },
      { word: 'you', weight: 0.4 },
      { word: 'absolute', weight: 0.15 },
    ]);
    expect(topWords(w, (p) => contribution[p]!)).toEqual(weighted.map((x) => x.word));
  });

  it('GIVEN a word split over tokens or repeated THEN its tokens are summed and the best occurrence kept', () => {
    const w: Word[] = [
      { text: 'idiot', positions: [0, 1] },
      { text: 'Idiot', positions: [2] },
      { text: 'ok', positions: [3] },
    ];
    const contribution = [1, 1, 0.5, -1];
    expect(topWordWeights(w, (p) => contribution[p]!)).toEqual([{ word: 'idiot', weight: 1 }]);
  });

  it('GIVEN no positive contribution THEN no words; weights are clamped to 0..1', () => {
    expect(topWordWeights(words('a', 'b'), () => -1)).toEqual([]);
    expect(relativeWeight(3, 2)).toBe(1);
    expect(relativeWeight(-1, 2)).toBe(0);
    expect(relativeWeight(1, 0)).toBe(0);
  });
});
