import { AutoTokenizer, type PreTrainedTokenizer } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { encode, planBuckets, topWordWeights, wordsOf } from '../../models/runtime/tokens.ts';
import { hasModel, modelFolder } from '../../models/runtime/testing.ts';

describe('words that drove a label', () => {
  const word = (position: number, text: string) => ({ positions: [position], text });
  const weights = (scores: number[]) => (position: number) => scores[position] ?? 0;

  it('GIVEN neighbouring single characters that both count THEN they are one phrase (杀|毒 → 杀毒)', () => {
    const words = [word(0, '杀'), word(1, '毒'), word(2, '软件'), word(3, '更新')];
    expect(topWordWeights(words, weights([0.5, 1, 0.6, 0.01]))).toEqual([
      { word: '杀毒', weight: 1 },
      { word: '软件', weight: 0.4 },
    ]);
  });

  it('GIVEN a particle or pronoun beside a character, or a character that does not count THEN they stay apart', () => {
    expect(topWordWeights([word(0, '黑'), word(1, '吗')], weights([1, 0.5])).map((w) => w.word)).toEqual([
      '黑',
      '吗',
    ]);
    expect(topWordWeights([word(0, '骂'), word(1, '人')], weights([1, 0.05])).map((w) => w.word)).toEqual([
      '骂',
    ]);
    expect(topWordWeights([word(0, 'bad'), word(1, 'guy')], weights([1, 1])).map((w) => w.word)).toEqual([
      'bad',
      'guy',
    ]);
  });
});

describe('length buckets', () => {
  it('covers every index once, keeps similar lengths together and respects both limits', () => {
    const lengths = [5, 120, 7, 6, 118, 64, 5, 9, 130, 8];
    const buckets = planBuckets(lengths, 3, 300);
    expect(buckets.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
    for (const bucket of buckets) {
      expect(bucket.length).toBeLessThanOrEqual(3);
      expect(bucket.length * Math.max(...bucket.map((i) => lengths[i]!))).toBeLessThanOrEqual(300);
    }
    expect(buckets[0]!.map((i) => lengths[i])).toEqual([5, 5, 6]);
  });

  const cost = (lengths: number[], buckets: number[][], overhead: number) =>
    buckets.reduce((sum, b) => sum + overhead + b.length * Math.max(...b.map((i) => lengths[i]!)), 0);

  it('with a run overhead, cuts where padding costs more than another run, and never worse than any fixed size', () => {
    // A seeded spread of chat-like lengths: mostly short, a long tail.
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const lengths = Array.from({ length: 64 }, () => 4 + Math.floor(rand() ** 3 * 120));
    const planned = planBuckets(lengths, 64, 8192, 32);
    expect(planned.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
    for (const size of [1, 4, 8, 16, 32, 64]) {
      expect(cost(lengths, planned, 32)).toBeLessThanOrEqual(
        cost(lengths, planBuckets(lengths, size, 8192), 32),
      );
    }
    // One long outlier gets a run of its own instead of padding 15 short texts to its length.
    const outlier = [...Array.from({ length: 15 }, () => 10), 128];
    expect(planBuckets(outlier, 64, 8192, 32).map((b) => b.length)).toEqual([15, 1]);
    // Equal lengths: nothing to gain from a cut, so as few runs as maxItems allows.
    const equal = planBuckets(
      Array.from({ length: 40 }, () => 12),
      16,
      8192,
      32,
    );
    expect(equal.map((b) => b.length).sort((a, b) => a - b)).toEqual([8, 16, 16]);
    // The token limit still holds.
    for (const b of planBuckets(lengths, 64, 300, 32))
      expect(b.length === 1 || b.length * Math.max(...b.map((i) => lengths[i]!)) <= 300).toBe(true);
  });
});

describe.skipIf(!hasModel('signals'))('encoding with the bundled tokenizer', () => {
  let tokenizer: PreTrainedTokenizer;
  beforeAll(async () => {
    tokenizer = await AutoTokenizer.from_pretrained(modelFolder('signals'), { local_files_only: true });
  });

  /** The reference: tokenize everything, then keep maxLength tokens from one end, closing </s> kept. */
  function reference(text: string, maxLength: number, keep: 'start' | 'end'): number[] {
    const ids = tokenizer._tokenizer.encode(text).ids;
    if (ids.length <= maxLength) return ids;
    const body = ids.slice(0, -1);
    return [
      ...(keep === 'start' ? body.slice(0, maxLength - 1) : body.slice(body.length - (maxLength - 1))),
      ids.at(-1)!,
    ];
  }

  it('GIVEN very long texts THEN cutting characters before tokenizing keeps exactly the same tokens', () => {
    const texts = [
      'why is the server so slow today? I keep getting timeouts 😂 '.repeat(700),
      '我爱北京天安门，这个社区真的很好。'.repeat(2000),
      'a'.repeat(40_000),
      `${' '.repeat(20_000)}tail words at the very end`,
      '👨‍👩‍👧‍👦🇺🇸'.repeat(3000),
    ];
    for (const text of texts) {
      for (const keep of ['start', 'end'] as const) {
        const encoded = encode(tokenizer, text, 64, keep);
        expect(encoded.ids).toEqual(reference(text, 64, keep));
        expect(encoded.tokens).toHaveLength(encoded.ids.length);
        expect(encoded.dropped).toBeGreaterThan(0);
      }
    }
  });

  it('GIVEN a short text THEN nothing is dropped and the closing </s> is there', () => {
    const encoded = encode(tokenizer, 'hello there', 64);
    expect(encoded.dropped).toBe(0);
    expect(encoded.ids.at(-1)).toBe(tokenizer.eos_token_id);
  });

  it('merges subword pieces into the words of the text and leaves out specials and punctuation', () => {
    const text = 'Unbelievably stupid!!! 我爱北京 @user #tag ...';
    const words = wordsOf(tokenizer, encode(tokenizer, text, 64)).map((w) => w.text);
    expect(words).toContain('Unbelievably');
    expect(words).toContain('stupid');
    expect(words).toContain('@user');
    expect(words).toContain('#tag');
    expect(words.join('')).toContain('我');
    for (const word of words) {
      expect(text).toContain(word);
      expect(word).not.toMatch(/^[\p{P}\s]+$/u);
    }
  });

  it('GIVEN Chinese text THEN the words are words (dictionary word break), not single characters', () => {
    const text = '我想去一个风景优美、美食丰富的地方度假';
    const words = wordsOf(tokenizer, encode(tokenizer, text, 64)).map((w) => w.text);
    expect(words).toEqual(expect.arrayContaining(['风景', '优美', '美食', '丰富', '度假']));
    expect(words.join('')).toBe(text.replace('、', ''));
  });

  it('GIVEN an insult that the dictionary cuts into characters THEN it stays one word (insults-zh.ts)', () => {
    expect(
      new Intl.Segmenter('zh', { granularity: 'word' }).segment('你就是个傻逼').containing(4)?.segment,
    ).toBe('傻');
    const words = (text: string) => wordsOf(tokenizer, encode(tokenizer, text, 64)).map((w) => w.text);
    expect(words('你就是个傻逼')).toEqual(['你', '就是', '个', '傻逼']);
    expect(words('去死吧你这个贱人')).toContain('贱人');
    expect(words('黑鬼都该死')).toContain('黑鬼');
  });
});
