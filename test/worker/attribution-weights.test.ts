import { afterEach, describe, expect, it } from 'vitest';
import { highlights } from '../../dashboard/flags.ts';
import { MemoryDriver } from '../../queue/memory.ts';
import type { Signals } from '../../src/domain/analysis.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { createWorker, type StewardWorker } from '../../worker/pipeline.ts';
import { TEST_POLICY } from '../queue/contract.ts';
import { inbound, testLogger, waitFor } from '../queue/fixtures.ts';
import { FakeEngine } from './fake-engine.ts';

/** The fake engine, with the words behind "insult" weighted as the runtime weights them. */
class WeightingEngine extends FakeEngine {
  override async signals(texts: string[]): Promise<Signals[]> {
    return (await super.signals(texts)).map((s) =>
      s.moderation.insult! > 0.5
        ? {
            ...s,
            attributions: { insult: ['idiot', 'you'], threat: [] },
            attributionWeights: {
              insult: [
                { word: 'idiot', weight: 1 },
                { word: 'you', weight: 0.2 },
              ],
              threat: [],
            },
          }
        : s,
    );
  }
}

describe('attribution weights from the model to the flag log and the heat-map', () => {
  const stops: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  const run = async (engine: FakeEngine, text: string) => {
    const queue = new MemoryDriver({ logger: testLogger(), policy: TEST_POLICY });
    const store = new MemoryStore();
    await Promise.all([queue.start(), store.start()]);
    stops.push(
      () => store.stop(),
      () => queue.stop(),
    );
    const worker: StewardWorker = createWorker({
      queue,
      store,
      engine,
      logger: testLogger(),
      config: { worker: { batchSize: 4, concurrency: 2, replyBatchSize: 2, maxReplyTokens: 8 } },
      options: { heartbeatMs: 60_000, id: 'w-weights' },
    });
    await worker.start();
    stops.push(() => worker.stop());
    const message = inbound({ text });
    await queue.enqueueInbound(message);
    await waitFor(() => worker.stats().processed === 1, 10_000, 'one processed');
    return store.listFlags(message.platform, message.workspaceId, { limit: 10 });
  };

  it('GIVEN the model weights its words THEN the flag keeps them beside the unchanged reasons, and the heat-map uses them', async () => {
    const [flag] = await run(new WeightingEngine(), 'you idiot');
    expect(flag?.flagged).toEqual(['insult']);
    expect(flag?.reasons).toEqual({ insult: ['idiot', 'you'] });
    // Only flagged labels: threat was not flagged, so it has neither reasons nor weights.
    expect(flag?.attributionWeights).toEqual({
      insult: [
        { word: 'idiot', weight: 1 },
        { word: 'you', weight: 0.2 },
      ],
    });
    // 0.2 is the model's weight; the rank alone would have given 0.35.
    expect(highlights(flag!).insult).toEqual([
      { word: 'idiot', weight: 1 },
      { word: 'you', weight: 0.2 },
    ]);
  });

  it('GIVEN a model that gives no weights THEN the flag has none and the heat-map falls back to the rank', async () => {
    const [flag] = await run(new FakeEngine(), 'you idiot');
    expect(flag?.reasons).toEqual({ insult: ['idiot'] });
    expect(flag?.attributionWeights).toBeUndefined();
    expect(highlights(flag!).insult).toEqual([{ word: 'idiot', weight: 1 }]);
  });
});
