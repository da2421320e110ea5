#!/usr/bin/env node
// Parity + eval helper for the "reply" model (T5-style encoder-decoder) under @huggingface/transformers.
//
//   node models/training/parity_reply.mjs <model_dir> [--dtype fp32|q8] [--json out.json]
//       Runs <model_dir>/parity.json (written by `reply.py export`) through AutoTokenizer +
//       AutoModelForSeq2SeqLM.generate (greedy) and a teacher-forced forward pass, and checks against PyTorch:
//         fp32: tokenizer ids equal, greedy ids equal, logits max |diff| <= 1e-3   (exit 1 otherwise)
//         q8:   tokenizer ids equal; reports greedy agreement, top-1 agreement and max |diff|;
//               fails only if the model is clearly broken (first-step top-1 agreement < 2/3).
//       Also checks batched (padded) greedy == one-by-one greedy, and times a 20-token reply at batch 1.
//   node models/training/parity_reply.mjs <model_dir> --dtype q8 --eval in.json out.json
//       Eval mode (called by `reply.py eval`): teacher-forced NLL over in.json.pairs and sampled replies
//       (the folder's generation_config.json, seeded) for in.json.samples.
//
// Exit code 0 = pass, 1 = mismatch, 2 = usage / load error.
import fs from 'node:fs';
import path from 'node:path';

const argv = process.argv.slice(2);
if (argv.length === 0 || argv[0].startsWith('--')) {
  console.error('usage: parity_reply.mjs <model_dir> [--dtype fp32|q8] [--json out.json] [--eval in.json out.json]');
  process.exit(2);
}
const dir = path.resolve(argv[0]);
const opt = (name, def = null) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : def;
};
const folderConfig = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
// default: what a plain from_pretrained() picks (config.json "transformers.js_config".dtype, else fp32)
const dtype = opt('--dtype', folderConfig['transformers.js_config']?.dtype ?? 'fp32');
const evalIdx = argv.indexOf('--eval');

const { AutoTokenizer, AutoModelForSeq2SeqLM, Tensor, env, random } = await import('@huggingface/transformers');
env.allowRemoteModels = false;
env.allowLocalModels = true;

const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
const model = await AutoModelForSeq2SeqLM.from_pretrained(dir, { dtype, local_files_only: true });
const EOS = 1n;

const GREEDY = { do_sample: false, repetition_penalty: 1.0, no_repeat_ngram_size: 0, min_new_tokens: 0, top_k: 0 };

function cutAtEos(row) {
  const out = [];
  for (const t of row) {
    out.push(Number(t));
    if (out.length > 1 && BigInt(t) === EOS) break;
  }
  return out;
}

function toRows(seqTensor) {
  return seqTensor.tolist().map((r) => cutAtEos(r));
}

function encodeBatch(texts) {
  return tokenizer(texts, { padding: true });
}

function arraysEqual(a, b) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

async function greedyOne(text, maxNew) {
  const enc = encodeBatch([text]);
  const seq = await model.generate({ ...enc, ...GREEDY, max_new_tokens: maxNew });
  return toRows(seq)[0];
}

function argmax(arr, off, n) {
  let best = -Infinity;
  let bi = -1;
  for (let i = 0; i < n; i++) {
    if (arr[off + i] > best) {
      best = arr[off + i];
      bi = i;
    }
  }
  return bi;
}

async function parity() {
  const p = JSON.parse(fs.readFileSync(path.join(dir, 'parity.json'), 'utf8'));
  const report = { dir, dtype, cases: [], ok: true, problems: [] };
  let greedyMatch = 0;
  let top1 = 0;
  let top1n = 0;
  let firstTop1 = 0;
  let firstN = 0;
  let maxDiff = 0;
  for (const c of p.cases) {
    const r = { text: c.text };
    const ids = Array.from(encodeBatch([c.text]).input_ids.data, Number);
    r.tokenizer_ok = arraysEqual(ids, c.input_ids);
    if (!r.tokenizer_ok) report.problems.push(`tokenizer mismatch for ${JSON.stringify(c.text)}: ${ids} vs ${c.input_ids}`);
    const g = await greedyOne(c.text, p.max_new_tokens);
    r.greedy_node = g;
    r.greedy_torch = c.greedy_ids;
    r.greedy_equal = arraysEqual(g, c.greedy_ids);
    if (r.greedy_equal) greedyMatch++;
    r.reply = tokenizer.decode(g, { skip_special_tokens: true });
    if (c.logits) {
      const k = c.logits.length;
      const enc = encodeBatch([c.text]);
      const dec = new Tensor('int64', BigInt64Array.from(c.greedy_ids.slice(0, k).map(BigInt)), [1, k]);
      const out = await model({ ...enc, decoder_input_ids: dec });
      const data = out.logits.data;
      const V = out.logits.dims[2];
      let md = 0;
      for (let s = 0; s < k; s++) {
        for (let v = 0; v < V; v++) md = Math.max(md, Math.abs(data[s * V + v] - c.logits[s][v]));
        const a = argmax(data, s * V, V);
        const b = c.logits[s].indexOf(Math.max(...c.logits[s]));
        if (a === b) top1++;
        top1n++;
        if (s === 0) {
          firstN++;
          if (a === b) firstTop1++;
        }
      }
      r.logits_max_abs_diff = md;
      maxDiff = Math.max(maxDiff, md);
    }
    report.cases.push(r);
  }
  // batched (right-padded) greedy vs one-by-one
  const texts = p.cases.map((c) => c.text);
  const enc = encodeBatch(texts);
  const seq = await model.generate({ ...enc, ...GREEDY, max_new_tokens: p.max_new_tokens });
  const rows = toRows(seq);
  let batchEq = 0;
  rows.forEach((row, i) => {
    if (arraysEqual(row, report.cases[i].greedy_node)) batchEq++;
  });
  // latency: 20-token reply at batch 1 (min_new_tokens forces the length)
  const one = encodeBatch([texts[1]]);
  await model.generate({ ...one, ...GREEDY, max_new_tokens: 20, min_new_tokens: 20 });
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await model.generate({ ...one, ...GREEDY, max_new_tokens: 20, min_new_tokens: 20 });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  Object.assign(report, {
    greedy_equal: `${greedyMatch}/${p.cases.length}`,
    teacher_forced_top1_agreement: top1n ? top1 / top1n : null,
    first_step_top1_agreement: firstN ? firstTop1 / firstN : null,
    logits_max_abs_diff: maxDiff,
    batched_equals_single: `${batchEq}/${rows.length}`,
    latency_ms_20_tokens_b1_median: times[2],
  });
  if (report.cases.some((r) => !r.tokenizer_ok)) report.ok = false;
  if (batchEq !== rows.length) {
    report.problems.push(`batched greedy differs from one-by-one for ${rows.length - batchEq} rows`);
    if (dtype === 'fp32') report.ok = false;
  }
  if (dtype === 'fp32') {
    if (greedyMatch !== p.cases.length) {
      report.ok = false;
      report.problems.push('greedy ids differ from PyTorch');
    }
    if (!(maxDiff <= 1e-3)) {
      report.ok = false;
      report.problems.push(`logits max abs diff ${maxDiff} > 1e-3`);
    }
  } else if (firstN && firstTop1 / firstN < 2 / 3) {
    report.ok = false;
    report.problems.push(`first-step top-1 agreement ${firstTop1}/${firstN} < 2/3`);
  }
  for (const r of report.cases) {
    console.log(
      `${r.greedy_equal ? 'OK ' : 'DIFF'} ${JSON.stringify(r.text).slice(0, 70)} -> ${JSON.stringify(r.reply)}` +
        (r.logits_max_abs_diff !== undefined ? ` (max|dlogit| ${r.logits_max_abs_diff.toExponential(2)})` : ''),
    );
  }
  const summary = { ...report };
  delete summary.cases;
  console.log(JSON.stringify(summary, null, 1));
  const jsonOut = opt('--json');
  if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(report, null, 1));
  console.log(report.ok ? `reply parity PASS (${dtype})` : `reply parity FAIL (${dtype})`);
  return report.ok;
}

async function evaluate(inPath, outPath) {
  const spec = JSON.parse(fs.readFileSync(inPath, 'utf8'));
  const bs = 32;
  let nll = 0;
  let ntok = 0;
  const pairs = spec.pairs ?? [];
  for (let i = 0; i < pairs.length; i += bs) {
    const chunk = pairs.slice(i, i + bs);
    const S = Math.max(...chunk.map((p) => p.input_ids.length));
    const T = Math.max(...chunk.map((p) => p.target_ids.length));
    const ids = new BigInt64Array(chunk.length * S);
    const am = new BigInt64Array(chunk.length * S);
    const dec = new BigInt64Array(chunk.length * T);
    chunk.forEach((p, r) => {
      p.input_ids.forEach((t, j) => {
        ids[r * S + j] = BigInt(t);
        am[r * S + j] = 1n;
      });
      p.target_ids.slice(0, -1).forEach((t, j) => {
        dec[r * T + j + 1] = BigInt(t);
      });
    });
    const out = await model({
      input_ids: new Tensor('int64', ids, [chunk.length, S]),
      attention_mask: new Tensor('int64', am, [chunk.length, S]),
      decoder_input_ids: new Tensor('int64', dec, [chunk.length, T]),
    });
    const L = out.logits.data;
    const V = out.logits.dims[2];
    chunk.forEach((p, r) => {
      p.target_ids.forEach((t, j) => {
        const off = (r * T + j) * V;
        let m = -Infinity;
        for (let v = 0; v < V; v++) m = Math.max(m, L[off + v]);
        let s = 0;
        for (let v = 0; v < V; v++) s += Math.exp(L[off + v] - m);
        nll += Math.log(s) + m - L[off + t];
        ntok++;
      });
    });
  }
  // sampled replies with the shipped generation_config.json (batch of 8, seeded)
  random.seed(spec.seed ?? 1234);
  const samples = spec.samples ?? [];
  const replies = [];
  const t0 = performance.now();
  for (let i = 0; i < samples.length; i += 8) {
    const chunk = samples.slice(i, i + 8);
    const enc = encodeBatch(chunk);
    const seq = await model.generate({ ...enc });
    for (const row of toRows(seq)) replies.push(tokenizer.decode(row, { skip_special_tokens: true }));
  }
  const genMs = performance.now() - t0;
  const res = {
    dtype,
    nll_per_token: ntok ? nll / ntok : null,
    ppl: ntok ? Math.exp(nll / ntok) : null,
    tokens: ntok,
    replies,
    sampling_ms_per_reply_batch8: samples.length ? genMs / samples.length : null,
  };
  fs.writeFileSync(outPath, JSON.stringify(res, null, 1));
  console.log(`eval ${dtype}: ppl ${res.ppl?.toFixed(2)} over ${ntok} tokens; ${replies.length} sampled replies`);
}

try {
  if (evalIdx >= 0) {
    await evaluate(argv[evalIdx + 1], argv[evalIdx + 2]);
    process.exit(0);
  }
  const ok = await parity();
  process.exit(ok ? 0 : 1);
} catch (e) {
  console.error(e);
  process.exit(2);
}
