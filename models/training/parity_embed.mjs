#!/usr/bin/env node
// Parity of the embed model between PyTorch (parity.json, written by `embed.py export`) and the Node runtime.
//
//   node models/training/parity_embed.mjs [model_dir] [--dtype fp32|q8|both] [--json]
//
// Loads <model_dir> (default models/bundled/embed) with AutoTokenizer + AutoModel from local files only, checks the
// token ids against parity.json, mean-pools last_hidden_state over the attention mask (L2-normalised), and compares
// with the PyTorch embeddings: fp32 must agree to max |diff| < 1e-4, q8 to cosine > 0.98 (min over the texts). It
// runs each text alone and all of them as one padded batch (tokenizer padding + truncation, as a runtime would).
// Exit code 0 = pass, 1 = mismatch, 2 = usage / load error.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const dir = path.resolve(args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1] === '--dtype')) ?? path.join(HERE, '..', 'bundled', 'embed'));
const di = args.indexOf('--dtype');
const dtypes = di >= 0 && args[di + 1] !== 'both' ? [args[di + 1]] : ['fp32', 'q8'];

const { AutoTokenizer, AutoModel, Tensor, env } = await import('@huggingface/transformers');
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = '';

const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
const ref = JSON.parse(fs.readFileSync(path.join(dir, 'parity.json'), 'utf8'));
const L = cfg.steward.max_length;
const tok = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });

/** Runtime-style encoding: default special tokens ("</s>" appended), cut to max_length keeping the final "</s>". */
function encode(text) {
  const ids = tok.encode(text);
  return ids.length > L ? [...ids.slice(0, L - 1), ids[ids.length - 1]] : ids;
}
/** Mean over the attention mask of last_hidden_state [B, T, D], L2-normalised rows. */
function meanPool(hidden, mask) {
  const [B, T, D] = hidden.dims;
  const out = [];
  for (let b = 0; b < B; b++) {
    const v = new Float64Array(D);
    let n = 0;
    for (let t = 0; t < T; t++) {
      if (Number(mask.data[b * T + t]) === 0) continue;
      n++;
      for (let k = 0; k < D; k++) v[k] += hidden.data[(b * T + t) * D + k];
    }
    for (let k = 0; k < D; k++) v[k] /= Math.max(n, 1);
    const s = Math.sqrt(v.reduce((a, x) => a + x * x, 0)) || 1;
    out.push(Array.from(v, (x) => x / s));
  }
  return out;
}
const dot = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0);

let ok = true;
const reports = [];
let idFail = 0;
for (const c of ref.cases) {
  const got = encode(c.text);
  if (got.length !== c.input_ids.length || got.some((v, i) => v !== c.input_ids[i])) {
    idFail++;
    console.log(`TOKEN MISMATCH ${JSON.stringify(c.text).slice(0, 80)}\n  py:   ${c.input_ids}\n  node: ${got}`);
  }
}
if (idFail) ok = false;
for (const dtype of dtypes) {
  const model = await AutoModel.from_pretrained(dir, { local_files_only: true, dtype });
  let maxDiff = 0;
  let minCos = 1;
  let batchMaxDiff = 0;
  let batchMinCos = 1;
  const t0 = performance.now();
  for (const c of ref.cases) {
    const n = c.input_ids.length;
    const input_ids = new Tensor('int64', BigInt64Array.from(c.input_ids.map(BigInt)), [1, n]);
    const attention_mask = new Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
    const out = await model({ input_ids, attention_mask });
    if (out.last_hidden_state.dims[2] !== cfg.hidden_size) throw new Error(`bad output dims ${out.last_hidden_state.dims}`);
    const [e] = meanPool(out.last_hidden_state, attention_mask);
    maxDiff = Math.max(maxDiff, ...e.map((x, i) => Math.abs(x - c.embedding[i])));
    minCos = Math.min(minCos, dot(e, c.embedding));
  }
  const ms = (performance.now() - t0) / ref.cases.length;
  // one padded batch through the tokenizer (its own truncation drops the final </s> of over-long texts, so the
  // over-long case is compared only in the per-text loop above)
  const texts = ref.cases.filter((c) => tok.encode(c.text).length <= L);
  const enc = tok(texts.map((c) => c.text), { padding: true, truncation: true, max_length: L });
  const bout = await model({ input_ids: enc.input_ids, attention_mask: enc.attention_mask });
  meanPool(bout.last_hidden_state, enc.attention_mask).forEach((e, r) => {
    batchMaxDiff = Math.max(batchMaxDiff, ...e.map((x, i) => Math.abs(x - texts[r].embedding[i])));
    batchMinCos = Math.min(batchMinCos, dot(e, texts[r].embedding));
  });
  const pass = dtype === 'fp32' ? maxDiff < 1e-4 && batchMaxDiff < 1e-4 : minCos > 0.98 && batchMinCos > 0.98;
  if (!pass) ok = false;
  const r = {
    dtype,
    cases: ref.cases.length,
    token_id_failures: idFail,
    max_abs_diff: maxDiff,
    min_cosine: minCos,
    batched: { cases: texts.length, max_abs_diff: batchMaxDiff, min_cosine: batchMinCos },
    ms_per_text_unbatched: Number(ms.toFixed(2)),
    pass,
  };
  reports.push(r);
  if (!args.includes('--json')) console.log(JSON.stringify(r));
}
if (args.includes('--json')) console.log(JSON.stringify(reports));
console.log(ok ? 'embed parity: PASS' : 'embed parity: FAIL');
process.exit(ok ? 0 : 1);
