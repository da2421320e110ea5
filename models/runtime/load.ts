import path from 'node:path';
import {
  AutoTokenizer,
  env,
  LogLevel,
  type PreTrainedModel,
  type PreTrainedTokenizer,
} from '@huggingface/transformers';
import type { z } from 'zod';
import { inferenceThreads } from '../../src/config.ts';
import type { Logger } from '../../src/logger.ts';
import {
  availableDtype,
  type Dtype,
  ModelLoadError,
  type ModelSource,
  ROLE_SETTING,
  type RuntimeConfig,
} from './settings.ts';

/**
 * Sets transformers.js' process-wide `env`. This is the only place that touches it (STYLE.md: no mutable
 * module state elsewhere); in the thread engine it runs once per inference thread.
 */
export function configureTransformersEnv(models: RuntimeConfig['models']): void {
  env.allowLocalModels = true;
  env.allowRemoteModels = models.allowRemote;
  if (models.cacheDir) {
    env.cacheDir = path.resolve(models.cacheDir);
    // Hub ids are looked up here first, so a pre-seeded cache works offline.
    env.localModelPath = env.cacheDir;
  }
  // transformers.js and onnxruntime print to the console; every failure they report also reaches us as a
  // thrown error, which goes through our logger with context (and the CUDA probe's native error line would
  // otherwise duplicate the one fallback warning).
  env.logLevel = LogLevel.NONE;
}

/** Device state shared by all roles of one engine: the CUDA fallback is decided (and logged) once. */
export class DeviceChoice {
  #device: 'cpu' | 'cuda';
  readonly #logger: Logger;
  constructor(wanted: 'cpu' | 'cuda', logger: Logger) {
    this.#device = wanted;
    this.#logger = logger;
  }
  get current(): 'cpu' | 'cuda' {
    return this.#device;
  }
  fallBackToCpu(cause: unknown): void {
    if (this.#device === 'cpu') return;
    this.#device = 'cpu';
    this.#logger.warn(
      { err: cause instanceof Error ? cause.message : String(cause) },
      'CUDA execution provider unavailable (install onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 and a CUDA 12 driver); running models on CPU',
    );
  }
}

export interface LoadContext {
  config: RuntimeConfig;
  logger: Logger;
  device: DeviceChoice;
}

export interface Loaded<M> {
  model: M;
  tokenizer: PreTrainedTokenizer;
  dtype: Dtype;
  device: 'cpu' | 'cuda';
}

interface PretrainedLoader {
  from_pretrained(id: string, options: Record<string, unknown>): Promise<PreTrainedModel>;
}

const CUDA_UNAVAILABLE = /cuda|provider|shared librar|libcu|execution provider/i;

/**
 * Loads tokenizer + model for one role with the configured dtype, device and thread count. Falls back
 * (with a warning) to the other dtype when the wanted files are missing, and from CUDA to CPU when the
 * CUDA execution provider cannot start. `files` are the ONNX base names the model class needs.
 */
export async function loadPretrained<M extends PreTrainedModel>(
  loader: PretrainedLoader,
  source: ModelSource,
  files: string[],
  ctx: LoadContext,
): Promise<Loaded<M>> {
  const { models } = ctx.config;
  const setting = ROLE_SETTING[source.role];
  const dtype = availableDtype(source, files, models.dtype);
  if (!dtype) {
    const names = files.map((f) => `${f}.onnx / ${f}_quantized.onnx`).join(', ');
    throw new ModelLoadError(`${setting}: ${source.location}/onnx has no ${names}`);
  }
  if (dtype !== models.dtype) {
    ctx.logger.warn(
      { role: source.role, wanted: models.dtype, using: dtype },
      'model dtype not available; using the other',
    );
  }
  const common = { local_files_only: source.local, cache_dir: models.cacheDir };
  let tokenizer: PreTrainedTokenizer;
  try {
    tokenizer = await AutoTokenizer.from_pretrained(source.location, common);
  } catch (error) {
    throw new ModelLoadError(
      `${setting}: tokenizer of ${source.location} could not be loaded: ${message(error)}`,
      error,
    );
  }
  const attempt = (device: 'cpu' | 'cuda', d: Dtype) =>
    loader.from_pretrained(source.location, {
      ...common,
      device,
      dtype: d,
      session_options: sessionOptions(inferenceThreads(models, 'engine')),
    }) as Promise<M>;
  let lastError: unknown;
  for (const d of dtype === models.dtype && !source.local ? [dtype, other(dtype)] : [dtype]) {
    try {
      return { model: await attempt(ctx.device.current, d), tokenizer, dtype: d, device: ctx.device.current };
    } catch (error) {
      if (ctx.device.current === 'cuda' && CUDA_UNAVAILABLE.test(message(error))) {
        ctx.device.fallBackToCpu(error);
        try {
          return { model: await attempt('cpu', d), tokenizer, dtype: d, device: 'cpu' };
        } catch (cpuError) {
          lastError = cpuError;
          continue;
        }
      }
      lastError = error;
      if (!source.local)
        ctx.logger.warn(
          { role: source.role, dtype: d, err: message(error) },
          'model load failed; trying the other dtype',
        );
    }
  }
  throw new ModelLoadError(
    `${setting}: model ${source.location} could not be loaded: ${message(lastError)}`,
    lastError,
  );
}

/**
 * One intra-op pool per session sized by STEWARD_THREADS; inter-op parallelism only helps graphs with parallel
 * branches, which ours do not have, and would oversubscribe the cores. Pool threads sleep instead of spinning
 * between runs: a worker shares its cores with its own event loop (lock renewals, Redis I/O), Redis and often an
 * adapter, and spinning threads take their CPU. Measured side by side with `npm run bench -- --quick` (2 cores):
 * worker CPU per message at 50 % load 2.2 ms instead of 3.8 ms, end-to-end capacity +10 %, Poisson p99 about
 * halved; encoder throughput unchanged.
 */
export function sessionOptions(threads: number): Record<string, unknown> {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

/**
 * The `steward` block of a loaded model's config.json, parsed by `schema`. When it does not parse, the model's sessions
 * are disposed and the error names the role's setting and every problem ("not a Steward `kind` model").
 */
export async function stewardMeta<T>(
  loaded: Loaded<PreTrainedModel>,
  schema: z.ZodType<T, unknown>,
  source: ModelSource,
  kind: string,
): Promise<T> {
  const parsed = schema.safeParse((loaded.model.config as { steward?: unknown }).steward);
  if (parsed.success) return parsed.data;
  await loaded.model.dispose();
  const issues = parsed.error.issues.map((i) => `steward.${i.path.join('.')}: ${i.message}`).join('; ');
  throw new ModelLoadError(
    `${ROLE_SETTING[source.role]}: ${source.location}/config.json is not a Steward ${kind} model (${issues})`,
  );
}

/** When the model's graph lacks one of `names` as an output, disposes its sessions and says which are missing. */
export async function requireOutputs(
  loaded: Loaded<PreTrainedModel>,
  names: readonly string[],
  source: ModelSource,
): Promise<void> {
  const outputs: string[] = loaded.model.sessions.model?.outputNames ?? [];
  const missing = names.filter((name) => !outputs.includes(name));
  if (missing.length === 0) return;
  await loaded.model.dispose();
  throw new ModelLoadError(
    `${ROLE_SETTING[source.role]}: ${source.location} graph lacks outputs ${missing.join(', ')}`,
  );
}

function other(dtype: Dtype): Dtype {
  return dtype === 'fp32' ? 'q8' : 'fp32';
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Disposes a model's ONNX sessions, reporting (not throwing) a failure so shutdown continues. */
export async function disposeQuietly(
  model: { dispose(): Promise<unknown> } | undefined,
  logger: Logger,
  role: string,
): Promise<void> {
  if (!model) return;
  try {
    await model.dispose();
  } catch (error) {
    logger.warn({ role, err: message(error) }, 'model session dispose failed');
  }
}
