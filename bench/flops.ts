/** FLOPs of one encoder pass, from a Hugging Face config.json: 2·MACs of every matmul, attention included. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface EncoderShape {
  layers: number;
  dModel: number;
  ffn: number;
  heads: number;
  /** Width of Q/K/V per head × heads (T5's d_kv·heads may differ from d_model). */
  inner: number;
  /** Moderation labels (from the steward block; 4 when absent). */
  labels: number;
  /** Size of the pooled/head output matmuls after the encoder (pooler + heads), in MACs per sequence. */
  headMacs: number;
}

type Json = Record<string, unknown>;
const num = (cfg: Json, ...keys: string[]): number | undefined => {
  for (const key of keys) {
    const v = cfg[key];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return undefined;
};

/** Reads layers, width, FFN width and heads from config.json (BERT, DistilBERT, T5 and `steward` spellings). */
export function encoderShape(modelDir: string): EncoderShape {
  const raw = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as Json;
  const steward = (typeof raw.steward === 'object' && raw.steward !== null ? raw.steward : {}) as Json;
  const cfg = { ...raw, ...((steward.encoder as Json | undefined) ?? {}) };
  const dModel = num(cfg, 'hidden_size', 'd_model', 'dim', 'n_embd');
  const layers = num(cfg, 'num_hidden_layers', 'num_layers', 'n_layers', 'n_layer');
  const heads = num(cfg, 'num_attention_heads', 'num_heads', 'n_heads', 'n_head');
  const ffn =
    num(cfg, 'intermediate_size', 'd_ff', 'hidden_dim', 'n_inner') ?? (dModel ? 4 * dModel : undefined);
  if (!dModel || !layers || !heads || !ffn) {
    throw new Error(`${modelDir}/config.json: cannot read layers/d_model/heads/ffn for the FLOP count`);
  }
  const dKv = num(cfg, 'd_kv');
  const inner = dKv ? dKv * heads : dModel;
  // Pooler (d×d) plus the heads: sentiment 3, moderation labels, roughly; small next to the encoder.
  const labels = Array.isArray(steward.moderation_labels) ? steward.moderation_labels.length : 4;
  const headMacs = dModel * dModel + dModel * (3 + labels);
  return { layers, dModel, ffn, heads, inner, headMacs, labels };
}

/** FLOPs of one sequence of `tokens` tokens: QKV + output projections, QKᵀ, attention·V, FFN, heads. */
export function encoderFlops(shape: EncoderShape, tokens: number): number {
  const { layers, dModel, ffn, inner } = shape;
  const projections = tokens * (3 * dModel * inner + inner * dModel);
  const attention = 2 * tokens * tokens * inner;
  const feedForward = 2 * tokens * dModel * ffn;
  const macs = layers * (projections + attention + feedForward) + shape.headMacs;
  return 2 * macs;
}

/** Mean FLOPs per message over the actual (unpadded) token counts. */
export function meanFlops(shape: EncoderShape, tokenCounts: number[]): number {
  let sum = 0;
  for (const t of tokenCounts) sum += encoderFlops(shape, t);
  return sum / Math.max(1, tokenCounts.length);
}
