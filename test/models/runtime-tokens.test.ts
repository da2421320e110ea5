import { AutoTokenizer, type PreTrainedTokenizer } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { encode, planBuckets, wordsOf } from '../../models/runtime/tokens.ts';
import { hasModel, modelFolder } from '../../models/runtime/testing.ts';

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
});
