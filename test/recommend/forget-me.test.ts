import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThreadEngine } from '../../models/runtime/index.ts';
import { BullMQDriver } from '../../queue/bullmq.ts';
import { MemoryDriver } from '../../queue/memory.ts';
import type { QueueDriver } from '../../queue/types.ts';
import { readLibraryFile } from '../../app/cli/recommend.ts';
import { executeCommand } from '../../src/commands/run.ts';
import { loadConfig } from '../../src/config.ts';
import { InboundMessageSchema } from '../../src/domain/message.ts';
import type { InferenceEngine } from '../../src/engine.ts';
import { FileStore } from '../../src/store/file.ts';
import { FORGOTTEN } from '../../src/store/members.ts';
import { RedisStore } from '../../src/store/redis.ts';
import type { Store } from '../../src/store/types.ts';
import { createWorker } from '../../worker/pipeline.ts';
import { deletePrefix, inbound, randomPrefix, REDIS_URL, testLogger, waitFor } from '../queue/fixtures.ts';
import { bundledModelsPresent, MISSING_MODELS } from '../support/stack.ts';

const present = bundledModelsPresent();
if (!present) console.warn(`forget-me through the pipeline: ${MISSING_MODELS}`);

const MEMBER = { id: 'member-7f3a9c', name: 'Zephyrine Quill' };
const TEXTS = [
  'I spend every weekend hiking glacier trails and volcano craters with my camera',
  'the northern lights photos from my waterfall road trip came out wonderfully',
  'you are an idiot',
  'where should I go on holiday next?',
];
/** What must not be found anywhere after forget-me: the member's id, name and every text they wrote. */
const SECRETS = [MEMBER.id, MEMBER.name, ...TEXTS];

/**
 * Forget-me through the real pipeline: the bundled models, the worker, the library, the store. A member's
 * messages build a profile with recommendations, one is flagged, one asks for a recommendation; after
 * `privacy forget-me` every key (Redis) and every file (file store) is scanned for their id, name and texts.
 */
describe.skipIf(!present)('forget-me leaves nothing of the member in the store', () => {
  let engine: InferenceEngine;
  const config = loadConfig({ env: { LOG_LEVEL: 'silent' }, overrides: { 'models.threads': 1 } });
  const logger = testLogger();

  beforeAll(async () => {
    engine = createThreadEngine(config, logger);
    await engine.start();
  }, 180_000);
  afterAll(() => engine?.stop(), 60_000);

  /** Runs the member's messages through a worker over `queue` and `store`, then forget-me; returns the reply. */
  async function scenario(queue: QueueDriver, store: Store, dump: () => Promise<string>) {
    const library = await readLibraryFile('examples/travel-library.jsonl');
    await store.putLibraryItems('discord', 'g-forget', library);
    await store.updateSettings('discord', 'g-forget', (s) => ({ ...s, moderationChannelId: 'mods' }));
    const replies: string[] = [];
    await queue.consumeOutbound(
      'discord',
      async (action) => {
        if (action.kind === 'reply') replies.push(action.text);
      },
      { concurrency: 4 },
    );
    const worker = createWorker({ queue, store, engine, logger, config, options: { settingsTtlMs: 0 } });
    await worker.start();
    try {
      for (const [i, text] of TEXTS.entries()) {
        await queue.enqueueInbound(
          InboundMessageSchema.parse(
            inbound({
              workspaceId: 'g-forget',
              author: { id: MEMBER.id, name: MEMBER.name },
              text,
              mentionsBot: i === TEXTS.length - 1,
              timestamp: Date.now() + i,
            }),
          ),
        );
        await waitFor(() => worker.stats().processed === i + 1, 60_000, `message ${i + 1}`);
      }
      await waitFor(() => replies.length > 0, 10_000, 'the recommendation reply');
    } finally {
      await worker.stop();
    }
    // Before: the data is there, and the scan sees it (so the check below can fail).
    const profile = await store.getProfile('discord', 'g-forget', MEMBER.id);
    expect(profile?.recommendations?.items.length).toBeGreaterThan(0);
    const [flag] = await store.listFlags('discord', 'g-forget', { limit: 10 });
    expect(flag?.excerpt).toBe('you are an idiot');
    const before = await dump();
    for (const secret of [MEMBER.id, MEMBER.name, 'you are an idiot']) expect(before).toContain(secret);

    const reply = await executeCommand('privacy forget-me', {
      platform: 'discord',
      workspaceId: 'g-forget',
      actor: { id: MEMBER.id, name: MEMBER.name, isAdmin: false },
      store,
      jobs: queue,
    });
    expect(reply.ok).toBe(true);
    expect(reply.text).toMatch(/deleted your interest profile.*1 moderation record/);

    const after = await dump();
    for (const secret of SECRETS) expect(after, `"${secret}" is still stored`).not.toContain(secret);
    // The moderation record itself stays, anonymised.
    const [kept] = await store.listFlags('discord', 'g-forget', { limit: 10 });
    expect([kept?.authorId, kept?.excerpt]).toEqual([FORGOTTEN, FORGOTTEN]);
    expect(await store.getProfile('discord', 'g-forget', MEMBER.id)).toBeNull();
    return replies[0]!;
  }

  it('GIVEN the file store THEN no file under the data folder holds the member id, name or texts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'steward-forget-'));
    const store = new FileStore({ dir });
    const queue = new MemoryDriver({ logger });
    await store.start();
    await queue.start();
    const dump = async () => {
      await store.flush();
      const files = await readdir(dir, { recursive: true, withFileTypes: true });
      const texts = await Promise.all(
        files.filter((f) => f.isFile()).map((f) => readFile(join(f.parentPath, f.name), 'utf8')),
      );
      return texts.join('\n');
    };
    try {
      const reply = await scenario(queue, store, dump);
      expect(reply).toMatch(/How about/);
    } finally {
      await queue.stop();
      await store.stop().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('GIVEN the Redis store and BullMQ THEN no key name or value under the prefix (store and queues) holds the member id, name or texts', async () => {
    const prefix = randomPrefix('forget');
    const store = new RedisStore({ url: REDIS_URL, prefix });
    const queue = new BullMQDriver({ url: REDIS_URL, prefix, logger, policy: { backoffMs: 100 } });
    const redis = new Redis(REDIS_URL);
    await store.start();
    await queue.start();
    try {
      // The whole prefix: the store's keys and BullMQ's (jobs of the inbound and outbound queues, events).
      const dump = () => dumpKeys(redis, `${prefix}:*`);
      const reply = await scenario(queue, store, dump);
      expect(await dump()).toContain(`${prefix}:inbound:`);
      expect(reply).toMatch(/How about/);
    } finally {
      await queue.stop();
      await store.stop();
      await redis.quit();
      await deletePrefix(REDIS_URL, prefix);
    }
  }, 180_000);
});

/** Every key matching `pattern` with its value, whatever its type, as one text to search. */
async function dumpKeys(redis: Redis, pattern: string): Promise<string> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      const value =
        type === 'string'
          ? await redis.get(key)
          : type === 'hash'
            ? await redis.hgetall(key)
            : type === 'set'
              ? await redis.smembers(key)
              : type === 'zset'
                ? await redis.zrange(key, 0, -1, 'WITHSCORES')
                : type === 'list'
                  ? await redis.lrange(key, 0, -1)
                  : type === 'stream'
                    ? await redis.xrange(key, '-', '+')
                    : `(${type})`;
      out.push(key, JSON.stringify(value));
    }
  } while (cursor !== '0');
  return out.join('\n');
}
