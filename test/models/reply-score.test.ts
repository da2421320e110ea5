import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplyRequest } from '../../src/engine.ts';
import { createLocalEngine, createThreadEngine, type LocalEngine } from '../../models/runtime/index.ts';
import { captureLogger, hasModel, testConfig } from '../../models/runtime/testing.ts';

const ASKED: ReplyRequest = { text: 'Do you like the Beatles?', context: [] };
const FITTING = 'Yes, I love the Beatles! Their songs are great.';
const OFF = 'The goalie made thirty saves in the third period.';

describe.skipIf(!hasModel('reply') || !hasModel('signals'))(
  'scoring candidate replies (teacher forcing)',
  () => {
    let engine: LocalEngine;

    beforeAll(async () => {
      engine = createLocalEngine(testConfig({ threads: 2 }), captureLogger().logger);
      await engine.start();
    });
    afterAll(async () => {
      await engine?.stop();
    });

    it('GIVEN a fitting and an unrelated reply THEN the fitting one is more likely, per token', async () => {
      const [fitting, off] = await engine.scoreReplies([ASKED, ASKED], [FITTING, OFF]);
      expect(fitting!.logProb).toBeLessThan(0);
      expect(fitting!.tokens).toBeGreaterThan(5);
      expect(fitting!.logProb / fitting!.tokens).toBeGreaterThan(off!.logProb / off!.tokens);
    });

    it('GIVEN the conversation THEN a reply is more likely than after nothing (what the rerank PMI uses)', async () => {
      const [given, alone] = await engine.scoreReplies(
        [ASKED, { text: '', context: [] }],
        [FITTING, FITTING],
      );
      expect(given!.tokens).toBe(alone!.tokens);
      expect(given!.logProb).toBeGreaterThan(alone!.logProb);
    });

    it('GIVEN rows of different lengths in one batch THEN each row scores as it does alone', async () => {
      const requests = [ASKED, { text: 'who won the hockey game?', context: [] }, ASKED];
      const candidates = [FITTING, OFF, 'ok'];
      const batch = await engine.scoreReplies(requests, candidates);
      for (let i = 0; i < requests.length; i++) {
        const [alone] = await engine.scoreReplies([requests[i]!], [candidates[i]!]);
        expect(batch[i]!.tokens).toBe(alone!.tokens);
        // int8 activations are quantized per batch tensor: close, not bit-equal.
        expect(Math.abs(batch[i]!.logProb - alone!.logProb)).toBeLessThan(
          0.05 * Math.abs(alone!.logProb) + 0.5,
        );
      }
    });

    it('GIVEN mismatched lengths THEN it refuses', async () => {
      await expect(engine.scoreReplies([ASKED], [FITTING, OFF])).rejects.toThrow(/one candidate per request/);
    });

    it('GIVEN the inference thread THEN scores cross the thread boundary unchanged', async () => {
      const threaded = createThreadEngine(testConfig({ threads: 1 }), captureLogger().logger);
      await threaded.start();
      try {
        const [direct] = await engine.scoreReplies([ASKED], [FITTING]);
        const [viaThread] = await threaded.scoreReplies([ASKED], [FITTING]);
        expect(viaThread!.tokens).toBe(direct!.tokens);
        expect(viaThread!.logProb).toBeCloseTo(direct!.logProb, 3);
      } finally {
        await threaded.stop();
      }
    });
  },
);
