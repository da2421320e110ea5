/**
 * The roof of the roofline: GEMM GFLOPS measured through onnxruntime-node itself, with the engine's thread
 * count, so "fraction of roof" compares the model with what the same runtime reaches on a plain matmul.
 * The one-node ONNX graphs are built by test/fixtures/onnx/build.py with the onnx package (python3-onnx).
 */
import * as ort from 'onnxruntime-node';
import { buildOnnx } from '../test/fixtures/onnx/build.ts';

export interface Gemm {
  /** Runs the GEMM repeatedly for about `seconds`; returns GFLOPS (2·M·N·K per run). */
  measure(seconds: number): Promise<number>;
  release(): Promise<void>;
}

/**
 * A GEMM session, [m × k] · [k × n], with `threads` intra-op threads: 1024³ by default (the roof), or a model's
 * own shapes (tokens of a bucket × d_model × ffn) to show what GEMMs that small reach.
 */
export async function createGemm(
  kind: 'fp32' | 'int8',
  threads: number,
  shape: { m: number; k: number; n: number } = { m: 1024, k: 1024, n: 1024 },
): Promise<Gemm> {
  const { m, k, n } = shape;
  const op = kind === 'int8' ? 'MatMulInteger' : 'MatMul';
  const session = await ort.InferenceSession.create(buildOnnx({ kind: 'matmul', op, m, k, n }), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const a =
    kind === 'int8'
      ? new ort.Tensor(
          'uint8',
          new Uint8Array(m * k).map((_, i) => i % 251),
          [m, k],
        )
      : new ort.Tensor(
          'float32',
          new Float32Array(m * k).map((_, i) => (i % 11) / 11),
          [m, k],
        );
  const flops = 2 * m * k * n;
  const runOnce = async () => {
    const out = await session.run({ A: a });
    for (const t of Object.values(out)) t.dispose();
  };
  await runOnce();
  return {
    async measure(seconds) {
      await runOnce();
      let runs = 0;
      const start = performance.now();
      let elapsed = 0;
      while (elapsed < seconds * 1000 || runs < 3) {
        await runOnce();
        runs++;
        elapsed = performance.now() - start;
      }
      return (runs * flops) / (elapsed / 1000) / 1e9;
    },
    release: () => session.release(),
  };
}
