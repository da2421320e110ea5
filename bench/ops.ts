/**
 * Per-operator time of the signals graph on one real length bucket, from onnxruntime's own profiler: shows
 * how much of a run is the (quantized) matmuls, i.e. how far the graph itself is from a GEMM-bound one.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

export interface OpShare {
  op: string;
  share: number;
  perRun: number;
}

/** Runs `onnxFile` on [batch, width] dummy tokens for ~`seconds`; returns op types by share of kernel time. */
export async function opProfile(
  onnxFile: string,
  threads: number,
  batch: number,
  width: number,
  seconds: number,
): Promise<{ ops: OpShare[]; msPerRun: number }> {
  const prefix = join(tmpdir(), `steward-bench-ops-${process.pid}`);
  const session = await ort.InferenceSession.create(onnxFile, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    enableProfiling: true,
    profileFilePrefix: prefix,
  });
  const n = batch * width;
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) {
    const fill = name === 'attention_mask' ? 1n : name === 'token_type_ids' ? 0n : 5n;
    feeds[name] = new ort.Tensor('int64', new BigInt64Array(n).fill(fill), [batch, width]);
  }
  let runs = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000 || runs < 3) {
    const out = await session.run(feeds);
    for (const t of Object.values(out)) t.dispose();
    runs++;
  }
  const msPerRun = (performance.now() - start) / runs;
  // endProfiling() writes the trace (onnxruntime-node returns no name; the file name carries a timestamp).
  session.endProfiling();
  await session.release();
  const file = readdirSync(tmpdir())
    .filter((f) => f.startsWith(`steward-bench-ops-${process.pid}`))
    .map((f) => join(tmpdir(), f))[0];
  if (!file) return { ops: [], msPerRun };
  const events = JSON.parse(readFileSync(file, 'utf8')) as Array<{
    cat?: string;
    name: string;
    dur?: number;
    args?: { op_name?: string };
  }>;
  rmSync(file, { force: true });
  const byOp = new Map<string, { dur: number; count: number }>();
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !e.args?.op_name) continue;
    const entry = byOp.get(e.args.op_name) ?? { dur: 0, count: 0 };
    entry.dur += e.dur ?? 0;
    entry.count += 1;
    byOp.set(e.args.op_name, entry);
    total += e.dur ?? 0;
  }
  const ops = [...byOp.entries()]
    .map(([op, v]) => ({ op, share: v.dur / Math.max(1, total), perRun: v.count / runs }))
    .sort((a, b) => b.share - a.share);
  return { ops, msPerRun };
}

const MATMUL_OPS = new Set([
  'MatMul',
  'FusedMatMul',
  'Gemm',
  'MatMulInteger',
  'DynamicQuantizeMatMul',
  'QGemm',
  'QLinearMatMul',
  'MatMulNBits',
  'Attention',
  'QAttention',
]);

export interface GraphOps {
  /** Op type → share of kernel time, top 8. */
  top: Record<string, number>;
  /** Share of kernel time in matmul-like ops (what the GEMM roof is about). */
  matmulShare: number;
  line: string;
}

/** The signals graph of a model folder for a dtype, profiled on one [32, width] bucket. */
export async function graphOps(
  modelDir: string,
  dtype: string,
  threads: number,
  width: number,
  seconds: number,
): Promise<GraphOps> {
  const file = join(modelDir, 'onnx', dtype === 'q8' ? 'model_quantized.onnx' : 'model.onnx');
  const { ops } = await opProfile(file, threads, 32, width, seconds);
  const top = Object.fromEntries(ops.slice(0, 8).map((o) => [o.op, o.share]));
  const matmulShare = ops.filter((o) => MATMUL_OPS.has(o.op)).reduce((a, o) => a + o.share, 0);
  const line = ops
    .slice(0, 6)
    .map((o) => `${o.op} ${(o.share * 100).toFixed(0)} %`)
    .join(', ');
  return {
    top,
    matmulShare,
    line: `${line}; matmul-like ops ${(matmulShare * 100).toFixed(0)} % of kernel time`,
  };
}
