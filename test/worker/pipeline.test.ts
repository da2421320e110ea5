import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryDriver } from '../../queue/memory.ts';
import { INBOUND_QUEUE } from '../../queue/types.ts';
import type { Action, AlertAction, ReplyAction } from '../../src/domain/action.ts';
import { InboundMessageSchema, inboundJobId, type InboundMessageInput } from '../../src/domain/message.ts';
import type { WorkspaceSettings } from '../../src/domain/settings.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { createWorker, type StewardWorker, type WorkerOptions } from '../../worker/pipeline.ts';
import { TEST_POLICY } from '../queue/contract.ts';
import { inbound, sleep, testLogger, waitFor } from '../queue/fixtures.ts';
import { createLocalEngine, type LocalEngine } from '../../models/runtime/index.ts';
import { hasModel, testConfig } from '../../models/runtime/testing.ts';
import { InstrumentedEngine } from './instrumented-engine.ts';

const WORKER_CONFIG = { worker: { batchSize: 16, concurrency: 64, replyBatchSize: 4, maxReplyTokens: 32 } };

/** Texts one of which the moderation model scores highest; which one, and on which label, the model decides. */
const TOXIC_CANDIDATES = [
  'you are an idiot and nobody here wants you around',
  'shut up you stupid worthless loser',
  'I hate you and I hope you get hurt',
];

describe.skipIf(!hasModel('signals') || !hasModel('reply'))(
  'worker pipeline (bundled models, memory queue and store)',
  () => {
    let models: LocalEngine;
    let queue: MemoryDriver;
    let store: MemoryStore;
    let engine: InstrumentedEngine;
    let worker: StewardWorker;
    let delivered: Action[];

    const configure = (settings: Partial<WorkspaceSettings>, workspaceId = 'guild-1') =>
      store.updateSettings('discord', workspaceId, (current) => ({ ...current, ...settings }));
    const enqueueAll = (messages: InboundMessageInput[]) =>
      Promise.all(messages.map((m) => queue.enqueueInbound(m)));
    const settle = (n: number) =>
      waitFor(async () => (await queue.counts(INBOUND_QUEUE)).completed === n, 60_000, `${n} completed jobs`);
    const ofKind = <K extends Action['kind']>(kind: K) =>
      delivered.filter((a): a is Extract<Action, { kind: K }> => a.kind === kind);

    /** The candidate the model scores most toxic, with workspace thresholds that flag it whatever the defaults. */
    const toxic = async () => {
      const signals = await models.signals(TOXIC_CANDIDATES);
      const best = signals
        .flatMap((s, i) => Object.entries(s.moderation).map(([label, score]) => ({ i, label, score })))
        .sort((a, b) => b.score - a.score)[0]!;
      return {
        text: TOXIC_CANDIDATES[best.i]!,
        thresholds: { [best.label]: Math.max(0.001, best.score - 0.01) },
      };
    };
    /** A worker over this test's queue, store and engine. */
    const newWorker = (options: Partial<WorkerOptions> = {}, worker: { backgroundDeferMs?: number } = {}) =>
      createWorker({
        queue,
        store,
        engine,
        logger: testLogger(),
        config: { ...WORKER_CONFIG, worker: { ...WORKER_CONFIG.worker, ...worker } },
        options: { settingsTtlMs: 50, heartbeatMs: 100, id: 'w-test', ...options },
      });
    /** What the pipeline should do with a message, asked of the same models and settings directly. */
    const expectedFor = async (message: InboundMessageInput) =>
      (await worker.analyzeOnly([InboundMessageSchema.parse(message)]))[0]!;

    beforeAll(async () => {
      models = createLocalEngine(testConfig({}, { maxReplyTokens: 8 }), testLogger());
      await models.start();
    }, 120_000);
    afterAll(() => models?.stop());

    beforeEach(async () => {
      queue = new MemoryDriver({ logger: testLogger(), policy: TEST_POLICY });
      store = new MemoryStore();
      engine = new InstrumentedEngine(models);
      await Promise.all([queue.start(), store.start()]);
      delivered = [];
      await queue.consumeOutbound('discord', async (action) => void delivered.push(action), {
        concurrency: 8,
      });
      worker = newWorker();
    });
    afterEach(async () => {
      await worker.stop();
      await queue.stop();
      await store.stop();
    });

    it('GIVEN a burst of messages THEN they are analysed in batches no larger than batchSize, each tagged once', async () => {
      await configure({ sentimentTags: 'all' });
      await worker.start();
      const messages = Array.from({ length: 50 }, (_, i) => inbound({ text: i % 2 ? 'I love this' : 'meh' }));
      await enqueueAll(messages);
      await settle(50);
      expect(Math.max(...engine.calls.signals)).toBeLessThanOrEqual(16);
      expect(engine.calls.signals.length).toBeLessThan(50);
      await waitFor(() => delivered.length === 50);
      const reacts = ofKind('react');
      expect(new Set(reacts.map((a) => a.key)).size).toBe(50);
      const expected = await expectedFor(messages[1]!);
      expect(reacts.find((a) => a.key === `${inboundJobId(messages[1]!)}:react`)?.sentiment).toBe(
        expected.analysis.sentiment?.label,
      );
      expect(worker.stats()).toMatchObject({ processed: 50, lastError: null });
    });

    it('GIVEN an insult in an auto-hide workspace THEN the flag is logged open with auto-hide, alerted and hidden, never replied to', async () => {
      const { text, thresholds } = await toxic();
      await configure({ moderationChannelId: 'mods', moderationMode: 'auto-hide', thresholds });
      await worker.start();
      const parent = {
        authorId: 'user-2',
        authorName: 'Bo',
        text: `what did you say? ${'x'.repeat(400)}`,
        fromBot: false,
      };
      const message = inbound({ text, mentionsBot: true, context: [parent] });
      const expected = await expectedFor(message);
      const flagged = expected.analysis.moderation.flagged;
      expect(flagged.length).toBeGreaterThan(0);
      await enqueueAll([message]);
      await settle(1);
      await waitFor(() => delivered.length === 2);
      const [alert] = ofKind('alert') as AlertAction[];
      expect(alert).toMatchObject({ moderationChannelId: 'mods', flagged, autoHidden: true });
      expect(alert!.reasons).toEqual(expected.analysis.moderation.reasons);
      expect(ofKind('hide')).toHaveLength(1);
      expect(ofKind('reply')).toHaveLength(0);
      const flag = await store.getFlag(alert!.flagId);
      expect(flag).toMatchObject({ status: 'open', authorId: 'user-1', excerpt: text, flagged });
      expect(flag!.history.map((h) => h.action)).toEqual(['auto-hide']);
      // The bundled model's attribution weights reach the flag log, for the same words as the reasons.
      expect(flag!.attributionWeights).toEqual(expected.analysis.moderation.attributionWeights);
      for (const [label, weighted] of Object.entries(flag!.attributionWeights ?? {}))
        expect(weighted.map((w) => w.word)).toEqual(flag!.reasons[label]);
      expect(Object.values(flag!.attributionWeights ?? {}).flat()[0]?.weight).toBe(1);
      // The moderator sees what it replied to (clipped).
      expect(flag!.context).toEqual([{ ...parent, text: parent.text.slice(0, 300) }]);
    });

    it('GIVEN mentions among other messages THEN only they get replies, generated in batches of replyBatchSize', async () => {
      // Thresholds at the top (1): whether "question N" looks toxic to the model is not what this test is about.
      await configure({ thresholds: Object.fromEntries(models.defaults().labels.map((l) => [l, 1])) });
      await worker.start();
      const messages = Array.from({ length: 30 }, (_, i) =>
        inbound({ text: `how was your day ${i}?`, mentionsBot: i % 3 === 0 }),
      );
      await enqueueAll(messages);
      await settle(30);
      await waitFor(() => delivered.length === 10, 60_000);
      const replies = ofKind('reply') as ReplyAction[];
      expect(replies).toHaveLength(10);
      expect(engine.calls.reply.reduce((a, b) => a + b, 0)).toBe(10);
      expect(Math.max(...engine.calls.reply)).toBeLessThanOrEqual(4);
      const first = replies.find((r) => r.key === `${inboundJobId(messages[0]!)}:reply`);
      // Not compared with a single-message run: int8 activations are quantized per batch, so a reply generated
      // among others may differ in wording from the same request alone.
      expect(first).toMatchObject({ reason: 'mention', target: { messageId: messages[0]!.messageId } });
      expect(first!.text.trim()).not.toBe('');
    });

    it('GIVEN slow reply generation THEN tags and alerts of the same batch do not wait for it', async () => {
      const { text, thresholds } = await toxic();
      const hello = inbound({ text: 'hello bot, how are you?', mentionsBot: true });
      // The greeting must not be flagged (so it is replied to): its labels' thresholds sit above its scores.
      const [greeting] = await models.signals([hello.text]);
      const above = Object.fromEntries(
        Object.entries(greeting!.moderation).map(([l, v]) => [l, Math.min(1, v + 0.01)]),
      );
      const merged = { ...above, ...thresholds };
      await configure({ sentimentTags: 'all', moderationChannelId: 'mods', thresholds: merged });
      const expected = await expectedFor(hello);
      expect(expected.decision.reply).not.toBeNull();
      engine.replyDelayMs = 3_000;
      await worker.start();
      await enqueueAll([hello, inbound({ text })]);
      await waitFor(() => ofKind('alert').length === 1 && ofKind('react').length === 2, 30_000);
      expect(ofKind('reply')).toHaveLength(0);
      await waitFor(() => ofKind('reply').length === 1, 30_000);
    });

    it("GIVEN a message on its way to its tags THEN an earlier message's profile update waits for it, and still ends before its job", async () => {
      await configure({ sentimentTags: 'all' });
      // Deferred for as long as any message is between arrival and actions (the test's bound, not the default 10 ms),
      // set as `steward worker` sets it: worker.backgroundDeferMs (STEWARD_BACKGROUND_DEFER_MS).
      await worker.stop();
      worker = newWorker({}, { backgroundDeferMs: 10_000 });
      const events: string[] = [];
      const put = store.putProfile.bind(store);
      store.putProfile = async (profile) => {
        events.push(`profile ${profile.userId}`);
        return put(profile);
      };
      const signals = engine.signals.bind(engine);
      engine.signals = async (texts) => {
        const out = await signals(texts);
        events.push(...texts.map((t) => `analysed ${t}`));
        return out;
      };
      engine.delayMs = 1_000; // each signals batch; the second message arrives while the first one's runs
      await worker.start();
      const first = inbound({ text: 'I love hiking in the mountains', author: { id: 'ann', name: 'Ann' } });
      const second = inbound({ text: 'the mountain trail was muddy', author: { id: 'bo', name: 'Bo' } });
      await enqueueAll([first]);
      await sleep(100);
      await enqueueAll([second]);
      await settle(2);
      const at = (event: string) => events.indexOf(event);
      expect(at(`analysed ${first.text}`)).toBeGreaterThanOrEqual(0);
      // Ann's profile was written after Bo's message was analysed, not in the second between the two batches.
      expect(at('profile ann')).toBeGreaterThan(at(`analysed ${second.text}`));
      await waitFor(() => ofKind('react').length === 2);
      // Both profiles were written before the jobs completed: deferred, never skipped.
      expect(events.filter((e) => e.startsWith('profile')).sort()).toEqual(['profile ann', 'profile bo']);
    });

    it('GIVEN workspace topics THEN a matching message gets a topic reply, and topics are embedded once per change', async () => {
      const topics = [
        // Remarks, not requests: a request for information on a topic gets a reply only from the library.
        { name: 'gardening', description: 'my tomato plants love the compost' },
        { name: 'rust', description: 'the borrow checker hates my lifetimes' },
      ];
      const never = Object.fromEntries(models.defaults().labels.map((l) => [l, 1]));
      await configure({ replyMode: 'topics', topics, thresholds: never });
      await worker.start();
      // A message that is a topic's own text has cosine 1 with it: a match whatever the model's threshold.
      const messages = [
        inbound({ text: 'gardening: my tomato plants love the compost' }),
        inbound({ text: 'rust: the borrow checker hates my lifetimes' }),
      ];
      await enqueueAll([messages[0]!]);
      await settle(1);
      await enqueueAll([messages[1]!]);
      await settle(2);
      await waitFor(() => ofKind('reply').length === 2, 60_000);
      expect((ofKind('reply') as ReplyAction[]).map((r) => r.topic).sort()).toEqual(['gardening', 'rust']);
      expect(engine.calls.embed).toBe(1);
      await configure({
        topics: [{ name: 'chess', description: 'my openings are better than my endgames' }],
      });
      await sleep(80); // past the settings cache
      await enqueueAll([inbound({ text: 'chess: my openings are better than my endgames' })]);
      await settle(3);
      expect(engine.calls.embed).toBe(2);
      // Each message counted under its best topic in the workspace's daily summary (the dashboard's trend).
      const days = await store.topicSummary('discord', 'guild-1', Date.now() - 86_400_000);
      const perTopic = Object.fromEntries(days.map((d) => [d.topic, d.count]));
      expect(perTopic).toEqual({ chess: 1, gardening: 1, rust: 1 });
    });

    it('GIVEN an admin change WHEN the cache expires THEN new messages follow the new settings', async () => {
      await worker.start();
      await enqueueAll([inbound({ text: 'I love it' })]);
      await settle(1);
      expect(ofKind('react')).toHaveLength(0);
      // 'all', not 'strong': whether the model finds the line strong is not what this test is about.
      await configure({ sentimentTags: 'all' });
      await sleep(80);
      await enqueueAll([inbound({ text: 'I love it' })]);
      await settle(2);
      await waitFor(() => ofKind('react').length === 1);
    });

    it('GIVEN the model fails THEN the batch is retried, nothing is lost or failed, and the error is reported', async () => {
      await configure({ sentimentTags: 'all' });
      engine.failSignals = 1;
      await worker.start();
      await enqueueAll(Array.from({ length: 5 }, () => inbound({ text: 'great' })));
      await settle(5);
      expect((await queue.counts(INBOUND_QUEUE)).failed).toBe(0);
      await waitFor(() => delivered.length === 5);
      expect(worker.stats().lastError?.message).toMatch(/injected model failure/);
    });

    it('GIVEN a poison message in a batch THEN its neighbours succeed and it alone ends in the failed set', async () => {
      engine.poisonWord = 'POISON';
      await worker.start();
      const poisoned = inbound({ text: 'POISON pill' });
      await enqueueAll([inbound(), poisoned, inbound(), inbound()]);
      await waitFor(
        async () => (await queue.counts(INBOUND_QUEUE)).failed === 1,
        10_000,
        'the poison to fail',
      );
      expect((await queue.counts(INBOUND_QUEUE)).completed).toBe(3);
      const [failed] = await queue.failedJobs(INBOUND_QUEUE, 1);
      expect(failed).toMatchObject({ id: inboundJobId(poisoned), attemptsMade: 3 });
      expect(failed!.reason).toMatch(/analysis failed: cannot tokenise input/);
    });

    it('GIVEN the same event delivered twice THEN one set of actions', async () => {
      await configure({ sentimentTags: 'all' });
      await worker.start();
      const message = inbound({ text: 'thanks', mentionsBot: true });
      const expected = await expectedFor(message);
      const kinds = [
        ...expected.decision.actions.map((a) => a.kind),
        ...(expected.reply === null ? [] : ['reply']),
      ];
      expect((await queue.enqueueInbound(message)).duplicate).toBe(false);
      expect((await queue.enqueueInbound({ ...message })).duplicate).toBe(true);
      await settle(1);
      expect(kinds).toContain('react');
      await waitFor(() => delivered.length === kinds.length, 30_000);
      await sleep(200); // a second set, if any, would arrive now
      expect(delivered.map((a) => a.kind).sort()).toEqual(kinds.sort());
    });

    it('GIVEN a running worker THEN it heartbeats with its models and count, and stop finishes in-flight work', async () => {
      engine.delayMs = 100;
      await worker.start();
      await expect(worker.start()).rejects.toThrow(/cannot start/);
      await enqueueAll(Array.from({ length: 3 }, () => inbound()));
      await waitFor(() => engine.calls.signals.length > 0);
      const stopping = worker.stop();
      expect(worker.stop()).toBe(stopping);
      await stopping;
      expect((await queue.counts(INBOUND_QUEUE)).completed).toBe(3);
      const [beat] = await store.listWorkers();
      expect(beat).toMatchObject({ id: 'w-test', pid: process.pid, processed: 3, device: 'cpu' });
      expect(beat!.models[0]).toMatchObject({ role: 'signals', source: models.info()[0]!.source });
    });

    it('GIVEN messages without the queue THEN analyzeOnly returns analysis and decisions, and touches nothing', async () => {
      const { text, thresholds } = await toxic();
      await configure({ moderationChannelId: 'mods', thresholds });
      const [outcome] = await worker.analyzeOnly([InboundMessageSchema.parse(inbound({ text }))]);
      expect(outcome!.analysis.moderation.flagged).toContain(Object.keys(thresholds)[0]);
      expect(outcome!.decision.actions.map((a) => a.kind)).toEqual(['alert']);
      expect(await store.listFlags('discord', 'guild-1')).toEqual([]);
    });
  },
);
