import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplyRequest, ReplyScore } from '../../src/engine.ts';
import { createLocalEngine, type LocalEngine } from '../../models/runtime/index.ts';
import { captureLogger, hasModel, testConfig } from '../../models/runtime/testing.ts';
import { ChitchatBank } from '../../worker/chitchat/bank.ts';
import { candidateFeatures, firstStage, wordPairs } from '../../worker/chitchat/rank.ts';
import { ChitchatReplies, DefaultChitchatOptions } from '../../worker/chitchat/replies.ts';
import { BANK } from './fixtures.ts';

describe.skipIf(!hasModel('reply') || !hasModel('signals'))(
  'chit-chat rerank with the bundled reply model',
  () => {
    let engine: LocalEngine;
    let bank: ChitchatBank;
    /** Every scoring call the chit-chat made, with what the real model answered. */
    const calls: Array<{ requests: ReplyRequest[]; candidates: string[]; scores: ReplyScore[] }> = [];
    const score = async (requests: ReplyRequest[], candidates: string[]) => {
      const scores = await engine.scoreReplies(requests, candidates);
      calls.push({ requests, candidates, scores });
      return scores;
    };

    beforeAll(async () => {
      engine = createLocalEngine(testConfig({ threads: 2 }), captureLogger().logger);
      [bank] = await Promise.all([ChitchatBank.load(BANK), engine.start()]);
    });
    afterAll(async () => {
      await engine?.stop();
    });

    it('GIVEN small talk THEN the model reads the shortlist, with and without the conversation, and the reply is one of them', async () => {
      calls.length = 0;
      const chitchat = ChitchatReplies.of(bank, score);
      const request = { text: 'I just watched Toy Story again, such a great movie', context: [] };
      const [answer] = await chitchat.reply([{ request }]);
      expect(calls).toHaveLength(1);
      const { requests, candidates } = calls[0]!;
      const k = DefaultChitchatOptions.rerank;
      expect(candidates).toHaveLength(2 * k);
      expect(requests.slice(0, k).every((r) => r.text === request.text)).toBe(true);
      expect(requests.slice(k).every((r) => r.text === '' && r.context.length === 0)).toBe(true);
      expect(candidates.slice(0, k)).toContain(answer!.text);
      expect(answer!.chat).toMatchObject({ source: 'self_dialogue', candidates: 100, reranked: k });
      // The line it answered shares words of the message (consensus may prefer another film's line to Toy Story's).
      expect(answer!.chat.matched?.toLowerCase()).toMatch(/toy story|movie|watched|again/);
    });

    it('GIVEN model weights only THEN the reply is the shortlisted one the model likes best per token', async () => {
      calls.length = 0;
      const weights = {
        bm25: 0,
        consensus: 0,
        agreement: 0,
        centroid: 0,
        topic: 0,
        length: 0,
        rare: 0,
        repeat: 0,
        lm: 1,
        pmi: 0,
      };
      const chitchat = ChitchatReplies.of(bank, score, { weights });
      const [answer] = await chitchat.reply([
        { request: { text: 'who is your favorite hockey player?', context: [] } },
      ]);
      const { candidates, scores } = calls[0]!;
      const k = candidates.length / 2;
      const perToken = scores.slice(0, k).map((s) => s.logProb / s.tokens);
      expect(answer!.text).toBe(candidates[perToken.indexOf(Math.max(...perToken))]);
    });

    it('GIVEN the same line twice in one channel THEN the second reply is a different line; another channel is not affected', async () => {
      const chitchat = ChitchatReplies.of(bank, score);
      const request = { text: 'do you like the beatles?', context: [] };
      const [first] = await chitchat.reply([{ request, channel: 'local:w:general' }]);
      const [second] = await chitchat.reply([{ request, channel: 'local:w:general' }]);
      const [elsewhere] = await chitchat.reply([{ request, channel: 'local:w:random' }]);
      expect(first!.text).toBeTruthy();
      expect(second!.text).toBeTruthy();
      expect(second!.text).not.toBe(first!.text);
      expect(elsewhere!.text).toBe(first!.text);
    });

    it("GIVEN a channel that heard a reply's phrasing THEN candidates sharing its word pairs score lower there only", async () => {
      const weights = { ...DefaultChitchatOptions.weights, lm: 0, pmi: 0 };
      const chitchat = ChitchatReplies.of(bank, score, { weights });
      const request = { text: 'what did you think of the new star wars movie?', context: [] };
      const [first] = await chitchat.reply([{ request, channel: 'local:w:films' }]);
      const heard = new Set(wordPairs(first!.text!));
      const hits = bank.search(request.text, DefaultChitchatOptions.retrieve);
      const fresh = candidateFeatures(bank, request.text, hits, 9);
      const after = candidateFeatures(bank, request.text, hits, 9, heard);
      const echoing = after.findIndex((f) => f.repeat < 0);
      expect(echoing).toBeGreaterThanOrEqual(0);
      expect(fresh[echoing]!.repeat).toBe(0);
      expect(firstStage(after[echoing]!, weights)).toBeLessThan(firstStage(fresh[echoing]!, weights));
      // The reply itself shares all its pairs: −1, the most a candidate can lose.
      const self = after.find((f) => bank.pairs[f.index]!.reply === first!.text);
      if (self && wordPairs(first!.text!).length > 0) expect(self.repeat).toBe(-1);
      // Ten more of the same message in that channel: no line is said twice.
      const said = [first!.text!];
      for (let k = 0; k < 10; k++) {
        const [next] = await chitchat.reply([{ request, channel: 'local:w:films' }]);
        expect(said).not.toContain(next!.text);
        said.push(next!.text!);
      }
      const [elsewhere] = await chitchat.reply([{ request, channel: 'local:w:other' }]);
      expect(elsewhere!.text).toBe(first!.text);
    });

    it('GIVEN a batch THEN every job is answered in order, each as it would be alone', async () => {
      calls.length = 0;
      const chitchat = ChitchatReplies.of(bank, score);
      const requests = [
        { text: 'what is your favorite disney movie?', context: [] },
        { text: 'zzqx', context: [] },
        { text: 'the rangers played so well last night', context: [] },
      ];
      const answers = await chitchat.reply(requests.map((request) => ({ request })));
      // One scoring call per job with candidates: its rows never share a batch with another message's.
      expect(calls).toHaveLength(2);
      expect(answers[0]!.chat.matched?.toLowerCase()).toMatch(/disney|movie/);
      // Nothing in the bank matches a made-up word: no reply, so the caller generates one.
      expect(answers[1]).toMatchObject({ text: null, chat: { candidates: 0 } });
      expect(answers[2]!.text).toBeTruthy();
      for (const [i, request] of requests.entries()) {
        const [alone] = await chitchat.reply([{ request }]);
        expect(alone!.text).toBe(answers[i]!.text);
      }
    });
  },
);
