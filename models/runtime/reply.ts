import {
  AutoModelForSeq2SeqLM,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  Tensor,
} from '@huggingface/transformers';
import { z } from 'zod';
import type { AttendedWord, ReplyRequest, ReplyScore } from '../../src/engine.ts';
import { ErrorCode, StewardError } from '../../src/errors.ts';
import type { Logger } from '../../src/logger.ts';
import { type LoadContext, type Loaded, loadPretrained, message, stewardMeta } from './load.ts';
import { fnv1a } from '../../src/domain/vector.ts';
import { meanCrossAttention, passageAttention, type SourcedInput } from './reply-attention.ts';
import { SeededSampler, type SamplingSettings } from './sampling.ts';
import { ModelRunError, type ModelSource } from './settings.ts';
import { encode, planBuckets, precut, toBatch } from './tokens.ts';

/** The `steward` block of the reply model's config.json, written by models/training. */
const ReplyMetaSchema = z.object({
  context_separator: z.string().min(1),
  max_context_turns: z.number().int().nonnegative(),
  max_input_length: z.number().int().positive(),
  version: z.union([z.string(), z.number()]).transform(String).default('unversioned'),
  /** Optional prefix template for topic-triggered replies, e.g. "topic: {topic}"; only used when the model was trained with it. */
  topic_prefix: z.string().optional(),
  /** Prefix of the source turn of passage-conditioned models ("source: "); absent = the model ignores sources. */
  source_prefix: z.string().optional(),
  /** Longest reply the model was trained to write, in tokens (bounds the candidates score() reads). */
  max_target_length: z.number().int().positive().optional(),
  /** Languages the model was trained on; absent = any. The engine does not run it on requests in others. */
  languages: z.array(z.string()).optional(),
});

/** Tokens of the question kept in a passage-conditioned input (as in models/training/reply_grounded.py). */
const SOURCE_QUESTION_TOKENS = 40;
export type ReplyMeta = z.infer<typeof ReplyMetaSchema>;

/** A reply request as the worker may send it; a message id, when present, seeds the sampling. */
export type SeededReplyRequest = ReplyRequest & { messageId?: string };

/** Raised when the model produced nothing usable even after a retry; `replies` holds every reply that did succeed. */
export class EmptyReplyError extends StewardError {
  readonly replies: Array<string | null>;
  constructor(replies: Array<string | null>) {
    const failed = replies.flatMap((r, i) => (r === null ? [i] : []));
    // The seed comes from the request, so retrying the same job reproduces the same output.
    super(
      ErrorCode.ModelRun,
      `reply model produced an empty reply for request(s) ${failed.join(', ')} after a retry`,
      {
        unrecoverable: true,
      },
    );
    this.replies = replies;
  }
}

/** A generated reply with the passage words its generation attended to (null without a passage). */
export interface AttendedReply {
  text: string;
  attention: AttendedWord[] | null;
}

/** Something a reader would take as a reply: at least one letter, digit or emoji. */
const USABLE = /[\p{L}\p{N}\p{Extended_Pictographic}]/u;

export class ReplyModel {
  readonly meta: ReplyMeta;
  readonly dtype: string;
  readonly device: string;
  readonly #model: PreTrainedModel;
  readonly #tokenizer: PreTrainedTokenizer;
  readonly #sampling: SamplingSettings;
  readonly #logger: Logger;

  /** Use ReplyModel.load(); the constructor is open so tests can hand in a stand-in model. */
  constructor(loaded: Loaded<PreTrainedModel>, meta: ReplyMeta, logger: Logger) {
    this.#model = loaded.model;
    this.#tokenizer = loaded.tokenizer;
    this.dtype = loaded.dtype;
    this.device = loaded.device;
    this.meta = meta;
    this.#logger = logger;
    const gen = (loaded.model.generation_config ?? {}) as Record<string, unknown>;
    const num = (key: string, fallback: number) =>
      typeof gen[key] === 'number' ? (gen[key] as number) : fallback;
    this.#sampling = {
      doSample: gen.do_sample === true,
      temperature: num('temperature', 1),
      topK: num('top_k', 50),
      topP: num('top_p', 1),
    };
  }

  static async load(source: ModelSource, ctx: LoadContext): Promise<ReplyModel> {
    const loaded = await loadPretrained<PreTrainedModel>(
      AutoModelForSeq2SeqLM,
      source,
      ['encoder_model', 'decoder_model_merged'],
      ctx,
    );
    const meta = await stewardMeta(loaded, ReplyMetaSchema, source, 'reply');
    return new ReplyModel(loaded, meta, ctx.logger);
  }

  /**
   * The model input, built the way models/training/reply.py built its examples: the message and the turns
   * before it (oldest first, at most max_context_turns in all), each whitespace-collapsed, joined with the
   * separator. The topic is not part of the input unless the model declares a topic_prefix: this model never
   * saw one in training, and text it was not trained on only makes its replies worse.
   */
  turnsOf(request: ReplyRequest): string[] {
    // A turn longer than the whole input budget is either dropped or cut to its end, so only its end matters.
    const budget = this.meta.max_input_length;
    const turns = [...request.context.map((t) => t.text), request.text].map((t) =>
      cleanTurn(precut(t, budget, 'end')),
    );
    const kept = turns.slice(-Math.max(1, this.meta.max_context_turns));
    if (request.topic && this.meta.topic_prefix)
      kept[0] = this.meta.topic_prefix.replace('{topic}', request.topic) + kept[0];
    return kept;
  }

  /** Drops the oldest turns until the input fits; a single over-long turn keeps its most recent tokens. */
  encodeRequest(request: ReplyRequest): SourcedInput {
    if (request.source && this.meta.source_prefix !== undefined) return this.#encodeWithSource(request);
    const turns = this.turnsOf(request);
    const max = this.meta.max_input_length;
    let encoded = encode(this.#tokenizer, turns.join(this.meta.context_separator), Number.POSITIVE_INFINITY);
    while (turns.length > 1 && encoded.ids.length > max) {
      turns.shift();
      encoded = encode(this.#tokenizer, turns.join(this.meta.context_separator), Number.POSITIVE_INFINITY);
    }
    return encoded.ids.length > max ? encode(this.#tokenizer, turns[0]!, max, 'end') : encoded;
  }

  /**
   * A passage-conditioned input, built as models/training/reply_grounded.py built its examples: the message
   * (its last 40 tokens), the separator, then `source: <title>. <passage>` cut to fit, then </s>.
   */
  #encodeWithSource(request: ReplyRequest): SourcedInput {
    const source = request.source!;
    let question = cleanTurn(request.text);
    const asked = encode(this.#tokenizer, question, Number.POSITIVE_INFINITY);
    // Over-long questions keep their end, as in training; the passage is what gets cut to fit.
    if (asked.ids.length > SOURCE_QUESTION_TOKENS + 1)
      question = this.#tokenizer.decode(asked.ids.slice(-SOURCE_QUESTION_TOKENS - 1, -1), {
        skip_special_tokens: true,
      });
    const title = cleanTurn(source.title).replace(/\.+$/, '');
    const head = `${question}${this.meta.context_separator}${this.meta.source_prefix}${title}.`;
    const encoded = encode(
      this.#tokenizer,
      `${head} ${cleanTurn(source.text)}`,
      this.meta.max_input_length,
      'start',
    );
    // The passage starts where the head's tokens end: a space starts a new piece, so the head tokenizes alone as
    // it does in the whole input (checked; a tokenizer that merges across it gets no passage and no attention).
    const own = encode(this.#tokenizer, head, Number.POSITIVE_INFINITY).ids.slice(0, -1);
    const aligned = own.every((id, i) => encoded.ids[i] === id);
    return aligned && own.length < encoded.ids.length - 1 ? { ...encoded, passageFrom: own.length } : encoded;
  }

  /** Whether the model reads a request in `language` (unknown languages are read, as is every one without `languages`). */
  reads(language: string | undefined): boolean {
    return (
      language === undefined || this.meta.languages === undefined || this.meta.languages.includes(language)
    );
  }

  /** Replies in input order; batches of at most `batchSize`, grouped by input length. */
  async generate(requests: SeededReplyRequest[], batchSize: number, maxNewTokens: number): Promise<string[]> {
    return (await this.#generate(requests, batchSize, maxNewTokens, false)).map((r) => r.text);
  }

  /**
   * generate() that also returns, per reply, the source passage's words weighted by the decoder's cross-attention
   * (mean over layers, heads and the generated tokens; see reply-attention.ts). Same text as generate(): the
   * attention is read from outputs the decoder computes anyway. Null attention when the input has no passage.
   */
  generateWithAttention(
    requests: SeededReplyRequest[],
    batchSize: number,
    maxNewTokens: number,
  ): Promise<AttendedReply[]> {
    return this.#generate(requests, batchSize, maxNewTokens, true);
  }

  /**
   * The passage's words weighted by the cross-attention while the decoder reads `answer` (teacher-forced, one
   * pass, mean over layers, heads and the answer's tokens). For an answer the model generated this is the
   * attention of its generation; for a quote of the source, what the model attends to reading it. Null when
   * the model does not read sources or the request has none. `max`: how many words (default 12).
   */
  async attend(request: ReplyRequest, answer: string, max?: number): Promise<AttendedWord[] | null> {
    const input = this.encodeRequest(request);
    if (input.passageFrom === undefined) return null;
    const target = encode(this.#tokenizer, cleanTurn(answer), this.meta.max_input_length, 'start').ids;
    // Decoder input: the start token then the answer; position t reads answer[0..t) and predicts answer[t].
    const answerIds = target.slice(0, -1);
    if (answerIds.length === 0) return null;
    const batch = toBatch([input.ids], this.#tokenizer.pad_token_id ?? 0);
    const decoder = toBatch([[this.#decoderStart(), ...answerIds.slice(0, -1)]], 0);
    let outputs: Record<string, Tensor>;
    try {
      outputs = (await this.#model({
        input_ids: batch.input_ids,
        attention_mask: batch.attention_mask,
        decoder_input_ids: decoder.input_ids,
      })) as Record<string, Tensor>;
    } catch (error) {
      throw new ModelRunError(`reply model failed reading an answer for attention: ${message(error)}`, error);
    }
    const layers = crossAttentionsOf(outputs);
    if (layers.length === 0) return null;
    const weights = meanCrossAttention([layers], 0, (_, length) => [...Array(length).keys()]);
    return passageAttention(this.#tokenizer, input, weights, max);
  }

  async #generate(
    requests: SeededReplyRequest[],
    batchSize: number,
    maxNewTokens: number,
    attention: boolean,
  ): Promise<AttendedReply[]> {
    const seeds = requests.map(seedOf);
    const reads = this.meta.source_prefix !== undefined;
    const first = new Array<AttendedReply | null>(requests.length).fill(null);
    // A request to answer from a passage, to a model that reads none, gets no text (''): what it would write
    // ignores the passage, so it is no answer from it (a generic line could even pass the worker's support
    // check); the caller quotes the source instead.
    requests.forEach((r, i) => {
      if (r.source !== undefined && !reads) first[i] = { text: '', attention: null };
    });
    // An answer from a passage is decoded greedily (the model's most likely wording, which copies the passage);
    // small talk is sampled for variety. Each group runs with its own settings.
    for (const greedy of [false, true]) {
      const group = requests.flatMap((r, i) =>
        first[i] === null && (r.source !== undefined) === greedy ? [i] : [],
      );
      if (group.length === 0) continue;
      const done = await this.#run(
        group.map((i) => requests[i]!),
        group.map((i) => seeds[i]!),
        greedy ? { ...this.#sampling, doSample: false } : this.#sampling,
        batchSize,
        maxNewTokens,
        attention,
      );
      group.forEach((index, k) => {
        first[index] = done[k]!;
      });
    }
    const empty = first.flatMap((r, i) => (r === null ? [i] : []));
    if (empty.length === 0) return first as AttendedReply[];
    // One retry with a different seed and a hotter, always-sampling distribution.
    this.#logger.debug(
      { role: 'reply', empty: empty.length },
      'empty reply; retrying with different sampling',
    );
    const retrySampling = {
      ...this.#sampling,
      doSample: true,
      temperature: Math.max(1, this.#sampling.temperature * 1.3),
    };
    const second = await this.#run(
      empty.map((i) => requests[i]!),
      empty.map((i) => (seeds[i]! ^ 0x9e3779b9) >>> 0),
      retrySampling,
      batchSize,
      maxNewTokens,
      attention,
    );
    empty.forEach((index, k) => {
      first[index] = second[k]!;
    });
    if (first.some((r) => r === null)) throw new EmptyReplyError(first.map((r) => r?.text ?? null));
    return first as AttendedReply[];
  }

  async #run(
    requests: ReplyRequest[],
    seeds: number[],
    sampling: SamplingSettings,
    batchSize: number,
    maxNewTokens: number,
    attention: boolean,
  ): Promise<Array<AttendedReply | null>> {
    const encoded = requests.map((r) => this.encodeRequest(r));
    const out = new Array<AttendedReply | null>(requests.length).fill(null);
    const eos = this.#tokenizer.eos_token_id;
    for (const bucket of planBuckets(
      encoded.map((e) => e.ids.length),
      batchSize,
      Number.POSITIVE_INFINITY,
    )) {
      const batch = toBatch(
        bucket.map((i) => encoded[i]!.ids),
        this.#tokenizer.pad_token_id ?? 0,
      );
      const sampler = new SeededSampler(
        bucket.map((i) => seeds[i]!),
        sampling,
        eos,
        1,
      );
      let sequences: Tensor;
      let steps: Tensor[][] = [];
      try {
        const result = await this.#model.generate({
          input_ids: batch.input_ids,
          attention_mask: batch.attention_mask,
          max_new_tokens: maxNewTokens,
          // Sampling happens in SeededSampler; generate() then only has to pick its single finite logit.
          do_sample: false,
          num_beams: 1,
          // biome-ignore lint/suspicious/noExplicitAny: generate's typing wants a LogitsProcessorList; an array is what it extends with.
          logits_processor: [sampler] as any,
          // The decoder always outputs its cross-attention (models/training/reply_attention.py); it is only kept when asked.
          ...(attention ? { output_attentions: true, return_dict_in_generate: true } : {}),
        });
        if (attention) {
          const dict = result as unknown as GenerateDict;
          sequences = dict.sequences;
          steps = dict.cross_attentions ?? [];
          await dict.past_key_values?.dispose?.();
        } else sequences = result as Tensor;
      } catch (error) {
        throw new ModelRunError(
          `reply model failed on a batch of ${bucket.length}: ${message(error)}`,
          error,
        );
      }
      const rows = sequences.tolist() as bigint[][];
      bucket.forEach((index, row) => {
        const ids = rows[row]!.slice(1).map(Number);
        const end = ids.indexOf(eos);
        const kept = end >= 0 ? ids.slice(0, end) : ids;
        // decode([]) throws, and an immediate </s> is exactly the empty reply we retry.
        const decoded = kept.length > 0 ? this.#tokenizer.decode(kept, { skip_special_tokens: true }) : '';
        // A reply cut mid-character (byte-fallback pieces) leaves U+FFFD; nobody should see that.
        const text = decoded.replaceAll('\uFFFD', '').trim();
        if (!USABLE.test(text)) return;
        // The steps that produced the kept tokens (a finished row keeps generating until the batch ends).
        const weights =
          attention && steps.length > 0
            ? meanCrossAttention(steps.slice(0, Math.max(1, kept.length)), row, () => [0])
            : null;
        out[index] = {
          text,
          attention: weights ? passageAttention(this.#tokenizer, encoded[index]!, weights) : null,
        };
      });
    }
    return out;
  }

  /**
   * How likely the model finds each candidate as the reply to its request (teacher forcing: one decoder pass
   * over the candidate, no sampling): the summed log-probability of the candidate's tokens and its closing </s>,
   * and how many tokens that is. `requests[i]` is scored with `candidates[i]`; batches of at most `batchSize`.
   */
  async score(requests: ReplyRequest[], candidates: string[], batchSize: number): Promise<ReplyScore[]> {
    if (requests.length !== candidates.length)
      throw new ModelRunError(
        `score needs one candidate per request (${requests.length} ≠ ${candidates.length})`,
      );
    const inputs = requests.map((r) => this.encodeRequest(r).ids);
    const maxTarget = this.meta.max_target_length ?? SCORE_TARGET_TOKENS;
    const targets = candidates.map((c) => encode(this.#tokenizer, cleanTurn(c), maxTarget, 'start').ids);
    const pad = this.#tokenizer.pad_token_id ?? 0;
    const start = this.#decoderStart();
    const out: ReplyScore[] = new Array(requests.length);
    for (const bucket of planBuckets(
      inputs.map((ids, i) => ids.length + targets[i]!.length),
      batchSize,
      Number.POSITIVE_INFINITY,
    )) {
      const batch = toBatch(
        bucket.map((i) => inputs[i]!),
        pad,
      );
      // Right-padded decoder inputs: the decoder is causal, so padding after a row's end changes nothing before it.
      const width = Math.max(...bucket.map((i) => targets[i]!.length));
      const decoderIds = new BigInt64Array(bucket.length * width).fill(BigInt(pad));
      bucket.forEach((index, row) => {
        [start, ...targets[index]!.slice(0, -1)].forEach((id, t) => {
          decoderIds[row * width + t] = BigInt(id);
        });
      });
      let logits: Tensor;
      try {
        const result = (await this.#model({
          input_ids: batch.input_ids,
          attention_mask: batch.attention_mask,
          decoder_input_ids: new Tensor('int64', decoderIds, [bucket.length, width]),
        })) as Record<string, Tensor>;
        logits = result.logits!;
      } catch (error) {
        throw new ModelRunError(
          `reply model failed to score a batch of ${bucket.length}: ${message(error)}`,
          error,
        );
      }
      const data = logits.data as Float32Array;
      const vocab = logits.dims[2]!;
      bucket.forEach((index, row) => {
        const target = targets[index]!;
        let total = 0;
        target.forEach((id, t) => {
          total += logProbAt(data, (row * width + t) * vocab, vocab, id);
        });
        out[index] = { logProb: total, tokens: target.length };
      });
    }
    return out;
  }

  #decoderStart(): number {
    const start = (this.#model.config as { decoder_start_token_id?: number }).decoder_start_token_id;
    return typeof start === 'number' ? start : (this.#tokenizer.pad_token_id ?? 0);
  }

  async dispose(): Promise<void> {
    await this.#model.dispose();
  }
}

/** Longest candidate scored, in tokens, when the model's config does not say what it was trained on. */
const SCORE_TARGET_TOKENS = 40;

/** log softmax of one row of logits at `id`. */
function logProbAt(data: Float32Array, offset: number, vocab: number, id: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let v = 0; v < vocab; v++) if (data[offset + v]! > max) max = data[offset + v]!;
  let sum = 0;
  for (let v = 0; v < vocab; v++) sum += Math.exp(data[offset + v]! - max);
  return data[offset + id]! - max - Math.log(sum);
}

/** What generate() returns with return_dict_in_generate: per step, the decoder's cross_attentions.{layer}. */
interface GenerateDict {
  sequences: Tensor;
  cross_attentions?: Tensor[][];
  past_key_values?: { dispose?: () => Promise<void> };
}

/** The decoder's cross_attentions.{layer} outputs in layer order (empty for a model exported without them). */
function crossAttentionsOf(outputs: Record<string, Tensor>): Tensor[] {
  return Object.keys(outputs)
    .filter((name) => /^cross_attentions\.\d+$/.test(name))
    .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]))
    .map((name) => outputs[name]!);
}

function cleanTurn(text: string): string {
  return text.split(/\s+/u).filter(Boolean).join(' ');
}

/** Per-request seed: from the message id when the caller passes one, else from the request's content. */
export function seedOf(request: SeededReplyRequest): number {
  if (request.messageId) return fnv1a(request.messageId);
  return fnv1a(JSON.stringify([request.text, request.context.map((t) => t.text), request.topic ?? '']));
}
