#!/usr/bin/env node
// Node side of embed.py (transformers.js is the tokenizer and runtime of record).
//
//   node embed_node.mjs tokenize <tokenizer_dir> <texts.json> <out.jsonl> [--max-length 64]
//       one JSON array of token ids per input text (same order), exactly as transformers.js encodes them
//       (default add_special_tokens: "</s>" appended); longer texts are cut to max_length keeping the final "</s>",
//       the way the runtime (models/runtime/signals.ts `encode`) truncates.
//   node embed_node.mjs embed <model_dir> <texts.json> <out.f32> [--dtype fp32|q8] [--output last_hidden_state|embeddings]
//       raw little-endian float32 rows, L2-normalised: mean over the attention mask of last_hidden_state (the embed
//       model), or the graph's own `embeddings` output (signals models, the "before" figures).
import fs from 'node:fs';
import path from 'node:path';

const { AutoTokenizer, AutoModel, Tensor, env } = await import('@huggingface/transformers');
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = '';

const [mode, dir, inFile, outFile, ...rest] = process.argv.slice(2);
const opt = (k, d) => {
  const i = rest.indexOf(k);
  return i >= 0 ? rest[i + 1] : d;
};
if (!mode || !dir || !inFile || !outFile) {
  console.error('usage: embed_node.mjs tokenize|embed <dir> <texts.json> <out> [...]');
  process.exit(2);
}
const texts = JSON.parse(fs.readFileSync(inFile, 'utf8'));
const tok = await AutoTokenizer.from_pretrained(path.resolve(dir), { local_files_only: true });
const EOS = 1;

export function encode(text, maxLength) {
  const ids = tok.encode(text);
  return ids.length > maxLength ? [...ids.slice(0, maxLength - 1), EOS] : ids;
}

if (mode === 'tokenize') {
  const L = Number(opt('--max-length', '64'));
  const out = texts.map((t) => JSON.stringify(encode(t, L)));
  fs.writeFileSync(outFile, `${out.join('\n')}\n`);
  console.log(`tokenized ${texts.length} texts -> ${outFile}`);
} else if (mode === 'embed') {
  const dtype = opt('--dtype', 'fp32');
  const output = opt('--output', 'last_hidden_state');
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const L = cfg.steward?.max_length ?? 64;
  const model = await AutoModel.from_pretrained(path.resolve(dir), { local_files_only: true, dtype });
  const rows = [];
  // length-sorted batches (less padding), written back in input order
  const seqs = texts.map((t) => encode(t, L));
  const order = seqs.map((_, i) => i).sort((a, b) => seqs[a].length - seqs[b].length);
  let D = 0;
  const t0 = performance.now();
  for (let s = 0; s < order.length; s += 64) {
    const idx = order.slice(s, s + 64);
    const T = Math.max(...idx.map((i) => seqs[i].length));
    const ids = new BigInt64Array(idx.length * T);
    const mask = new BigInt64Array(idx.length * T);
    idx.forEach((i, r) => seqs[i].forEach((v, j) => {
      ids[r * T + j] = BigInt(v);
      mask[r * T + j] = 1n;
    }));
    const out = await model({
      input_ids: new Tensor('int64', ids, [idx.length, T]),
      attention_mask: new Tensor('int64', mask, [idx.length, T]),
    });
    const x = out[output];
    if (output === 'embeddings') {
      D = x.dims[1];
      idx.forEach((i, r) => (rows[i] = norm(Float32Array.from(x.data.subarray(r * D, (r + 1) * D)))));
    } else {
      D = x.dims[2];
      idx.forEach((i, r) => {
        const v = new Float32Array(D);
        const n = seqs[i].length;
        for (let j = 0; j < n; j++) for (let k = 0; k < D; k++) v[k] += x.data[(r * T + j) * D + k];
        rows[i] = norm(v);
      });
    }
  }
  const buf = new Float32Array(rows.length * D);
  rows.forEach((v, i) => buf.set(v, i * D));
  fs.writeFileSync(outFile, Buffer.from(buf.buffer));
  console.log(`embedded ${rows.length} texts (D=${D}, ${dtype}, ${output}) in ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${outFile}`);
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}

function norm(v) {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s) || 1;
  for (let k = 0; k < v.length; k++) v[k] /= n;
  return v;
}
