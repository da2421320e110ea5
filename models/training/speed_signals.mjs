#!/usr/bin/env node
// Throughput of one or more signals model folders measured side by side, so that a shared, busy machine treats them
// alike: the models take turns (round-robin, best of --rounds), q8, 2 intra-op threads, batch 64, tokenization
// included — the same settings as the speed row of `npm run eval`.
//
//   node models/training/speed_signals.mjs <model_dir> [<model_dir> …] [--rounds 5] [--zh]
//
// Messages: 1,024 clinc150 validation requests with a chat tail (~25 tokens, as in `npm run eval`); with --zh,
// 1,024 TNEWS carved-val headlines instead (~22 characters, one token per character with the 0.3 tokenizer).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DATA = path.resolve(HERE, '..', '..', '..', 'shared', 'datasets');
const args = process.argv.slice(2);
const ri = args.indexOf('--rounds');
const rounds = ri >= 0 ? Number(args[ri + 1]) : 5;
const zh = args.includes('--zh');
const dirs = args.filter((a, i) => !a.startsWith('--') && !(ri >= 0 && i === ri + 1));
if (!dirs.length) {
  console.error('usage: speed_signals.mjs <model_dir> [<model_dir> …] [--rounds N] [--zh]');
  process.exit(2);
}
let msgs;
if (zh) {
  const code = `import sys, json; sys.path.insert(0, sys.argv[1]); import common as C
print(json.dumps([t for t, _ in C.load_tnews(sys.argv[2], "val")][:1024]))`;
  const r = spawnSync(process.env.STEWARD_PYTHON || '/usr/bin/python3', ['-c', code, HERE, DATA], { maxBuffer: 2 ** 26 });
  msgs = JSON.parse(r.stdout.toString());
} else {
  const cl = JSON.parse(fs.readFileSync(path.join(DATA, 'clinc150', 'data_full.train_val.json'), 'utf8'));
  msgs = cl.val.map((x) => `${x[0]} lol this is so good, thanks everyone for the help 😂🔥`).slice(0, 1024);
}
const { AutoTokenizer, AutoModel, env } = await import('@huggingface/transformers');
env.allowRemoteModels = false;
const models = [];
for (const d of dirs) {
  const dir = path.resolve(d);
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).steward;
  const tok = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  const model = await AutoModel.from_pretrained(dir, {
    local_files_only: true,
    dtype: 'q8',
    session_options: { intraOpNumThreads: 2, interOpNumThreads: 1 },
  });
  const tokens = msgs.reduce((a, m) => a + tok(m).input_ids.dims[1], 0) / msgs.length;
  models.push({ dir: d, version: cfg.version, cfg, tok, model, tokens, best: Number.POSITIVE_INFINITY });
}
for (let r = 0; r < rounds; r++) {
  for (const m of models) {
    const t0 = performance.now();
    for (let s = 0; s < msgs.length; s += 64) {
      const enc = m.tok(msgs.slice(s, s + 64), { padding: true, truncation: true, max_length: m.cfg.max_length });
      await m.model({ input_ids: enc.input_ids, attention_mask: enc.attention_mask });
    }
    m.best = Math.min(m.best, performance.now() - t0);
  }
}
for (const m of models) {
  console.log(
    `${m.version} (${m.dir}): ${(msgs.length / (m.best / 1000)).toFixed(0)} msgs/s, ~${m.tokens.toFixed(1)} tokens/msg, ${zh ? 'zh headlines' : 'en chat'}, best of ${rounds}`,
  );
}
