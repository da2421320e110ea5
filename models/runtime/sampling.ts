import { LogitsProcessor, random, type Tensor } from '@huggingface/transformers';

/** Sampling settings, from the reply model's generation_config.json. */
export interface SamplingSettings {
  doSample: boolean;
  temperature: number;
  topK: number;
  topP: number;
}

type Rng = InstanceType<typeof random.Random>;

/**
 * Seeded, per-row sampling done as a logits processor: it draws the next token for each row with that row's
 * own PRNG and leaves every other logit at -Infinity, so generate() (run greedy) picks exactly that token.
 * Why not generate's own do_sample: transformers.js samples every row from one global PRNG (so a reply
 * would depend on what else shared its batch), and its sampler ignores top_p. Rows that already produced
 * EOS are pinned to it, so their decoded text cannot grow after the end.
 */
export class SeededSampler extends LogitsProcessor {
  readonly #rngs: Rng[];
  readonly #settings: SamplingSettings;
  readonly #eos: number;
  readonly #promptLength: number;

  constructor(seeds: number[], settings: SamplingSettings, eosTokenId: number, promptLength: number) {
    super();
    this.#rngs = seeds.map((seed) => new random.Random(seed));
    this.#settings = settings;
    this.#eos = eosTokenId;
    this.#promptLength = promptLength;
  }

  override _call(inputIds: bigint[][], logits: Tensor): Tensor {
    for (let row = 0; row < inputIds.length; row++) {
      const data = (logits as unknown as Tensor[])[row]!.data as Float32Array;
      const ended = inputIds[row]!.slice(this.#promptLength).some((id) => Number(id) === this.#eos);
      const choice = ended
        ? this.#eos
        : this.#settings.doSample
          ? this.#draw(data, this.#rngs[row]!)
          : argmax(data);
      data.fill(Number.NEGATIVE_INFINITY);
      data[choice] = 0;
    }
    return logits;
  }

  #draw(logits: Float32Array, rng: Rng): number {
    const { temperature, topK, topP } = this.#settings;
    const k = topK > 0 ? Math.min(topK, logits.length) : logits.length;
    const candidates = topIndices(logits, k);
    const scaled = candidates.map((i) => logits[i]! / Math.max(temperature, 1e-5));
    const max = scaled[0]!;
    const weights = scaled.map((x) => Math.exp(x - max));
    const total = weights.reduce((a, b) => a + b, 0);
    // Nucleus: the smallest prefix (by probability) whose mass reaches top_p; always at least one token.
    let kept = 0;
    let mass = 0;
    while (kept < weights.length && (kept === 0 || mass < topP * total)) mass += weights[kept++]!;
    let x = rng.random() * mass;
    for (let i = 0; i < kept; i++) {
      x -= weights[i]!;
      if (x < 0) return candidates[i]!;
    }
    return candidates[kept - 1]!;
  }
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Indices of the k largest values, largest first (finite values only; -Infinity marks banned tokens). */
function topIndices(values: Float32Array, k: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < values.length; i++) if (values[i]! > Number.NEGATIVE_INFINITY) idx.push(i);
  idx.sort((a, b) => values[b]! - values[a]!);
  return idx.length > 0 ? idx.slice(0, k) : [0];
}
