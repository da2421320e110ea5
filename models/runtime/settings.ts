import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../src/config.ts';
import { ErrorCode, StewardError } from '../../src/errors.ts';

/** What the model runtime reads from the process config (a whole `Config` satisfies it). */
export interface RuntimeConfig {
  models: Config['models'];
  worker: Pick<Config['worker'], 'replyBatchSize' | 'maxReplyTokens'> &
    Partial<Pick<Config['worker'], 'batchSize'>>;
}

/** Tuning knobs that are not user settings; overridable for tests and benchmarks. */
export interface RuntimeTuning {
  /** Most texts per encoder run after length bucketing. */
  bucketSize: number;
  /**
   * Fixed cost of one encoder run, in padded-token equivalents: the length bucketing weighs it against padding
   * (see planBuckets). `npx tsx bench/run-cost.ts` measures it on the bundled signals model (q8, 2 threads): runs
   * of about 0.45–0.5 ms fixed plus 15–20 µs per padded token on the shared 2-core machine, i.e. 23–32 tokens.
   */
  runOverheadTokens: number;
  /** Most padded tokens per encoder run (bounds the [B,T,L] attribution output). */
  maxBucketTokens: number;
  /** Most words occluded per text by the hub-classifier attribution path. */
  maxOcclusionWords: number;
}

export const DEFAULT_TUNING: Readonly<RuntimeTuning> = Object.freeze({
  bucketSize: 64,
  runOverheadTokens: 32,
  maxBucketTokens: 8192,
  maxOcclusionWords: 48,
}) satisfies Required<RuntimeTuning>;

export type Role = 'signals' | 'sentiment' | 'moderation' | 'reply' | 'answer' | 'embed';

/** The env variable that names each role's model, so load errors tell the user what to change. */
export const ROLE_SETTING: Record<Role, string> = {
  signals: 'STEWARD_MODEL_SIGNALS (models.signals)',
  sentiment: 'STEWARD_MODEL_SENTIMENT (models.sentiment)',
  moderation: 'STEWARD_MODEL_MODERATION (models.moderation)',
  reply: 'STEWARD_MODEL_REPLY (models.reply)',
  answer: 'STEWARD_MODEL_ANSWER (models.answer)',
  embed: 'STEWARD_MODEL_EMBED (models.embed)',
};

/** Where a role's model comes from: an absolute local folder, or a hub id when remote loading is allowed. */
export interface ModelSource {
  role: Role;
  /** Absolute folder path, or the hub id as configured. */
  location: string;
  local: boolean;
}

export class ModelLoadError extends StewardError {
  constructor(message: string, cause?: unknown) {
    // A missing or broken model does not fix itself between retries.
    super(ErrorCode.ModelLoad, message, { cause, unrecoverable: true });
  }
}

export class ModelRunError extends StewardError {
  constructor(message: string, cause?: unknown, unrecoverable = false) {
    super(ErrorCode.ModelRun, message, { cause, unrecoverable });
  }
}

/**
 * Resolves a role's configured value. A value that names an existing folder is always local; anything else
 * is a hub id, which is only acceptable with models.allowRemote.
 */
export function resolveSource(
  role: Role,
  value: string,
  allowRemote: boolean,
  cwd = process.cwd(),
): ModelSource {
  const folder = path.resolve(cwd, value);
  if (existsSync(folder) && statSync(folder).isDirectory()) {
    if (!existsSync(path.join(folder, 'config.json'))) {
      throw new ModelLoadError(
        `${ROLE_SETTING[role]}: folder ${folder} has no config.json (not a model folder)`,
      );
    }
    return { role, location: folder, local: true };
  }
  if (!allowRemote) {
    throw new ModelLoadError(
      `${ROLE_SETTING[role]}: "${value}" is not an existing folder (looked at ${folder}) and remote models are off; ` +
        'point it at a model folder, or set STEWARD_ALLOW_REMOTE_MODELS=true to load a hub id',
    );
  }
  return { role, location: value, local: false };
}

export type Dtype = Config['models']['dtype'];

/** File suffix transformers.js uses for each dtype (utils/dtypes.js DEFAULT_DTYPE_SUFFIX_MAPPING). */
const SUFFIX: Record<Dtype, string> = { fp32: '', q8: '_quantized' };

/**
 * Picks the dtype whose ONNX files exist in a local folder: the requested one, else the other (the caller
 * warns). Hub sources are not probed here; loading tries the requested dtype and falls back on failure.
 */
export function availableDtype(source: ModelSource, files: string[], wanted: Dtype): Dtype | undefined {
  if (!source.local) return wanted;
  const has = (dtype: Dtype) =>
    files.every((file) => existsSync(path.join(source.location, 'onnx', `${file}${SUFFIX[dtype]}.onnx`)));
  if (has(wanted)) return wanted;
  const other: Dtype = wanted === 'fp32' ? 'q8' : 'fp32';
  return has(other) ? other : undefined;
}

/**
 * Builds a channel that lives beside a model's graph from `<folder>/<file>` (the lexical and safety channels of the
 * signals model); an unreadable or malformed file is a ModelLoadError naming the file and the channel.
 */
export async function loadBesideGraph<T>(
  source: ModelSource,
  file: string,
  channel: string,
  build: (bytes: Buffer) => T,
): Promise<T> {
  const at = path.join(source.location, file);
  try {
    return build(await readFile(at));
  } catch (error) {
    throw new ModelLoadError(
      `${ROLE_SETTING[source.role]}: ${at} (the ${channel} channel its config.json names) could not be read: ${
        error instanceof Error ? error.message : String(error)
      }`,
      error,
    );
  }
}
