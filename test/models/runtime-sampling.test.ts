import { Tensor } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { SeededSampler, type SamplingSettings } from '../../models/runtime/sampling.ts';

const EOS = 1;
const SAMPLE: SamplingSettings = { doSample: true, temperature: 1, topK: 0, topP: 1 };

/** One generation step over `rows` copies of a logit row; returns the chosen token per row. */
function step(sampler: SeededSampler, logits: number[], history: number[][]): number[] {
  const tensor = new Tensor('float32', Float32Array.from(history.flatMap(() => logits)), [
    history.length,
    logits.length,
  ]);
  sampler(
    history.map((h) => h.map(BigInt)),
    tensor,
  );
  const data = tensor.data as Float32Array;
  return history.map((_, row) => {
    const slice = Array.from(data.subarray(row * logits.length, (row + 1) * logits.length));
    expect(slice.filter((x) => x === 0)).toHaveLength(1); // exactly one token left standing
    return slice.indexOf(0);
  });
}

function draws(
  seed: number,
  settings: SamplingSettings,
  logits: number[],
  n: number,
  partners = 0,
): number[] {
  const sampler = new SeededSampler(
    [seed, ...Array.from({ length: partners }, (_, i) => 1000 + i)],
    settings,
    EOS,
    1,
  );
  const out: number[] = [];
  for (let i = 0; i < n; i++)
    out.push(
      step(
        sampler,
        logits,
        Array.from({ length: partners + 1 }, () => [0]),
      )[0]!,
    );
  return out;
}

describe('seeded sampling', () => {
  const flat = [0, 0, 1, 1, 1, 1, 1, 1];

  it('GIVEN the same seed THEN the same tokens, whatever else shares the batch', () => {
    const alone = draws(7, SAMPLE, flat, 30);
    expect(draws(7, SAMPLE, flat, 30)).toEqual(alone);
    expect(draws(7, SAMPLE, flat, 30, 5)).toEqual(alone);
    expect(draws(8, SAMPLE, flat, 30)).not.toEqual(alone);
  });

  it('GIVEN top_p THEN only the nucleus is ever drawn; GIVEN top_k THEN only the k best', () => {
    const peaked = [-9, -9, 5, 4, -9, -9, -9, -9];
    expect(new Set(draws(1, { ...SAMPLE, topP: 0.5 }, peaked, 50))).toEqual(new Set([2]));
    const topTwo = new Set(draws(2, { ...SAMPLE, topK: 2 }, [0, 0, 3, 2.9, 2.8, 0, 0, 0], 200));
    expect([...topTwo].every((t) => t === 2 || t === 3)).toBe(true);
  });

  it('never draws a token another processor banned (-Infinity), and greedy mode takes the argmax', () => {
    const banned = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, 0, 0, 0, 0, 0];
    expect(draws(3, SAMPLE, banned, 100).every((t) => t >= 2)).toBe(true);
    expect(new Set(draws(3, { ...SAMPLE, doSample: false }, [0, 0, 1, 7, 2, 0, 0, 0], 10))).toEqual(
      new Set([3]),
    );
  });

  it('GIVEN a row that already produced </s> THEN it stays at </s>', () => {
    const sampler = new SeededSampler([1, 2], SAMPLE, EOS, 1);
    const chosen = step(sampler, flat, [
      [0, 5, EOS],
      [0, 5, 6],
    ]);
    expect(chosen[0]).toBe(EOS);
  });
});
