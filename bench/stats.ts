/** Small numeric helpers for the bench: percentiles, medians, seeded randomness. */

/** Percentile by nearest rank (p in 0..100) of an unsorted array; NaN when empty. */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (values: ArrayLike<number>): number => percentile(values, 50);

/** Mulberry32: a tiny deterministic PRNG so every run samples the same texts and arrival gaps. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Exponential inter-arrival gap (ms) of a Poisson process with `ratePerS` arrivals per second. */
export function poissonGapMs(ratePerS: number, random: () => number): number {
  return (-Math.log(1 - random()) / ratePerS) * 1000;
}

/** Rounds for printing and JSON (keeps 3 significant decimals on small numbers). */
export function round(n: number, digits = 2): number {
  if (!Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
