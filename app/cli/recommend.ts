import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Recommender } from '../../worker/recommend/service.ts';
import { requestOf } from '../../worker/recommend/service.ts';
import { recommend } from '../../worker/recommend/rank.ts';
import { type LibraryItem, LibraryItemSchema } from '../../src/domain/library.ts';
import type { InboundMessage } from '../../src/domain/message.ts';
import type { Recommendation } from '../../src/domain/profile.ts';
import { defaultSettings } from '../../src/domain/settings.ts';
import type { InferenceEngine } from '../../src/engine.ts';
import { ConfigError } from '../../src/errors.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { readLines } from './lines.ts';

/** The workspace the CLI's in-memory profiles live in; nothing of it is written to disk. */
const CLI = { platform: 'local', workspaceId: 'recommend-cli' } as const;

export interface RecommendRunOptions {
  input: NodeJS.ReadableStream | AsyncIterable<Buffer | string>;
  output: NodeJS.WritableStream;
  engine: Pick<InferenceEngine, 'embed'>;
  library: LibraryItem[];
  json: boolean;
  /** A line after every input line: recommendations for that request and the user's profile so far. */
  each: boolean;
  limit: number;
  /** Input lines embedded per engine call. */
  chunkSize?: number;
}

/** One user's line as the contract reads it: `{"user": "…", "text": "…"}`. */
type Parsed = { n: number; user: string; text: string } | { n: number; error: string };

function parse(n: number, bytes: Buffer): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return { n, error: `invalid JSON: ${(error as Error).message}` };
  }
  const { user, text } = (value ?? {}) as { user?: unknown; text?: unknown };
  if (typeof user !== 'string' || user === '') return { n, error: 'line has no "user" string field' };
  if (typeof text !== 'string') return { n, error: 'line has no "text" string field' };
  return { n, user, text };
}

const shown = (r: Recommendation) => ({
  id: r.id,
  title: r.title,
  score: r.score,
  why: r.why,
  matched: r.matched,
});

/**
 * `steward recommend`: input lines build each user's profile in order (the worker's own profile code over an
 * in-memory store); at the end one line per user with their recommendations, and with `each` one line after
 * every input line for that request and the profile so far. Returns the number of users.
 */
export async function runRecommend(o: RecommendRunOptions): Promise<number> {
  const store = new MemoryStore();
  await store.start();
  try {
    if (o.library.length > 0) await store.putLibraryItems(CLI.platform, CLI.workspaceId, o.library);
    const recommender = new Recommender(
      { store, embed: (texts) => o.engine.embed(texts) },
      { refreshMs: Number.POSITIVE_INFINITY, items: o.limit },
    );
    const catalog = await recommender.catalog(CLI.platform, CLI.workspaceId);
    const settings = defaultSettings();
    const users: string[] = [];
    const write = (value: object, text: string) =>
      o.output.write(`${o.json ? JSON.stringify(value) : text}\n`);
    const size = o.chunkSize ?? 64;

    const flush = async (chunk: Parsed[]) => {
      const valid = chunk.filter((p): p is Extract<Parsed, { user: string }> => 'user' in p);
      const vectors = valid.length > 0 ? await o.engine.embed(valid.map((p) => p.text)) : [];
      const vectorOf = new Map(valid.map((p, i) => [p.n, vectors[i]!]));
      for (const line of chunk) {
        if ('error' in line) {
          write({ line: line.n, error: line.error }, `#${line.n} ✗ ${line.error}`);
          continue;
        }
        if (!users.includes(line.user)) users.push(line.user);
        const embedding = vectorOf.get(line.n)!;
        await recommender.observe(message(line.n, line.user, line.text), embedding, settings);
        if (!o.each) continue;
        const profile = await store.getProfile(CLI.platform, CLI.workspaceId, line.user);
        const recs = recommend(
          catalog,
          { profile, request: requestOf(line.text, embedding) },
          { limit: o.limit },
        );
        write(
          { line: line.n, user: line.user, recommendations: recs.map(shown) },
          `#${line.n} ${line.user}: ${recs.map((r) => `${r.title} (${r.why})`).join(' · ') || 'nothing yet'}`,
        );
      }
    };

    let chunk: Parsed[] = [];
    for await (const raw of readLines(o.input as AsyncIterable<Buffer>, 1 << 20)) {
      if (raw.bytes.length === 0 && !raw.tooLong) continue;
      chunk.push(raw.tooLong ? { n: raw.n, error: 'line is longer than 1 MiB' } : parse(raw.n, raw.bytes));
      if (chunk.length >= size) {
        await flush(chunk);
        chunk = [];
      }
    }
    await flush(chunk);

    for (const user of users) {
      const profile = await store.getProfile(CLI.platform, CLI.workspaceId, user);
      const recs = profile ? recommend(catalog, { profile }, { limit: o.limit }) : [];
      write(
        { user, recommendations: recs.map(shown) },
        `${user}: ${recs.map((r) => `${r.title} (${r.why})`).join(' · ') || 'nothing yet'}`,
      );
    }
    return users.length;
  } finally {
    await store.stop();
  }
}

function message(n: number, user: string, text: string): InboundMessage {
  return {
    ...CLI,
    channelId: 'cli',
    messageId: String(n),
    author: { id: user, name: user, roles: [], isBot: false },
    text,
    mentionsBot: false,
    timestamp: Date.now(),
    context: [],
    direct: false,
  };
}

/** A library file: JSONL, one item per line (`{"id","title","text","url"?,"topic"?,"kind"?}`). */
export async function readLibraryFile(path: string): Promise<LibraryItem[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  const items: LibraryItem[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let parsed: ReturnType<typeof LibraryItemSchema.safeParse>;
    try {
      parsed = LibraryItemSchema.safeParse(JSON.parse(line));
    } catch (error) {
      throw new ConfigError(`${path}:${i + 1}: invalid JSON: ${(error as Error).message}`);
    }
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ConfigError(
        `${path}:${i + 1}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid item'}`,
      );
    }
    items.push(parsed.data);
  });
  return items;
}

/** The input of `steward recommend`: a file, or stdin for "-". */
export function recommendInput(file: string, stdin: NodeJS.ReadableStream): NodeJS.ReadableStream {
  return file === '-' ? stdin : createReadStream(file);
}
