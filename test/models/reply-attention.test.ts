// The reply decoder's cross-attention (models/training/reply_attention.py) and the runtime that turns it into
// weighted words of a library passage. Real bundled weights throughout; the passage paths use the bundled model
// with source_prefix declared (sourceReadingReplyFolder), since the bundled config reads no sources.
import { rmSync } from 'node:fs';
import {
  AutoModelForSeq2SeqLM,
  AutoTokenizer,
  type PreTrainedModel,
  type Tensor,
} from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplyRequest } from '../../src/engine.ts';
import { configureTransformersEnv, DeviceChoice } from '../../models/runtime/load.ts';
import { ReplyModel } from '../../models/runtime/reply.ts';
import { resolveSource } from '../../models/runtime/settings.ts';
import {
  captureLogger,
  hasModel,
  modelFolder,
  sourceReadingReplyFolder,
  testConfig,
} from '../../models/runtime/testing.ts';

const MEETUP = 'We meet on the first Friday of every month at 6pm in the Central Library, room 3.';
const DONATE = 'You can support the server through our Open Collective page; every cent pays for hosting.';
const REQUESTS: ReplyRequest[] = [
  { text: 'when is the next meetup?', context: [], source: { title: 'Monthly meetup', text: MEETUP } },
  { text: 'how can I donate?', context: [], source: { title: 'Donations', text: DONATE } },
  { text: 'do you like star wars?', context: [] },
];
/** The passage's words as the runtime cuts them (edge punctuation off). */
const wordsOf = (text: string) => new Set(text.split(/\s+/).map((w) => w.replace(/^\W+|\W+$/gu, '')));

async function load(dir: string): Promise<ReplyModel> {
  const config = testConfig({ reply: dir, dtype: 'q8' });
  configureTransformersEnv(config.models);
  const { logger } = captureLogger();
  return ReplyModel.load(resolveSource('reply', dir, false), {
    config,
    logger,
    device: new DeviceChoice('cpu', logger),
  });
}

describe.skipIf(!hasModel('reply'))('cross-attention of the bundled reply model', () => {
  const dir = sourceReadingReplyFolder();
  let sourced: ReplyModel;
  let bundled: ReplyModel;

  beforeAll(async () => {
    sourced = await load(dir);
    bundled = await load(modelFolder('reply'));
  });
  afterAll(async () => {
    await sourced?.dispose();
    await bundled?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('GIVEN the bundled decoder WHEN generating with output_attentions THEN each step has cross_attentions per layer whose rows sum to 1', async () => {
    const folder = modelFolder('reply');
    const tokenizer = await AutoTokenizer.from_pretrained(folder, { local_files_only: true });
    const model = (await AutoModelForSeq2SeqLM.from_pretrained(folder, {
      dtype: 'q8',
      local_files_only: true,
    })) as PreTrainedModel;
    try {
      const session = (model as unknown as { sessions: Record<string, { outputNames: string[] }> }).sessions
        .decoder_model_merged!;
      expect(session.outputNames).toEqual(
        expect.arrayContaining(['logits', 'cross_attentions.0', 'cross_attentions.1', 'cross_attentions.2']),
      );
      const inputs = tokenizer(['Do you like Star Wars?', 'what music do you listen to these days?'], {
        padding: true,
      });
      const out = (await model.generate({
        ...inputs,
        max_new_tokens: 6,
        do_sample: false,
        output_attentions: true,
        return_dict_in_generate: true,
      })) as unknown as { cross_attentions: Tensor[][]; past_key_values: { dispose(): Promise<void> } };
      await out.past_key_values.dispose();
      expect(out.cross_attentions.length).toBe(6);
      const width = (inputs.input_ids as Tensor).dims[1]!;
      for (const step of out.cross_attentions) {
        expect(step).toHaveLength(3);
        for (const layer of step) {
          expect(layer.dims).toEqual([2, 4, 1, width]);
          const data = layer.data as Float32Array;
          for (let row = 0; row < 2 * 4; row += 1) {
            const slice = data.subarray(row * width, (row + 1) * width);
            expect(slice.every(Number.isFinite)).toBe(true);
            expect(slice.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
          }
        }
      }
    } finally {
      await model.dispose();
    }
  });

  it('GIVEN requests with a source WHEN generating with attention THEN the text is the same as without, and the words are the passage’s', async () => {
    const plain = await sourced.generate(REQUESTS, 4, 16);
    const attended = await sourced.generateWithAttention(REQUESTS, 4, 16);
    expect(attended.map((r) => r.text)).toEqual(plain);
    for (const [i, passage] of [MEETUP, DONATE].entries()) {
      const words = attended[i]!.attention!;
      expect(words.length).toBeGreaterThan(3);
      expect(words.length).toBeLessThanOrEqual(12);
      const allowed = wordsOf(passage);
      for (const { word, weight } of words) {
        expect(allowed.has(word), word).toBe(true);
        expect(Number.isFinite(weight) && weight > 0 && weight <= 1).toBe(true);
      }
      const weights = words.map((w) => w.weight);
      expect(weights).toEqual([...weights].sort((a, b) => b - a));
      expect(weights.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1.0001);
    }
    // No source, no passage: nothing to weigh.
    expect(attended[2]!.attention).toBeNull();
  });

  it('GIVEN a generated answer WHEN read back by attend() THEN it weighs the passage like the generation did', async () => {
    const [generated] = await sourced.generateWithAttention([REQUESTS[0]!], 1, 16);
    const read = (await sourced.attend(REQUESTS[0]!, generated!.text))!;
    const during = new Map(generated!.attention!.map((w) => [w.word, w.weight]));
    // Same attention, computed in one pass instead of step by step (int8 activations are quantized per run).
    expect(read[0]!.word).toBe(generated!.attention![0]!.word);
    for (const { word, weight } of read.slice(0, 5))
      expect(Math.abs(weight - (during.get(word) ?? 0))).toBeLessThan(0.03);
    // A quote of the source is explained too: the words come from the passage.
    const quoted = (await sourced.attend(REQUESTS[0]!, MEETUP))!;
    for (const { word } of quoted) expect(wordsOf(MEETUP).has(word)).toBe(true);
  });

  it('GIVEN the bundled config (no source_prefix) WHEN asked to answer from a passage THEN nothing is written for it, and small talk in the same call still is', async () => {
    // Its words would ignore the passage (a generic line could pass the support check): the worker quotes instead.
    const replies = await bundled.generate(REQUESTS, 4, 16);
    expect(replies[0]).toBe('');
    expect(replies[1]).toBe('');
    expect(replies[2]!.trim().length).toBeGreaterThan(0);
    // A model that reads passages answers them greedily: the same text every time.
    const again = await sourced.generate([REQUESTS[0]!, REQUESTS[0]!], 2, 16);
    expect(again[0]!.length).toBeGreaterThan(0);
    expect(again[1]).toBe(again[0]);
  });

  it('GIVEN the bundled config (no source_prefix) WHEN asked to attend THEN there is no passage and no attention', async () => {
    expect(await bundled.attend(REQUESTS[0]!, 'We meet on the first Friday.')).toBeNull();
    const [reply] = await bundled.generateWithAttention([REQUESTS[0]!], 1, 12);
    expect(reply!.attention).toBeNull();
  });
});
