import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { BullMQDriver } from '../../queue/bullmq.ts';
import { toBullId } from '../../queue/bullmq-ids.ts';
import { INBOUND_QUEUE } from '../../queue/types.ts';
import { type InboundMessageInput, inboundJobId } from '../../src/domain/message.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { deletePrefix, inbound, randomPrefix, REDIS_URL, testLogger, waitFor } from '../queue/fixtures.ts';
import { bundledModelsPresent, MISSING_MODELS } from '../support/stack.ts';

const TEXTS = [
  'thanks, this release is great',
  'the build is broken again and I hate it',
  'does anyone know how to configure the bot?',
  'you are an idiot',
  'meeting moved to 3pm',
  'I love the new docs',
];

interface Child {
  proc: ChildProcess;
  ready: Promise<void>;
  stderr: string[];
}

/** Jobs each worker process holds at once. */
const CONCURRENCY = 32;

function spawnWorker(prefix: string, engine: 'fake' | 'real'): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/worker/fixtures/worker-main.ts'], {
    env: {
      ...process.env,
      REDIS_URL,
      STEWARD_PREFIX: prefix,
      STEWARD_CONCURRENCY: String(CONCURRENCY),
      STEWARD_BATCH_SIZE: '16',
      STEWARD_THREADS: '1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      STEWARD_TEST_ENGINE: engine,
      STEWARD_TEST_ENGINE_DELAY_MS: '250',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  proc.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    proc.once('exit', (code) =>
      reject(new Error(`worker exited early (${code}): ${stderr.join('').slice(-2000)}`)),
    );
  });
  ready.catch(() => {});
  return { proc, ready, stderr };
}

const alive = (child: Child) => child.proc.exitCode === null && child.proc.signalCode === null;

describe.each([
  { engine: 'fake' as const, messages: 300, timeoutMs: 120_000 },
  { engine: 'real' as const, messages: 300, timeoutMs: 420_000 },
])('crash recovery with two worker processes ($engine engine)', ({ engine, messages: total, timeoutMs }) => {
  const prefix = randomPrefix('crash');
  const children: Child[] = [];
  let queue: BullMQDriver | undefined;
  let store: RedisStore | undefined;

  afterEach(async () => {
    for (const child of children) if (alive(child)) child.proc.kill('SIGKILL');
    await queue?.stop();
    await store?.stop();
    await deletePrefix(REDIS_URL, prefix);
  });

  const skip = engine === 'real' && !bundledModelsPresent();
  if (skip) console.warn(`crash test (real engine): ${MISSING_MODELS}`);

  it.skipIf(skip)(
    'GIVEN a worker SIGKILLed mid-batch and redelivered events THEN every message yields its actions exactly once',
    async () => {
      queue = new BullMQDriver({ url: REDIS_URL, prefix, logger: testLogger() });
      store = new RedisStore({ url: REDIS_URL, prefix });
      await Promise.all([queue.start(), store.start()]);
      await store.updateSettings('discord', 'guild-1', (s) => ({
        ...s,
        sentimentTags: 'all',
        replyMode: 'mention',
      }));

      // The adapter side: count every delivery attempt and every post (posting claims the key first).
      const attempts = new Map<string, number>();
      const posts = new Map<string, number>();
      await queue.consumeOutbound(
        'discord',
        async (action) => {
          attempts.set(action.key, (attempts.get(action.key) ?? 0) + 1);
          if (!(await store!.claimDelivery(action.key, 30_000))) return;
          posts.set(action.key, (posts.get(action.key) ?? 0) + 1);
          await store!.confirmDelivery(action.key, 600_000);
        },
        { concurrency: 16 },
      );

      // A backlog first, so both workers are busy with full batches when one of them is killed.
      const inputs: InboundMessageInput[] = Array.from({ length: total }, (_, i) =>
        inbound({ text: `${TEXTS[i % TEXTS.length]} (${i})`, mentionsBot: i % 10 === 0 }),
      );
      for (const input of inputs) expect((await queue.enqueueInbound(input)).duplicate).toBe(false);
      // Platforms redeliver: the same events again before they were processed...
      for (const input of inputs.slice(0, 50))
        expect((await queue.enqueueInbound(input)).duplicate).toBe(true);

      children.push(spawnWorker(prefix, engine), spawnWorker(prefix, engine));
      await Promise.all(children.map((c) => c.ready));
      expect(await queue.workersAlive()).toBe(2);

      const victim = children[0]!;
      await waitFor(
        async () => {
          const c = await queue!.counts(INBOUND_QUEUE);
          // More active jobs than one worker may hold: the victim holds some (with `> 0` it sometimes held none at
          // the kill, and nothing was left to hand over: a CI run on 2026-12-05 failed the check below that way).
          return c.completed >= total / 5 && c.active > CONCURRENCY;
        },
        timeoutMs / 2,
        'processing to be under way',
      );
      victim.proc.kill('SIGKILL');
      await once(victim.proc, 'exit');
      // ...and while or after they were processed.
      for (const input of inputs.slice(0, 100))
        expect((await queue.enqueueInbound(input)).duplicate).toBe(true);

      await waitFor(
        async () => (await queue!.counts(INBOUND_QUEUE)).completed === total,
        timeoutMs / 2,
        `all ${total} messages to complete`,
      );
      const counts = await queue.counts(INBOUND_QUEUE);
      expect(counts).toMatchObject({ failed: 0, waiting: 0, active: 0, delayed: 0 });

      // Some jobs really were taken from the dead worker: they were started more than once.
      const redis = new Redis(REDIS_URL);
      const starts = await Promise.all(
        inputs.map((m) => redis.hget(`${prefix}:${INBOUND_QUEUE}:${toBullId(inboundJobId(m))}`, 'ats')),
      );
      await redis.quit();
      expect(starts.filter((s) => Number(s) > 1).length).toBeGreaterThan(0);

      const reactKeys = inputs.map((m) => `${inboundJobId(m)}:react`);
      await waitFor(() => reactKeys.every((k) => posts.has(k)), 30_000, 'every sentiment tag');
      await new Promise((r) => setTimeout(r, 500)); // late duplicates, if any, would arrive now
      for (const key of reactKeys) expect(posts.get(key), key).toBe(1);
      for (const [key, n] of attempts) expect(n, `delivery attempts of ${key}`).toBe(1);
      for (const [key, n] of posts) expect(n, `posts of ${key}`).toBe(1);
      const mentioned = new Set(inputs.filter((m) => m.mentionsBot).map((m) => `${inboundJobId(m)}:reply`));
      const replies = [...posts.keys()].filter((k) => k.endsWith(':reply'));
      expect(replies.every((k) => mentioned.has(k))).toBe(true);
      if (engine === 'fake') expect(replies.length).toBe(mentioned.size);

      // The survivor shuts down cleanly on SIGTERM.
      const survivor = children[1]!;
      survivor.proc.kill('SIGTERM');
      const [code] = await once(survivor.proc, 'exit');
      expect(code).toBe(0);
    },
    timeoutMs,
  );
});
