import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INBOUND_QUEUE } from '../../queue/types.ts';
import type { Action, ReplyAction } from '../../src/domain/action.ts';
import { InboundMessageSchema, inboundJobId } from '../../src/domain/message.ts';
import { defaultSettings } from '../../src/domain/settings.ts';
import { analyzeBatch } from '../../worker/analyze.ts';
import { inbound, waitFor } from '../queue/fixtures.ts';
import { bundledModelsPresent, createTestStack, MISSING_MODELS, type TestStack } from '../support/stack.ts';

const present = bundledModelsPresent();
if (!present) console.warn(`worker with the real engine: ${MISSING_MODELS}`);

/** The whole inference side with the bundled models: BullMQ, Redis store, inference thread. */
describe.skipIf(!present)('worker pipeline with the bundled models', () => {
  let stack: TestStack;
  const delivered: Action[] = [];

  beforeAll(async () => {
    stack = await createTestStack({ withWorker: true, config: { 'models.threads': 1 } });
    await stack.queue.consumeOutbound('discord', async (a) => void delivered.push(a), { concurrency: 8 });
  }, 180_000);
  afterAll(() => stack?.cleanup(), 60_000);

  it('GIVEN a mixed batch THEN every message is tagged, a question to the bot is answered, and topics match', async () => {
    await stack.store.updateSettings('discord', 'guild-1', (s) => ({
      ...s,
      sentimentTags: 'all',
      replyMode: 'mention',
      moderationChannelId: 'mods',
      topics: [{ name: 'music', description: 'songs, albums, concerts and bands' }],
    }));
    const messages = [
      inbound({ text: 'I love this community, thank you all so much!' }),
      inbound({ text: 'This update is awful, I hate it.' }),
      inbound({ text: 'hey bot, what time is the meeting tomorrow?', mentionsBot: true }),
      inbound({ text: 'Which concert are you going to? The band released a great album.' }),
    ];
    for (const m of messages) await stack.queue.enqueueInbound(m);
    await waitFor(
      async () => (await stack.queue.counts(INBOUND_QUEUE)).completed === messages.length,
      120_000,
      'the batch',
    );
    // Completed means the actions are enqueued; delivery is the outbound consumer's, a moment later.
    await waitFor(
      () => delivered.filter((a) => a.kind === 'react').length === messages.length,
      30_000,
      'tags',
    );
    // What the models make of each message, asked directly: the pipeline must carry exactly that to the platform
    // (no sentiment or reply is pinned on a hand-picked sentence; the test is about the plumbing).
    const expected = await stack.worker!.analyzeOnly(messages.map((m) => InboundMessageSchema.parse(m)));
    const reacts = new Map(
      delivered.filter((a) => a.kind === 'react').map((a) => [a.key, a.kind === 'react' ? a.sentiment : '']),
    );
    expect(reacts.size).toBe(messages.length);
    messages.forEach((m, i) => {
      expect(reacts.get(`${inboundJobId(m)}:react`)).toBe(expected[i]!.analysis.sentiment?.label);
    });
    // Only the mention asks for a reply (replyMode mention), and it gets one unless the models flagged it.
    const wanted = expected.map((e) => e.decision.reply !== null);
    expect(wanted).toEqual([false, false, expected[2]!.analysis.moderation.flagged.length === 0, false]);
    const texts = expected.flatMap((e) => (e.reply === null ? [] : [e.reply]));
    await waitFor(
      () => delivered.filter((a) => a.kind === 'reply').length === texts.length,
      60_000,
      'the replies',
    );
    // The pipeline's reply is the one the reply model writes for that message (sampling is seeded by its id).
    const replies = delivered.filter((a): a is ReplyAction => a.kind === 'reply');
    expect(replies.map((r) => r.text)).toEqual(texts);
    for (const reply of replies) expect(reply.text.trim().length).toBeGreaterThan(0);
    // The topic's own text matches it (message embeddings and topic embeddings share one space).
    const [same] = await stack.worker!.analyzeOnly([
      InboundMessageSchema.parse(inbound({ text: 'music: songs, albums, concerts and bands' })),
    ]);
    expect(same!.analysis.topics.map((t) => t.topic)).toEqual(['music']);
    expect(same!.analysis.topics[0]!.score).toBeGreaterThan(0.95);
  }, 180_000);

  it("GIVEN texts without the queue THEN analyzeBatch applies the thresholds to the engine's own scores", async () => {
    const texts = ['you are a worthless idiot', 'good morning everyone'];
    const settings = defaultSettings({ replyMode: 'mention' });
    const results = await analyzeBatch(stack.engine!, texts, settings, { reply: true });
    expect(results).toHaveLength(2);
    const signals = await stack.engine!.signals(texts);
    const thresholds = { ...stack.engine!.defaults().thresholds, ...settings.thresholds };
    results.forEach((r, i) => {
      const raw = signals[i]!;
      expect(r.analysis.sentiment?.label).toBe(raw.sentiment.label);
      expect(r.analysis.moderation.scores).toEqual(raw.moderation);
      const over = Object.entries(raw.moderation)
        .filter(([label, score]) => score >= (thresholds[label] ?? 0.5))
        .map(([label]) => label);
      expect([...r.analysis.moderation.flagged].sort()).toEqual(over.sort());
    });
  }, 120_000);
});
