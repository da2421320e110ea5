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
    const reacts = new Map(
      delivered.filter((a) => a.kind === 'react').map((a) => [a.key, a.kind === 'react' ? a.sentiment : '']),
    );
    expect(reacts.size).toBe(messages.length);
    expect(reacts.get(`${inboundJobId(messages[0]!)}:react`)).toBe('positive');
    expect(reacts.get(`${inboundJobId(messages[1]!)}:react`)).toBe('negative');
    const reply = delivered.find((a): a is ReplyAction => a.kind === 'reply');
    if (reply) expect(reply.text.trim().length).toBeGreaterThan(0);
    // The topic's own text matches it (message embeddings and topic embeddings share one space)...
    const [same] = await stack.worker!.analyzeOnly([
      InboundMessageSchema.parse(inbound({ text: 'music: songs, albums, concerts and bands' })),
    ]);
    expect(same!.analysis.topics.map((t) => t.topic)).toEqual(['music']);
    expect(same!.analysis.topics[0]!.score).toBeGreaterThan(0.95);
    // ...and a message about music is closer to it than one about gardening (quality, not the threshold).
    const [vectors] = await stack.engine!.embed(['music: songs, albums, concerts and bands']);
    const [musical, garden] = await stack.engine!.signals([
      messages[3]!.text,
      'my tomato plants need better soil and compost',
    ]);
    const cos = (e: Float32Array) => e.reduce((sum, x, i) => sum + x * vectors![i]!, 0);
    expect(cos(musical!.embedding)).toBeGreaterThan(cos(garden!.embedding));
  }, 180_000);

  it('GIVEN texts without the queue THEN analyzeBatch scores them and replies on request', async () => {
    const results = await analyzeBatch(
      stack.engine!,
      ['you are a worthless idiot', 'good morning everyone'],
      defaultSettings({ replyMode: 'mention' }),
      { reply: true },
    );
    expect(results).toHaveLength(2);
    const [rude, kind] = results;
    const worst = (r: typeof rude) => Math.max(...Object.values(r!.analysis.moderation.scores));
    expect(worst(rude)).toBeGreaterThan(worst(kind));
    expect(kind!.analysis.moderation.flagged).toEqual([]);
  }, 120_000);
});
