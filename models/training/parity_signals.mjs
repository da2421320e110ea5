#!/usr/bin/env node
// Parity checks between the Python training code and the Node runtime (@huggingface/transformers).
//
//   node models/training/parity_signals.mjs <model_dir> [--dtype fp32|q8|both] [--json]
//       loads <model_dir> with AutoTokenizer + AutoModel, runs every input of <model_dir>/parity.json and
//       compares token ids exactly and outputs within tolerance (fp32: max |diff| <= 1e-3 on logits,
//       2e-3 on embeddings/attribution; q8: reports differences and label agreement, fails only if broken).
//   node models/training/parity_signals.mjs --tokenizer <tokenizer_dir>
//       compares tokenizer.json (Node) with sentencepiece (Python) ids stored in tokenizer_parity.json.
//
// Exit code 0 = pass, 1 = mismatch, 2 = usage / load error.
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error('usage: parity_signals.mjs <model_dir> [--dtype fp32|q8|both] | --tokenizer <dir>');
  process.exit(2);
}

const { AutoTokenizer, AutoModel, env } = await import('@huggingface/transformers');
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = '';

function absdir(p) {
  return path.resolve(p);
}

async function loadTokenizer(dir) {
  return AutoTokenizer.from_pretrained(absdir(dir), { local_files_only: true });
}

function encodeIds(tok, text) {
  // same call the runtime uses: default add_special_tokens (appends </s>)
  const enc = tok(text);
  return Array.from(enc.input_ids.data, Number);
}

export async function checkTokenizer(dir, { quiet = false } = {}) {
  const cases = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_parity.json'), 'utf8'));
  const tok = await loadTokenizer(dir);
  let bad = 0;
  for (const c of cases) {
    const ids = encodeIds(tok, c.text);
    const same = ids.length === c.ids.length && ids.every((v, i) => v === c.ids[i]);
    if (!same) {
      bad++;
      if (bad <= 10) {
        console.log(`MISMATCH ${JSON.stringify(c.text).slice(0, 120)}\n  py:   ${JSON.stringify(c.ids)}\n  node: ${JSON.stringify(ids)}`);
      }
    }
  }
  if (!quiet || bad) console.log(`tokenizer parity: ${cases.length - bad}/${cases.length} texts agree`);
  return bad === 0;
}

function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
function flat(x) {
  return Array.isArray(x) ? x.flat(Number.POSITIVE_INFINITY) : [x];
}
function argmax(a) {
  let b = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[b]) b = i;
  return b;
}

export async function checkModel(dir, dtype) {
  const ref = JSON.parse(fs.readFileSync(path.join(dir, 'parity.json'), 'utf8'));
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const tok = await loadTokenizer(dir);
  const model = await AutoModel.from_pretrained(absdir(dir), { local_files_only: true, dtype });
  const L = cfg.steward.moderation_labels.length;
  const tol = { sentiment_logits: 1e-3, moderation_logits: 1e-3, embeddings: 2e-3, moderation_attribution: 2e-3 };
  const worst = { sentiment_logits: 0, moderation_logits: 0, embeddings: 0, moderation_attribution: 0 };
  let idFail = 0;
  let sentAgree = 0;
  let modAgree = 0;
  let modTotal = 0;
  const t0 = performance.now();
  for (const c of ref.cases) {
    const ids = encodeIds(tok, c.text).slice(0, cfg.steward.max_length);
    // mirror the runtime: truncate to max_length keeping the final </s>
    const full = encodeIds(tok, c.text);
    const want = c.input_ids;
    const got = full.length > cfg.steward.max_length ? [...full.slice(0, cfg.steward.max_length - 1), 1] : ids;
    if (got.length !== want.length || got.some((v, i) => v !== want[i])) {
      idFail++;
      console.log(`TOKEN MISMATCH ${JSON.stringify(c.text).slice(0, 80)}\n  py: ${want}\n  node: ${got}`);
      continue;
    }
    const { Tensor } = await import('@huggingface/transformers');
    const n = got.length;
    const input_ids = new Tensor('int64', BigInt64Array.from(got.map(BigInt)), [1, n]);
    const attention_mask = new Tensor('int64', BigInt64Array.from(got.map(() => 1n)), [1, n]);
    const out = await model({ input_ids, attention_mask });
    const o = {
      sentiment_logits: Array.from(out.sentiment_logits.data),
      moderation_logits: Array.from(out.moderation_logits.data),
      embeddings: Array.from(out.embeddings.data),
      moderation_attribution: Array.from(out.moderation_attribution.data),
    };
    if (out.moderation_attribution.dims.join() !== [1, n, L].join()) {
      console.log(`bad attribution dims ${out.moderation_attribution.dims}`);
      idFail++;
    }
    for (const k of Object.keys(worst)) worst[k] = Math.max(worst[k], maxAbsDiff(o[k], flat(c.outputs[k])));
    if (argmax(o.sentiment_logits) === argmax(flat(c.outputs.sentiment_logits))) sentAgree++;
    const ml = flat(c.outputs.moderation_logits);
    for (let j = 0; j < L; j++) {
      modTotal++;
      if (o.moderation_logits[j] > 0 === ml[j] > 0) modAgree++;
    }
  }
  const ms = performance.now() - t0;
  // batched call through the tokenizer's padding, the way the runtime batches
  const texts = ref.cases.map((c) => c.text);
  const batch = tok(texts, { padding: true, truncation: true, max_length: cfg.steward.max_length });
  const bout = await model(batch);
  const names = Object.keys(bout);
  const report = {
    dtype,
    cases: ref.cases.length,
    token_id_failures: idFail,
    max_abs_diff: worst,
    sentiment_argmax_agreement: sentAgree / ref.cases.length,
    moderation_sign_agreement: modAgree / Math.max(modTotal, 1),
    output_names: names,
    batched_shapes: Object.fromEntries(names.map((k) => [k, bout[k].dims])),
    ms_per_case_unbatched: ms / ref.cases.length,
  };
  let ok = idFail === 0;
  if (dtype === 'fp32') {
    for (const k of Object.keys(worst)) if (!(worst[k] <= tol[k])) ok = false;
  } else {
    // int8: report only; fail if clearly broken
    if (report.sentiment_argmax_agreement < 0.7 || !(worst.embeddings < 0.5)) ok = false;
  }
  for (const k of ['sentiment_logits', 'moderation_logits', 'moderation_attribution', 'embeddings']) {
    if (!names.includes(k)) ok = false;
  }
  report.ok = ok;
  return report;
}

async function main() {
  if (args[0] === '--tokenizer') {
    const ok = await checkTokenizer(args[1]);
    process.exit(ok ? 0 : 1);
  }
  const dir = args[0];
  const di = args.indexOf('--dtype');
  const which = di >= 0 ? args[di + 1] : 'both';
  const dtypes = which === 'both' ? ['fp32', 'q8'] : [which];
  let ok = true;
  if (fs.existsSync(path.join(dir, 'tokenizer_parity.json'))) ok = (await checkTokenizer(dir)) && ok;
  for (const dtype of dtypes) {
    const f = path.join(dir, 'onnx', dtype === 'q8' ? 'model_quantized.onnx' : 'model.onnx');
    if (!fs.existsSync(f)) {
      console.log(`skip ${dtype}: ${f} missing`);
      if (dtype === 'fp32') ok = false;
      continue;
    }
    const r = await checkModel(dir, dtype);
    console.log(JSON.stringify(r, null, 1));
    ok = ok && r.ok;
  }
  console.log(ok ? 'PARITY OK' : 'PARITY FAILED');
  process.exit(ok ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
