/**
 * Reply generation latency through engine.reply(): batch 1 (one mention) and batch 8 (a burst of mentions),
 * with max new tokens at 20. Tokens are counted by re-encoding each reply with the reply model's tokenizer.
 */
import { AutoTokenizer } from '@huggingface/transformers';
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
  await engine.reply([request(0)]); // warm-up
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
