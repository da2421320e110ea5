/**
 * The roof of the roofline: GEMM GFLOPS measured through onnxruntime-node itself, with the engine's thread
 * count, so "fraction of roof" compares the model with what the same runtime reaches on a plain matmul.
 * The ONNX graphs are encoded here by hand (a few protobuf fields), so no Python or onnx package is needed.
 */
import * as ort from 'onnxruntime-node';

// ---- minimal protobuf writer (only what an ONNX ModelProto with one node needs) ----
function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}
const intField = (field: number, n: number): Uint8Array =>
  Uint8Array.from([...varint(field << 3), ...varint(n)]);
function bytesField(field: number, payload: Uint8Array | string): Uint8Array {
  const body = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  const head = Uint8Array.from([...varint((field << 3) | 2), ...varint(body.length)]);
  return concat([head, body]);
}
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** ONNX TensorProto.DataType values used here. */
const DT = { float: 1, uint8: 2, int8: 3, int32: 6 } as const;

function valueInfo(name: string, elemType: number, dims: number[]): Uint8Array {
  const shape = concat(dims.map((d) => bytesField(1, intField(1, d))));
  const tensorType = concat([intField(1, elemType), bytesField(2, shape)]);
  return concat([bytesField(1, name), bytesField(2, bytesField(1, tensorType))]);
}

function initializer(name: string, elemType: number, dims: number[], raw: Uint8Array): Uint8Array {
  return concat([
    ...dims.map((d) => intField(1, d)),
    intField(2, elemType),
    bytesField(8, name),
    bytesField(9, raw),
  ]);
}

/** One-node model: Y = op(A, B) with B a constant initializer (pre-packed like real weights). */
function matmulModel(op: 'MatMul' | 'MatMulInteger', m: number, k: number, n: number): Uint8Array {
  const int8 = op === 'MatMulInteger';
  const aType = int8 ? DT.uint8 : DT.float;
  const bType = int8 ? DT.int8 : DT.float;
  const yType = int8 ? DT.int32 : DT.float;
  const bRaw = int8
    ? new Int8Array(k * n).map((_, i) => (i % 13) - 6)
    : new Float32Array(k * n).map((_, i) => (i % 7) / 7);
  const node = concat([
    bytesField(1, 'A'),
    bytesField(1, 'B'),
    bytesField(2, 'Y'),
    bytesField(3, 'mm'),
    bytesField(4, op),
  ]);
  const graph = concat([
    bytesField(1, node),
    bytesField(2, 'gemm'),
    bytesField(5, initializer('B', bType, [k, n], new Uint8Array(bRaw.buffer))),
    bytesField(11, valueInfo('A', aType, [m, k])),
    bytesField(12, valueInfo('Y', yType, [m, n])),
  ]);
  const opset = concat([bytesField(1, ''), intField(2, 13)]);
  return concat([intField(1, 8), bytesField(2, 'steward-bench'), bytesField(7, graph), bytesField(8, opset)]);
}

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
  const session = await ort.InferenceSession.create(matmulModel(op, m, k, n), {
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
