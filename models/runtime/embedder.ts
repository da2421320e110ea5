import { AutoModel, type PreTrainedModel, type Tensor } from '@huggingface/transformers';
import { z } from 'zod';
import type { Logger } from '../../src/logger.ts';
import { l2normalize } from '../../src/domain/vector.ts';
import {
  type LoadContext,
  type Loaded,
  loadPretrained,
  message,
  requireOutputs,
  stewardMeta,
} from './load.ts';
import { ModelRunError, type ModelSource, type RuntimeTuning } from './settings.ts';
import { encode, planBuckets, toBatch } from './tokens.ts';

/**
 * What a sentence encoder's config.json may say (our bundled one says it under `steward`); a hub
 * sentence-transformers export says nothing and gets mean pooling over its first 128 tokens.
 */
const EmbedMetaSchema = z
  .object({
    version: z.string().default('unknown'),
    pooling: z.enum(['mean', 'cls']).default('mean'),
    max_length: z.number().int().positive().default(128),
  })
  .prefault({});

export type EmbedMeta = z.infer<typeof EmbedMetaSchema>;

/**
 * The library's sentence encoder (issue 10): a plain encoder in the Hugging Face layout whose graph returns
 * `last_hidden_state`, pooled here (mean over the attention mask, or the first token) and L2-normalised. Our
 * bundled one (models/bundled/embed) was trained for question-to-FAQ retrieval; any sentence-transformers ONNX
 * export (e.g. Xenova/all-MiniLM-L6-v2) can replace it through models.embed.
 */
export class Embedder {
  readonly meta: EmbedMeta;
  readonly dtype: string;
  readonly device: string;
  readonly #loaded: Loaded<PreTrainedModel>;
  readonly #tuning: RuntimeTuning;
  readonly #logger: Logger;

  private constructor(
    loaded: Loaded<PreTrainedModel>,
    meta: EmbedMeta,
    tuning: RuntimeTuning,
    logger: Logger,
  ) {
    this.#loaded = loaded;
    this.dtype = loaded.dtype;
    this.device = loaded.device;
    this.meta = meta;
    this.#tuning = tuning;
    this.#logger = logger;
  }

  static async load(source: ModelSource, ctx: LoadContext, tuning: RuntimeTuning): Promise<Embedder> {
    const loaded = await loadPretrained<PreTrainedModel>(AutoModel, source, ['model'], ctx);
    const parsed = await stewardMeta(loaded, EmbedMetaSchema, source, 'sentence encoder');
    await requireOutputs(loaded, ['last_hidden_state'], source);
    // Hub encoders without our metadata: never past their position table.
    const limit =
      ((loaded.model.config as { max_position_embeddings?: number }).max_position_embeddings ?? 514) - 2;
    const meta = { ...parsed, max_length: Math.min(parsed.max_length, limit) };
    return new Embedder(loaded, meta, tuning, ctx.logger);
  }

  /** L2-normalised sentence vectors, in input order; one encoder pass per length bucket. */
  async embed(texts: string[]): Promise<Float32Array[]> {
    const tokenizer = this.#loaded.tokenizer;
    const encoded = texts.map((t) => encode(tokenizer, t, this.meta.max_length));
    const cut = encoded.filter((e) => e.dropped > 0).length;
    if (cut > 0)
      this.#logger.debug(
        { role: 'embed', truncated: cut, maxLength: this.meta.max_length },
        'texts truncated',
      );
    const out = new Array<Float32Array>(texts.length);
    const buckets = planBuckets(
      encoded.map((e) => e.ids.length),
      this.#tuning.bucketSize,
      this.#tuning.maxBucketTokens,
      this.#tuning.runOverheadTokens,
    );
    for (const bucket of buckets) {
      const batch = toBatch(
        bucket.map((i) => encoded[i]!.ids),
        tokenizer.pad_token_id ?? 0,
      );
      let hidden: Tensor;
      try {
        const result = (await this.#loaded.model({
          input_ids: batch.input_ids,
          attention_mask: batch.attention_mask,
        })) as Record<string, Tensor>;
        hidden = result.last_hidden_state!;
      } catch (error) {
        throw new ModelRunError(
          `embed model failed on a batch of ${bucket.length}: ${message(error)}`,
          error,
        );
      }
      const data = hidden.data as Float32Array;
      const D = hidden.dims.at(-1)!;
      bucket.forEach((index, row) => {
        out[index] = this.#pool(data, row, batch.width, D, encoded[index]!.ids.length);
      });
    }
    return out;
  }

  /** Rows are right-padded, so a text's real tokens are its first `length` positions. */
  #pool(data: Float32Array, row: number, width: number, D: number, length: number): Float32Array {
    const start = row * width * D;
    if (this.meta.pooling === 'cls' || length === 0) return l2normalize(data.subarray(start, start + D));
    const sum = new Float32Array(D);
    for (let t = 0; t < length; t++) {
      const at = start + t * D;
      for (let d = 0; d < D; d++) sum[d]! += data[at + d]!;
    }
    return l2normalize(sum);
  }

  async dispose(): Promise<void> {
    await this.#loaded.model.dispose();
  }
}
