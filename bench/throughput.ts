/**
 * Steady-state analyze throughput, the naive baseline and the GEMM roofs, measured in interleaved rounds
 * (gemm → engine q8 → engine fp32 → naive → …) so that a noisy neighbour slows all of them alike and the
 * ratios between them stay meaningful. Each figure is the median over rounds.
 */
import type { InferenceEngine } from '../src/engine.ts';
import type { Gemm } from './gemm.ts';
import type { Naive } from './naive.ts';
import { median } from './stats.ts';

export interface Contender {
  name: string;
  /** Runs for about `seconds`; returns messages (or GFLOPS for a GEMM) per second. */
  measure(seconds: number): Promise<number>;
  /** Seconds per round for this contender, relative to the round length. */
  weight: number;
}

/** Engine throughput: batches of `batchSize` consecutive sample texts through engine.signals(). */
export function engineContender(
  name: string,
  engine: InferenceEngine,
  texts: string[],
  batchSize: number,
): Contender {
  let offset = 0;
  return {
    name,
    weight: 1,
    async measure(seconds) {
      let n = 0;
      const start = performance.now();
      while (performance.now() - start < seconds * 1000 || n < batchSize * 2) {
        const batch: string[] = [];
        for (let i = 0; i < batchSize; i++) batch.push(texts[(offset + i) % texts.length]!);
        offset += batchSize;
        await engine.signals(batch);
        n += batchSize;
      }
      return n / ((performance.now() - start) / 1000);
    },
  };
}

export function naiveContender(naive: Naive, texts: string[]): Contender {
  let offset = 0;
  return {
    name: 'naive',
    weight: 0.5,
    async measure(seconds) {
      const { rate, next } = await naive.measure(texts, seconds, offset);
      offset = next;
      return rate;
    },
  };
}

export function gemmContender(name: string, gemm: Gemm): Contender {
  return { name, weight: 0.25, measure: (seconds) => gemm.measure(seconds) };
}

export interface RoundResults {
  /** Median per contender over rounds. */
  medians: Record<string, number>;
  /** Every round's figure, for the log (shows the noise). */
  samples: Record<string, number[]>;
}

/** `rounds` rounds of every contender, each running roundSeconds × its weight. */
export async function runRounds(
  contenders: Contender[],
  rounds: number,
  roundSeconds: number,
  log: (line: string) => void,
): Promise<RoundResults> {
  const samples: Record<string, number[]> = {};
  for (const c of contenders) {
    samples[c.name] = [];
    await c.measure(Math.min(0.5, roundSeconds * c.weight)); // warm-up, not recorded
  }
  for (let r = 0; r < rounds; r++) {
    const parts: string[] = [];
    for (const c of contenders) {
      const value = await c.measure(roundSeconds * c.weight);
      samples[c.name]!.push(value);
      parts.push(`${c.name} ${value.toFixed(0)}`);
    }
    log(`  round ${r + 1}/${rounds}: ${parts.join(' · ')}`);
  }
  const medians: Record<string, number> = {};
  for (const [name, values] of Object.entries(samples)) medians[name] = median(values);
  return { medians, samples };
}
