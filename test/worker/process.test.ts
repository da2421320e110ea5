import { afterEach, describe, expect, it } from 'vitest';
import { BullMQDriver } from '../../queue/bullmq.ts';
import { INBOUND_QUEUE } from '../../queue/types.ts';
import type { Action } from '../../src/domain/action.ts';
import { loadConfig } from '../../src/config.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { runWorkerProcess, type WorkerProcess } from '../../app/worker-process.ts';
import { deletePrefix, inbound, randomPrefix, REDIS_URL, testLogger, waitFor } from '../queue/fixtures.ts';
import { bundledModelsPresent } from '../support/stack.ts';
import { FakeEngine } from './fake-engine.ts';

describe('runWorkerProcess (BullMQ + RedisStore, the bundled models in an inference thread)', () => {
  const prefix = randomPrefix('proc');
  const config = loadConfig({
    env: { REDIS_URL, STEWARD_PREFIX: prefix, STEWARD_BATCH_SIZE: '8', STEWARD_THREADS: '1' },
  });
  let running: WorkerProcess | undefined;

  afterEach(async () => {
    await running?.stop();
    await deletePrefix(REDIS_URL, prefix);
  });

  it('GIVEN no REDIS_URL THEN it refuses to start, naming the setting', async () => {
    await expect(runWorkerProcess(loadConfig({ env: {} }), testLogger())).rejects.toThrow(/REDIS_URL/);
  });

  it.skipIf(!bundledModelsPresent())(
    'GIVEN a running worker process THEN it consumes, heartbeats, and stop() closes everything once',
    {
      timeout: 180_000,
    },
    async () => {
      const store = new RedisStore({ url: REDIS_URL, prefix });
      // No engine given: the process builds the configured (bundled) models in an inference thread, as in production.
      running = await runWorkerProcess(config, testLogger(), { store, worker: { heartbeatMs: 100 } });
      const engine = running.engine;
      const producer = new BullMQDriver({ url: REDIS_URL, prefix, logger: testLogger() });
      await producer.start();
      try {
        const delivered: Action[] = [];
        await producer.consumeOutbound('discord', async (a) => void delivered.push(a), { concurrency: 4 });
        await store.updateSettings('discord', 'guild-1', (s) => ({ ...s, sentimentTags: 'all' }));
        for (let i = 0; i < 20; i++) await producer.enqueueInbound(inbound({ text: `great ${i}` }));
        await waitFor(async () => (await producer.counts(INBOUND_QUEUE)).completed === 20, 120_000);
        // sentimentTags 'all': one tag per message, whatever the models make of it.
        await waitFor(() => delivered.filter((a) => a.kind === 'react').length === 20);
        await waitFor(async () => (await store.listWorkers())[0]?.processed === 20, 5_000, 'a heartbeat');
        expect((await store.listWorkers())[0]).toMatchObject({ id: running.worker.id, pid: process.pid });
        expect(await producer.workersAlive()).toBe(1);

        const stopping = running.stop();
        expect(running.stop()).toBe(stopping);
        await stopping;
        expect(await producer.workersAlive()).toBe(0);
        await expect(store.getSettings('discord', 'guild-1')).rejects.toThrow();
        // The process stopped its models too: the inference thread no longer takes work.
        await expect(engine.signals(['x'])).rejects.toThrow();
      } finally {
        await producer.stop();
      }
    },
  );

  it('GIVEN an abort while starting THEN what started is closed and the start rejects', async () => {
    const controller = new AbortController();
    // The fake stays here: the test needs a model load that a signal interrupts at a chosen moment.
    const engine = new FakeEngine();
    engine.start = async () => controller.abort(new Error('SIGTERM during model load'));
    const store = new RedisStore({ url: REDIS_URL, prefix });
    await expect(
      runWorkerProcess(config, testLogger(), { engine, store, signal: controller.signal }),
    ).rejects.toThrow(/SIGTERM during model load/);
    await expect(store.getSettings('discord', 'g')).rejects.toThrow();
  });
});
