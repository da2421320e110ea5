import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryDriver } from '../../queue/memory.ts';
import { INBOUND_QUEUE } from '../../queue/types.ts';
import type { Action, ReplyAction } from '../../src/domain/action.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { createLocalEngine, type LocalEngine } from '../../models/runtime/index.ts';
import { hasModel, testConfig } from '../../models/runtime/testing.ts';
import { ChitchatBank } from '../../worker/chitchat/bank.ts';
import { createWorker, type StewardWorker } from '../../worker/pipeline.ts';
import { TEST_POLICY } from '../queue/contract.ts';
import { inbound, testLogger, waitFor } from '../queue/fixtures.ts';
import { BANK } from './fixtures.ts';

const WORKER = { batchSize: 16, concurrency: 16, replyBatchSize: 4, maxReplyTokens: 16 };

describe.skipIf(!hasModel('signals') || !hasModel('reply'))(
  'the worker answers small talk from the bank',
  () => {
    let models: LocalEngine;
    let queue: MemoryDriver;
    let store: MemoryStore;
    let worker: StewardWorker | undefined;
    let delivered: Action[];
    let lines: Set<string>;

    beforeAll(async () => {
      models = createLocalEngine(testConfig(), testLogger());
      const [bank] = await Promise.all([ChitchatBank.load(BANK), models.start()]);
      lines = new Set(bank.pairs.map((p) => p.reply));
    }, 120_000);
    afterAll(() => models?.stop());

    beforeEach(async () => {
      queue = new MemoryDriver({ logger: testLogger(), policy: TEST_POLICY });
      store = new MemoryStore();
      await Promise.all([queue.start(), store.start()]);
      delivered = [];
      await queue.consumeOutbound('discord', async (action) => void delivered.push(action), {
        concurrency: 4,
      });
    });
    afterEach(async () => {
      await worker?.stop();
      worker = undefined;
      await queue.stop();
      await store.stop();
    });

    const build = (bank: string) =>
      createWorker({
        queue,
        store,
        engine: models,
        logger: testLogger(),
        config: { worker: WORKER, chitchat: { bank } },
        options: { settingsTtlMs: 50, heartbeatMs: 100, id: 'w-chitchat' },
      });

    it('GIVEN the same mention twice in a channel THEN both replies are human lines from the bank, and different', async () => {
      worker = build(BANK);
      await worker.start();
      await queue.enqueueInbound(
        inbound({ text: 'steward, what is your favorite disney movie?', mentionsBot: true }),
      );
      await waitFor(async () => (await queue.counts(INBOUND_QUEUE)).completed === 1, 30_000, 'first job');
      await queue.enqueueInbound(
        inbound({ text: 'steward, what is your favorite disney movie?', mentionsBot: true }),
      );
      await waitFor(() => delivered.filter((a) => a.kind === 'reply').length === 2, 30_000, 'two replies');
      const replies = delivered.filter((a): a is ReplyAction => a.kind === 'reply').map((r) => r.text);
      for (const text of replies) expect(lines.has(text)).toBe(true);
      expect(replies[1]).not.toBe(replies[0]);
    });

    it('GIVEN a bank that is missing THEN the worker does not start, and says which file', async () => {
      worker = build(join(tmpdir(), 'no-such-bank.jsonl.gz'));
      await expect(worker.start()).rejects.toThrow(/no-such-bank\.jsonl\.gz cannot be read/);
    });

    it('GIVEN prepare() with a missing bank THEN nothing is thrown or left unhandled until start(), which names the file', async () => {
      worker = build(join(tmpdir(), 'no-such-bank.jsonl.gz'));
      worker.prepare();
      worker.prepare();
      await new Promise((r) => setTimeout(r, 500));
      await expect(worker.start()).rejects.toThrow(/no-such-bank\.jsonl\.gz cannot be read/);
    });

    it('GIVEN prepare() and then a stop before start (the models failed to start) THEN the stop closes the bank and resolves', async () => {
      worker = build(BANK);
      worker.prepare();
      await expect(worker.stop()).resolves.toBeUndefined();
      // A second stop is the same stop.
      await expect(worker.stop()).resolves.toBeUndefined();
      worker = undefined;
    });
  },
);
