#!/usr/bin/env node
// The signals model's logits on named text sets, exactly as the runtime and `npm run eval` compute them (cleanText,
// tokenizer.json, transformers.js, the given dtype). ngram.py uses them to choose the n-gram channel's weights and
// the thresholds on the selection slices, without a PyTorch checkpoint.
//
//   node models/training/ngram_logits.mjs <model_dir> <in.json> <out.json> [--dtype q8|fp32]
//
// in.json: {"name": ["text", …], …}; out.json: {"name": {"sent": [[3]…], "mod": [[L]…]}, …}
import fs from 'node:fs';
import path from 'node:path';
import { cleanText } from './run.mjs';

const args = process.argv.slice(2);
const di = args.indexOf('--dtype');
const dtype = di >= 0 ? args[di + 1] : 'q8';
const [dir, inPath, outPath] = args.filter((a, i) => !a.startsWith('--') && !(di >= 0 && i === di + 1));
if (!outPath) {
  console.error('usage: ngram_logits.mjs <model_dir> <in.json> <out.json> [--dtype q8|fp32]');
  process.exit(2);
}
const { AutoTokenizer, AutoModel, env } = await import('@huggingface/transformers');
env.allowRemoteModels = false;
const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).steward;
const tok = await AutoTokenizer.from_pretrained(path.resolve(dir), { local_files_only: true });
const model = await AutoModel.from_pretrained(path.resolve(dir), {
  local_files_only: true,
  dtype,
  session_options: { intraOpNumThreads: 1, interOpNumThreads: 1 },
});
const L = cfg.moderation_labels.length;
const sets = JSON.parse(fs.readFileSync(inPath, 'utf8'));
const out = {};
for (const [name, texts] of Object.entries(sets)) {
  const order = texts.map((t, i) => [cleanText(t), i]).sort((a, b) => a[0].length - b[0].length);
  const sent = new Array(texts.length);
  const mod = new Array(texts.length);
  for (let s = 0; s < order.length; s += 64) {
    const chunk = order.slice(s, s + 64);
    const enc = tok(
      chunk.map((c) => c[0]),
      { padding: true, truncation: true, max_length: cfg.max_length },
    );
    const o = await model({ input_ids: enc.input_ids, attention_mask: enc.attention_mask });
    chunk.forEach(([, i], j) => {
      sent[i] = Array.from(o.sentiment_logits.data.slice(j * 3, j * 3 + 3));
      mod[i] = Array.from(o.moderation_logits.data.slice(j * L, j * L + L));
    });
  }
  out[name] = { sent, mod };
  console.log(`${name}: ${texts.length} texts`);
}
fs.writeFileSync(outPath, JSON.stringify(out));
