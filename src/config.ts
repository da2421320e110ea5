import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { ConfigError } from './errors.ts';

/** A list given as an array or as one comma-separated string (environment variables). */
const commaList = z.union([
  z.array(z.string()),
  z.string().transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  ),
]);

const optionalString = z
  .string()
  .trim()
  .transform((s) => (s === '' ? undefined : s))
  .optional();
const bool = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((s) => ['true', '1', 'yes'].includes(s)),
]);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** The whole configuration of a Steward process. Secrets live here and nowhere else. */
export const ConfigSchema = z.object({
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  dataDir: z.string().default('./data'),
  redis: z
    .object({
      url: optionalString.pipe(
        z
          .string()
          .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
          .optional(),
      ),
      /** Key prefix of every queue and store key; BullMQ-compatible ("{steward}" for Redis Cluster). */
      prefix: z
        .string()
        .regex(/^[\w{}:.-]+$/, 'letters, digits, {, }, :, . or -')
        .default('steward'),
      /**
       * Queue consumers fetch a job that arrives at an idle queue with one fetch and one BZPOPMIN instead of three
       * and two (queue/bullmq-lean.ts). false = BullMQ's Worker and scripts as shipped.
       */
      leanFetching: bool.default(true),
    })
    .prefault({}),
  models: z
    .object({
      /** Local folder or (with allowRemote) a hub id of the signals model (sentiment + moderation + embedding). */
      signals: z.string().default('models/bundled/signals'),
      reply: z.string().default('models/bundled/reply'),
      /**
       * Local folder or hub id of the encoder-decoder that writes library answers from the retrieved passage (issue
       * 10); "off" leaves them to the reply model (which quotes the source when it reads no passages).
       */
      answer: z.string().trim().min(1).default('models/bundled/answer'),
      /**
       * Local folder or hub id of the sentence encoder the library is searched with (issue 10); "off" searches
       * with the signals model's embeddings instead.
       */
      embed: z.string().trim().min(1).default('models/bundled/embed'),
      /** Optional separate hub sequence-classification models that replace the signals heads. */
      sentiment: optionalString,
      moderation: optionalString,
      allowRemote: bool.default(false),
      /** fp32 or int8 (q8) weights. */
      dtype: z.enum(['fp32', 'q8']).default('q8'),
      device: z.enum(['cpu', 'cuda']).default('cpu'),
      /** Intra-op threads of each onnxruntime session; unset: see inferenceThreads. */
      threads: int(1, 256).optional(),
      /**
       * Scheduling niceness of the inference thread and its onnxruntime pool (Linux; 0 = as the process). Higher
       * lets the worker's event loop (queue I/O, actions), Redis and an adapter on the same cores run first, so
       * inference takes the CPU they leave instead of preempting them.
       */
      threadNice: int(0, 19).default(0),
      cacheDir: optionalString,
    })
    .prefault({}),
  worker: z
    .object({
      /** Largest micro-batch handed to the models. */
      batchSize: int(1, 1024).default(64),
      /** Jobs in flight per worker process (waiting to be batched). */
      concurrency: int(1, 4096).default(128),
      replyBatchSize: int(1, 64).default(8),
      /** Generated reply length cap. */
      maxReplyTokens: int(1, 256).default(32),
      /** BullMQ job lock; a worker that stops renewing it (crashed) loses its jobs to others after this. */
      lockDurationMs: int(1000, 600_000).default(30_000),
      /** How often BullMQ looks for stalled jobs of crashed workers. */
      stalledIntervalMs: int(1000, 600_000).default(30_000),
      /** Times a job may stall (its worker died) before it goes to the failed set. */
      maxStalledCount: int(0, 100).default(3),
      /**
       * How long a profile update or daily count waits for messages on their way to their actions before it runs
       * anyway (worker/background.ts); unset: the worker's default.
       */
      backgroundDeferMs: int(0, 10_000).optional(),
    })
    .prefault({}),
  /** Small talk answered from a bank of human replies (issue 10 part 3). */
  chitchat: z
    .object({
      /** The bank (JSONL, gzipped or not); "off" chats by free generation from the reply model instead. */
      bank: z.string().trim().min(1).default('models/bundled/chitchat/bank.jsonl.gz'),
    })
    .prefault({}),
  discord: z
    .object({
      token: optionalString,
      applicationId: optionalString,
      /** OAuth2 client secret of the application: enables "Sign in with Discord" on the dashboard. */
      clientSecret: optionalString,
      /** REST base URL override (tests point it at the local emulator). */
      apiUrl: optionalString,
    })
    .prefault({}),
  slack: z
    .object({
      botToken: optionalString,
      signingSecret: optionalString,
      appToken: optionalString,
      /** Optional user token of an admin (chat:write) so Steward can delete members' messages. */
      userToken: optionalString,
      socketMode: bool.default(false),
      port: int(0, 65535).default(3000),
      apiUrl: optionalString,
      /**
       * How long a claim on a post holds while the post is in flight; a retry after a crash or a failed confirm
       * waits this long. Longer than the Web API request timeout (15 s), so a claim outlives the post it guards.
       */
      deliveryLeaseMs: z.preprocess((v) => (v === '' ? undefined : v), int(16_000, 3_600_000).optional()),
      /** OpenID Connect client of the Slack app: enables "Sign in with Slack" on the dashboard. */
      clientId: optionalString,
      clientSecret: optionalString,
      /** Slack user ids allowed to run admin commands besides workspace admins. */
      adminUsers: commaList.default([]),
    })
    .prefault({}),
  /** The web dashboard (`steward dashboard`, and inside `steward bot` / interactive local mode when a port is set). */
  dashboard: z
    .object({
      port: z.preprocess((v) => (v === '' ? undefined : v), int(0, 65535).optional()),
      host: z.string().default('127.0.0.1'),
      /** The address browsers reach the dashboard at (OAuth redirect URIs); default its own http://host:port/. */
      publicUrl: optionalString.pipe(z.url().optional()),
      /** Workspaces the printed one-time sign-in link grants, as platform:id (no OAuth: the operator's link). */
      workspaces: commaList
        .pipe(
          z.array(
            z.string().regex(/^(discord|slack|local):[^:\s]+$/, 'platform:workspace-id, comma-separated'),
          ),
        )
        .default(['local:local']),
      /**
       * Deployment admins besides the operator's one-time link, as discord:userId / slack:userId: they may open Bull
       * Board (/admin/queues), which sees and changes every workspace's jobs.
       */
      admins: commaList
        .pipe(
          z.array(
            z
              .string()
              .regex(/^(discord|slack):[^:\s]+$/, 'discord:user-id or slack:user-id, comma-separated'),
          ),
        )
        .default([]),
    })
    .prefault({}),
  /** Prometheus /metrics of `steward worker` (the bot serves it on the dashboard's port). */
  metrics: z
    .object({ port: z.preprocess((v) => (v === '' ? undefined : v), int(0, 65535).optional()) })
    .prefault({}),
});
export type Config = z.infer<typeof ConfigSchema>;

/** Environment variable → config path. */
export const ENV_KEYS: Record<string, string> = {
  LOG_LEVEL: 'logLevel',
  STEWARD_DATA_DIR: 'dataDir',
  REDIS_URL: 'redis.url',
  STEWARD_PREFIX: 'redis.prefix',
  STEWARD_BULLMQ_LEAN_FETCHING: 'redis.leanFetching',
  STEWARD_MODEL_SIGNALS: 'models.signals',
  STEWARD_MODEL_REPLY: 'models.reply',
  STEWARD_MODEL_ANSWER: 'models.answer',
  STEWARD_MODEL_EMBED: 'models.embed',
  STEWARD_MODEL_SENTIMENT: 'models.sentiment',
  STEWARD_MODEL_MODERATION: 'models.moderation',
  STEWARD_ALLOW_REMOTE_MODELS: 'models.allowRemote',
  STEWARD_MODEL_DTYPE: 'models.dtype',
  STEWARD_DEVICE: 'models.device',
  STEWARD_THREADS: 'models.threads',
  STEWARD_THREAD_NICE: 'models.threadNice',
  STEWARD_MODEL_CACHE: 'models.cacheDir',
  STEWARD_BATCH_SIZE: 'worker.batchSize',
  STEWARD_CONCURRENCY: 'worker.concurrency',
  STEWARD_REPLY_BATCH_SIZE: 'worker.replyBatchSize',
  STEWARD_MAX_REPLY_TOKENS: 'worker.maxReplyTokens',
  STEWARD_LOCK_DURATION_MS: 'worker.lockDurationMs',
  STEWARD_STALLED_INTERVAL_MS: 'worker.stalledIntervalMs',
  STEWARD_MAX_STALLED_COUNT: 'worker.maxStalledCount',
  STEWARD_BACKGROUND_DEFER_MS: 'worker.backgroundDeferMs',
  STEWARD_CHITCHAT_BANK: 'chitchat.bank',
  DISCORD_TOKEN: 'discord.token',
  DISCORD_APPLICATION_ID: 'discord.applicationId',
  DISCORD_API_URL: 'discord.apiUrl',
  SLACK_BOT_TOKEN: 'slack.botToken',
  SLACK_SIGNING_SECRET: 'slack.signingSecret',
  SLACK_APP_TOKEN: 'slack.appToken',
  SLACK_USER_TOKEN: 'slack.userToken',
  SLACK_SOCKET_MODE: 'slack.socketMode',
  SLACK_PORT: 'slack.port',
  SLACK_API_URL: 'slack.apiUrl',
  SLACK_DELIVERY_LEASE_MS: 'slack.deliveryLeaseMs',
  SLACK_ADMIN_USERS: 'slack.adminUsers',
  STEWARD_DASHBOARD_PORT: 'dashboard.port',
  STEWARD_DASHBOARD_HOST: 'dashboard.host',
  STEWARD_DASHBOARD_URL: 'dashboard.publicUrl',
  DISCORD_CLIENT_SECRET: 'discord.clientSecret',
  SLACK_CLIENT_ID: 'slack.clientId',
  SLACK_CLIENT_SECRET: 'slack.clientSecret',
  STEWARD_DASHBOARD_WORKSPACES: 'dashboard.workspaces',
  STEWARD_DASHBOARD_ADMINS: 'dashboard.admins',
  STEWARD_METRICS_PORT: 'metrics.port',
};

/** Config paths whose values are secrets: redacted by `config --print` and never logged. */
export const SECRET_PATHS = [
  'discord.token',
  'discord.clientSecret',
  'slack.clientSecret',
  'slack.botToken',
  'slack.signingSecret',
  'slack.appToken',
  'slack.userToken',
  'redis.url',
];

type Tree = Record<string, unknown>;

function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts.at(-1)!] = value;
}

function envName(path: string): string {
  return Object.entries(ENV_KEYS).find(([, p]) => p === path)?.[0] ?? path;
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** JSON config file; STEWARD_CONFIG names one when this is unset. Env wins over the file. */
  file?: string | undefined;
  /** Final overrides (command-line flags). */
  overrides?: Record<string, unknown>;
}

/**
 * The onnxruntime intra-op threads to use: `models.threads` when set (STEWARD_THREADS); otherwise every core, except
 * in a worker process, which leaves one core to its event loop (BullMQ, the pipeline: busy about 70 % of a core at
 * half load in `npm run bench`), Redis and often an adapter. On 2 cores one thread against two, four interleaved pairs
 * of `npx tsx bench/queue-latency.ts --rate 200 --threads 1|2`: worker CPU 3.9–4.6 vs 4.6–4.8 ms/msg (lower in every
 * pair), p50 10–24 vs 16–26 ms, capacity about the same; while `steward analyze` alone (the bench's analyze figure)
 * does 888 vs 1,143 msg/s with one thread against two, so it keeps every core.
 */
export function inferenceThreads(
  models: { threads?: number | undefined },
  role: 'worker' | 'engine',
): number {
  if (models.threads !== undefined) return models.threads;
  const cores = availableParallelism();
  return role === 'worker' ? Math.max(1, cores - 1) : Math.max(1, cores);
}

/** Reads env + optional file once, validates, and returns a frozen config or throws a ConfigError naming the key. */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<Config> {
  const env = options.env ?? process.env;
  const tree: Tree = {};
  const file = options.file ?? env.STEWARD_CONFIG;
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ConfigError(`config file ${file} could not be read as JSON: ${(error as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null)
      throw new ConfigError(`config file ${file} must hold a JSON object`);
    Object.assign(tree, parsed);
  }
  for (const [name, path] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value !== undefined) setPath(tree, path, value);
  }
  for (const [path, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) setPath(tree, path, value);
  }
  const result = ConfigSchema.safeParse(tree);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const path = issue.path.join('.');
      return `  ${envName(path)} (${path}): ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return deepFreeze(result.data);
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** A copy of the config with every secret replaced, for printing. */
export function redactConfig(config: Config): Tree {
  const copy = JSON.parse(JSON.stringify(config)) as Tree;
  for (const path of SECRET_PATHS) {
    const parts = path.split('.');
    let node: Tree | undefined = copy;
    for (const part of parts.slice(0, -1)) node = node?.[part] as Tree | undefined;
    const last = parts.at(-1)!;
    if (node && node[last] !== undefined) node[last] = '[redacted]';
  }
  return copy;
}
