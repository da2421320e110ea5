#!/usr/bin/env node
// Node parity of the signals model's lexical channel (lexical.py export wrote `parity` cases into config.json): the
// runtime's LexicalChannel must give the same logits as the Python twin, within int8-dequantization rounding.
//
//   node models/training/parity_lexical.mjs [model_dir]     (default models/bundled/signals)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const HERE = path.dirname(fileURLToPath(import.meta.url));
const dir = path.resolve(process.argv[2] ?? path.join(HERE, '..', 'bundled', 'signals'));
const { LexicalChannel, LexicalMetaSchema } = await import('../runtime/lexical.ts');
const { preprocess } = await import('../runtime/signals.ts');
const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).steward;
if (!cfg.lexical_channel) {
  console.error(`${dir}: config.json has no lexical_channel`);
  process.exit(2);
}
const meta = LexicalMetaSchema.parse(cfg.lexical_channel);
const channel = await LexicalChannel.load({ role: 'signals', location: dir, local: true }, meta);
let worst = 0;
for (const c of meta.parity) {
  const got = channel.logits(preprocess(c.text, cfg.preprocess));
  c.logits.forEach((v, j) => {
    worst = Math.max(worst, Math.abs(v - got[j]));
  });
}
const ok = meta.parity.length > 0 && worst < 1e-3;
console.log(`lexical parity: ${meta.parity.length} texts, max |Δ logit| ${worst.toExponential(2)} ${ok ? 'OK' : 'FAILED'}`);
process.exit(ok ? 0 : 1);
