/**
 * Reply generation latency through engine.reply(): batch 1 (one mention) and batch 8 (a burst of mentions),
 * with max new tokens at 20. Tokens are counted by re-encoding each reply with the reply model's tokenizer.
 */
import { AutoModelForSeq2SeqLM, AutoTokenizer } from '@huggingface/transformers';
import type { InferenceEngine } from '../src/engine.ts';
import { median } from './stats.ts';

export interface ReplyFigures {
  b1P50Ms: number;
  b1MsPerToken: number;
  b8P50Ms: number;
  /** Wall time of a batch of 8 divided by its decode steps (longest reply): time per step for 8 streams. */
  b8MsPerStep: number;
  /** Per generated token across the batch: wall / total tokens of the 8 replies. */
  b8MsPerToken: number;
  tokensMean: number;
  example: string;
}

export async function measureReplies(
  engine: InferenceEngine,
  replyDir: string,
  prompts: string[],
  reps: { b1: number; b8: number },
): Promise<ReplyFigures> {
  const tokenizer = await AutoTokenizer.from_pretrained(replyDir, { local_files_only: true });
  const tokens = (text: string) =>
    tokenizer._tokenizer.encode(text, { add_special_tokens: false }).ids.length + 1; // + EOS
  const request = (i: number) => ({
    text: prompts[i % prompts.length]!,
    context: [],
    messageId: `bench-${i}`,
  });
  // Warm-up at both batch sizes: the first run of each shape allocates.
  await engine.reply([request(0)]);
  await engine.reply(Array.from({ length: 8 }, (_, i) => request(1000 + i)));
  let k = 1;
  const b1: number[] = [];
  const b1PerToken: number[] = [];
  const counts: number[] = [];
  let example = '';
  for (let r = 0; r < reps.b1; r++) {
    const t0 = performance.now();
    const [text] = await engine.reply([request(k++)]);
    const ms = performance.now() - t0;
    const n = tokens(text ?? '');
    b1.push(ms);
    b1PerToken.push(ms / n);
    counts.push(n);
    example ||= text ?? '';
  }
  const b8: number[] = [];
  const b8PerStep: number[] = [];
  const b8PerToken: number[] = [];
  for (let r = 0; r < reps.b8; r++) {
    const batch = Array.from({ length: 8 }, () => request(k++));
    const t0 = performance.now();
    const texts = await engine.reply(batch);
    const ms = performance.now() - t0;
    const n = texts.map((t) => tokens(t));
    counts.push(...n);
    b8.push(ms);
    b8PerStep.push(ms / Math.max(...n));
    b8PerToken.push(ms / n.reduce((a, b) => a + b, 0));
  }
  return {
    b1P50Ms: median(b1),
    b1MsPerToken: median(b1PerToken),
    b8P50Ms: median(b8),
    b8MsPerStep: median(b8PerStep),
    b8MsPerToken: median(b8PerToken),
    tokensMean: counts.reduce((a, b) => a + b, 0) / Math.max(1, counts.length),
    example,
  };
}

export interface Fixed20Figures {
  b1P50Ms: number;
  b1MsPerToken: number;
  b8P50Ms: number;
  /** Wall of a batch of 8 ÷ (8 × 20) tokens. */
  b8MsPerToken: number;
  b8MsPerStep: number;
}

/**
 * Exactly 20 new tokens (min = max = 20, greedy) through @huggingface/transformers' generate with the KV cache,
 * on the same ONNX files, dtype and thread count as the engine: the "20-token reply" of the target, independent
 * of where the trained model happens to stop.
 */
export async function measureFixed20(
  replyDir: string,
  dtype: string,
  threads: number,
  prompts: string[],
  reps: { b1: number; b8: number },
): Promise<Fixed20Figures> {
  const tokenizer = await AutoTokenizer.from_pretrained(replyDir, { local_files_only: true });
  const model = await AutoModelForSeq2SeqLM.from_pretrained(replyDir, {
    local_files_only: true,
    dtype: dtype as 'q8' | 'fp32',
    device: 'cpu',
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  });
  const generate = async (texts: string[]) => {
    const inputs = tokenizer(texts, { padding: true, truncation: true, max_length: 64 });
    const t0 = performance.now();
    await model.generate({
      ...inputs,
      max_new_tokens: 20,
      min_new_tokens: 20,
      do_sample: false,
      num_beams: 1,
    });
    return performance.now() - t0;
  };
  try {
    await generate([prompts[0]!]);
    await generate(prompts.slice(0, 8));
    const b1: number[] = [];
    for (let r = 0; r < reps.b1; r++) b1.push(await generate([prompts[r % prompts.length]!]));
    const b8: number[] = [];
    for (let r = 0; r < reps.b8; r++) {
      b8.push(await generate(Array.from({ length: 8 }, (_, i) => prompts[(r * 8 + i) % prompts.length]!)));
    }
    const b1P50Ms = median(b1);
    const b8P50Ms = median(b8);
    return {
      b1P50Ms,
      b1MsPerToken: b1P50Ms / 20,
      b8P50Ms,
      b8MsPerToken: b8P50Ms / 160,
      b8MsPerStep: b8P50Ms / 20,
    };
  } finally {
    await model.dispose();
  }
}
