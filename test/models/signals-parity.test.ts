// Python (PyTorch export-time outputs in parity.json) vs Node (@huggingface/transformers + onnxruntime-node)
// on the bundled signals model: token ids must match exactly, fp32 outputs within 1e-3 (logits),
// int8 must keep the argmax/sign decisions; the tokenizer is checked on ~500 varied texts.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const MODEL = path.join(ROOT, 'models', 'bundled', 'signals');
const SCRIPT = path.join(ROOT, 'models', 'training', 'parity_signals.mjs');
const present =
  fs.existsSync(path.join(MODEL, 'parity.json')) && fs.existsSync(path.join(MODEL, 'onnx', 'model.onnx'));

function runParity(...args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 170_000 });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

describe.skipIf(!present)('signals parity (Python export vs Node runtime)', () => {
  it('tokenizer.json agrees with sentencepiece on every stored text', () => {
    const r = runParity('--tokenizer', MODEL);
    expect(r.out).toMatch(/tokenizer parity: (\d+)\/\1 texts agree/);
    expect(r.code).toBe(0);
  }, 180_000);

  it('fp32 outputs match PyTorch within tolerance', () => {
    const r = runParity(MODEL, '--dtype', 'fp32');
    expect(r.out, r.out).toContain('PARITY OK');
    expect(r.code).toBe(0);
  }, 180_000);

  it('int8 (q8) model keeps the decisions', () => {
    const r = runParity(MODEL, '--dtype', 'q8');
    expect(r.out, r.out).toContain('PARITY OK');
    expect(r.code).toBe(0);
  }, 180_000);

  it('config.json carries the steward block the runtime reads', () => {
    const cfg = JSON.parse(fs.readFileSync(path.join(MODEL, 'config.json'), 'utf8'));
    expect(cfg.model_type).toBe('bert');
    const s = cfg.steward;
    expect(s.task).toBe('signals');
    expect(s.sentiment_labels).toEqual(['negative', 'neutral', 'positive']);
    expect(s.moderation_labels.length).toBeGreaterThan(0);
    for (const l of s.moderation_labels) expect(typeof s.default_thresholds[l]).toBe('number');
    expect(s.embedding_dim).toBeGreaterThan(0);
    expect(s.max_length).toBeGreaterThan(0);
    expect(typeof s.topic_threshold).toBe('number');
  });

  // 25 MiB until signals 0.3.3; its lexical channel (lexical.safetensors, int8 weights and uint8 idf) adds 2.6 MB.
  it('bundle stays within the size budget (every file < 20 MB, total <= 28 MB)', () => {
    let total = 0;
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else {
          const n = fs.statSync(p).size;
          expect(n, p).toBeLessThan(20 * 1024 * 1024);
          total += n;
        }
      }
    };
    walk(MODEL);
    expect(total).toBeLessThanOrEqual(28 * 1024 * 1024);
  });
});
