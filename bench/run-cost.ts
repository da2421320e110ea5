/**
 * `npx tsx bench/run-cost.ts [--dtype q8|fp32] [--threads N]` — what one encoder run of the signals model costs,
 * estimated as `fixed ms + µs per padded token` from batches of 1–64 texts × 8–64 tokens. The
 * ratio is the runtime's DEFAULT_TUNING.runOverheadTokens (the fixed cost in token equivalents), which the length
 * bucketing weighs against padding.
 */
import { parseArgs } from 'node:util';
import { AutoModel, Tensor } from '@huggingface/transformers';
import { sessionOptions } from '../models/runtime/load.ts';
import { DEFAULT_TUNING } from '../models/runtime/settings.ts';

const { values } = parseArgs({
  options: { dtype: { type: 'string', default: 'q8' }, threads: { type: 'string', default: '2' } },
});
const dir = process.env.STEWARD_MODEL_SIGNALS ?? 'models/bundled/signals';
const model = await AutoModel.from_pretrained(dir, {
  local_files_only: true,
  dtype: values.dtype as 'q8' | 'fp32',
  device: 'cpu',
  session_options: sessionOptions(Number(values.threads)),
});

const run = (n: number, w: number) => {
  const ids = new BigInt64Array(n * w).fill(5n);
  const mask = new BigInt64Array(n * w).fill(1n);
  return model({
    input_ids: new Tensor('int64', ids, [n, w]),
    attention_mask: new Tensor('int64', mask, [n, w]),
  });
};

const points: Array<{ tokens: number; w: number; ms: number }> = [];
for (const w of [8, 16, 32, 64]) {
  for (const n of [1, 4, 16, 64]) {
    await run(n, w);
    const reps = Math.max(3, Math.round(2000 / (n * w)));
    let best = Number.POSITIVE_INFINITY;
    // Best of three timings of `reps` runs each: the machine is shared.
    for (let round = 0; round < 3; round++) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) await run(n, w);
      best = Math.min(best, (performance.now() - t0) / reps);
    }
    points.push({ tokens: n * w, w, ms: best });
    console.log(`  [${n} × ${w}] ${best.toFixed(2)} ms`);
  }
}
await model.dispose();

// The marginal cost of a token: a full batch at a typical chat width. The fixed cost: a one-text, 8-token run minus
// its 8 tokens at that rate. (A straight-line fit over all shapes does worse: attention makes wide batches
// superlinear, which the fit pushes into the intercept.)
const at = (n: number, w: number) => points.find((p) => p.tokens === n * w && p.w === w)!.ms;
const slope = at(64, 32) / (64 * 32);
const fixed = at(1, 8) - 8 * slope;
console.log(
  `run cost (${values.dtype}, ${values.threads} threads): ${fixed.toFixed(2)} ms + ${(slope * 1000).toFixed(1)} µs/token` +
    ` → fixed cost ≈ ${Math.round(fixed / slope)} tokens (DEFAULT_TUNING.runOverheadTokens = ${DEFAULT_TUNING.runOverheadTokens})`,
);
