/**
 * The baseline a first implementation would write: @huggingface/transformers tokenizer + model, one message
 * per call (batch 1), same ONNX file, dtype and thread count as the engine. Also used to split the engine's
 * per-message time into tokenizer / ONNX run / the rest, with the runtime's own bucketing helpers.
 */
import {
  AutoModel,
  AutoTokenizer,
  type PreTrainedModel,
  type PreTrainedTokenizer,
} from '@huggingface/transformers';
import { DEFAULT_TUNING } from '../models/runtime/settings.ts';
import { encode, planBuckets, toBatch, topWords, wordsOf } from '../models/runtime/tokens.ts';

export interface Split {
  tokenizeUs: number;
  onnxUs: number;
  wordsUs: number;
  paddedTokens: number;
}

export interface Naive {
  tokenizer: PreTrainedTokenizer;
  model: PreTrainedModel;
  /** Token count per text (special tokens included, cut at the model's max length). */
  tokenCounts(texts: string[]): number[];
  /** Messages per second through tokenizer + model at batch 1 for about `seconds`. */
  measure(texts: string[], seconds: number, offset: number): Promise<{ rate: number; next: number }>;
  /**
   * Per-message µs of tokenizing, of the ONNX run over length-bucketed batches of `bucket` (bucketed within
   * each engine call of `callSize` texts), and of turning
   * token attributions into words for `labels` labels (the runtime's wordsOf + topWords, done per message).
   */
  split(texts: string[], callSize: number, bucket: number, labels: number): Promise<Split>;
  dispose(): Promise<void>;
}

export async function createNaive(
  dir: string,
  dtype: 'q8' | 'fp32',
  threads: number,
  maxLength: number,
  /** The device the engine ended up on (after any CUDA fallback), so both run on the same hardware. */
  device: 'cpu' | 'cuda',
): Promise<Naive> {
  const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  const model = await AutoModel.from_pretrained(dir, {
    local_files_only: true,
    dtype,
    device,
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  });
  const one = async (text: string) => {
    const inputs = tokenizer(text, { truncation: true, max_length: maxLength });
    const out = (await model(inputs)) as Record<string, { data: unknown }>;
    // Read the heads like a caller would; softmax/sigmoid of a handful of logits is noise next to the run.
    return out.sentiment_logits?.data;
  };
  await one('warm up');
  return {
    tokenizer,
    model,
    tokenCounts: (texts) => texts.map((t) => Math.min(maxLength, tokenizer._tokenizer.encode(t).ids.length)),
    async measure(texts, seconds, offset) {
      let n = 0;
      let i = offset;
      const start = performance.now();
      while (performance.now() - start < seconds * 1000 || n < 8) {
        await one(texts[i % texts.length]!);
        i++;
        n++;
      }
      return { rate: n / ((performance.now() - start) / 1000), next: i };
    },
    async split(texts, callSize, bucket, labels) {
      const encodeAll = () => texts.map((text) => tokenizer._tokenizer.encode(text).ids.slice(0, maxLength));
      encodeAll(); // warm the tokenizer's JIT paths; the engine has been running them for a while by now
      let t = performance.now();
      const ids = encodeAll();
      const tokenizeUs = ((performance.now() - t) * 1000) / texts.length;
      // Bucketed within each engine call of `callSize` texts, as the runtime does.
      const batches = [];
      for (let from = 0; from < ids.length; from += callSize) {
        const call = ids.slice(from, from + callSize);
        const buckets = planBuckets(
          call.map((x) => x.length),
          bucket,
          DEFAULT_TUNING.maxBucketTokens,
          DEFAULT_TUNING.runOverheadTokens,
        );
        for (const b of buckets)
          batches.push(
            toBatch(
              b.map((i) => call[i]!),
              tokenizer.pad_token_id ?? 0,
            ),
          );
      }
      const paddedTokens = batches.reduce((n, b) => n + b.input_ids.dims[0]! * b.width, 0);
      let onnxUs = Number.POSITIVE_INFINITY;
      // Twice: the first pass meets new shapes (allocations), the second is the steady state.
      for (let pass = 0; pass < 2; pass++) {
        t = performance.now();
        for (const batch of batches)
          await model({ input_ids: batch.input_ids, attention_mask: batch.attention_mask });
        onnxUs = Math.min(onnxUs, ((performance.now() - t) * 1000) / texts.length);
      }
      const encoded = texts.map((text) => encode(tokenizer, text, maxLength));
      const words = () => {
        for (const e of encoded) {
          const ws = wordsOf(tokenizer, e);
          for (let l = 0; l < labels; l++) topWords(ws, (p) => ((p * 7 + l) % 5) - 2);
        }
      };
      words();
      t = performance.now();
      words();
      const wordsUs = ((performance.now() - t) * 1000) / texts.length;
      return { tokenizeUs, onnxUs, wordsUs, paddedTokens };
    },
    async dispose() {
      await model.dispose();
    },
  };
}
