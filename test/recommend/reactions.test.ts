import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThreadEngine } from '../../models/runtime/index.ts';
import { MemoryDriver } from '../../queue/memory.ts';
import { INBOUND_QUEUE } from '../../queue/types.ts';
import { loadConfig } from '../../src/config.ts';
import { type InboundMessageInput, inboundJobIdOf } from '../../src/domain/message.ts';
import { REACTION_WEIGHT } from '../../src/domain/profile.ts';
import type { InferenceEngine } from '../../src/engine.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { createWorker, type StewardWorker } from '../../worker/pipeline.ts';
import { inbound, testLogger, waitFor } from '../queue/fixtures.ts';
import { bundledModelsPresent, MISSING_MODELS } from '../support/stack.ts';

const present = bundledModelsPresent();
if (!present) console.warn(`reactions feed profiles: ${MISSING_MODELS}`);

const WS = 'g-react';
const WRITER = { id: 'writer-1', name: 'Writer' };
const FAN = { id: 'fan-2', name: 'Fan' };
const OPTED_OUT = { id: 'shy-3', name: 'Shy' };

/** A member's reaction to `message`, as the adapters enqueue it. */
function reactionTo(message: InboundMessageInput, by: { id: string; name: string }, emoji = '👍') {
  return inbound({
    ...message,
    author: by,
    mentionsBot: false,
    reaction: { emoji, authorId: message.author.id },
    timestamp: message.timestamp + 1_000,
  });
}

/**
 * Reactions through the real pipeline (bundled signals model, worker, memory store): a reaction folds the reacted
 * message into the reactor's profile at REACTION_WEIGHT, and does nothing for an opted-out member or a flagged message.
 */
describe.skipIf(!present)('reactions feed the reactor’s interest profile', () => {
  let engine: InferenceEngine;
  const config = loadConfig({ env: { LOG_LEVEL: 'silent' }, overrides: { 'models.threads': 1 } });
  const logger = testLogger();

  beforeAll(async () => {
    engine = createThreadEngine(config, logger);
    await engine.start();
  }, 180_000);
  afterAll(() => engine?.stop(), 60_000);

  it('GIVEN members reacting to a message THEN the reactor’s profile gains it at a smaller weight, unless opted out or the message was flagged', async () => {
    const store = new MemoryStore();
    const queue = new MemoryDriver({ logger });
    await store.start();
    await queue.start();
    const worker: StewardWorker = createWorker({
      queue,
      store,
      engine,
      logger,
      config,
      options: { settingsTtlMs: 0 },
    });
    await worker.start();
    let sent = 0;
    const send = async (m: InboundMessageInput) => {
      const { duplicate } = await queue.enqueueInbound(m);
      expect(duplicate).toBe(false);
      sent += 1;
      await waitFor(() => worker.stats().processed === sent, 60_000, `job ${sent}`);
    };
    try {
      const post = inbound({
        workspaceId: WS,
        author: WRITER,
        text: 'I spend every weekend hiking glacier trails and volcano craters with my camera',
      });
      await send(post);
      const insult = inbound({ workspaceId: WS, author: WRITER, text: 'you are an idiot' });
      await send(insult);
      expect((await store.listFlags('discord', WS, { limit: 5 })).length).toBe(1);
      await store.setOptOut('discord', WS, OPTED_OUT.id, true);

      // The reaction is its own job beside the message's (same message id).
      const reaction = reactionTo(post, FAN);
      expect(inboundJobIdOf(reaction)).not.toBe(inboundJobIdOf(post));
      await send(reaction);
      const fan = await store.getProfile('discord', WS, FAN.id);
      expect(fan).toMatchObject({ messages: 0, reactions: 1, weight: REACTION_WEIGHT });
      expect(fan!.terms.glacier).toBe(REACTION_WEIGHT);
      const writer = await store.getProfile('discord', WS, WRITER.id);
      expect(writer!.terms.glacier).toBe(1);
      // Nothing for the message's author, and no tags, alerts or replies for a reaction.
      expect(writer!.messages).toBe(1);

      await send(reactionTo(post, OPTED_OUT));
      expect(await store.getProfile('discord', WS, OPTED_OUT.id)).toBeNull();
      await send(reactionTo(insult, FAN, '😂'));
      expect(await store.getProfile('discord', WS, FAN.id)).toMatchObject({ reactions: 1 });

      // The fan's own message weighs a full 1 beside the reaction's half.
      await send(inbound({ workspaceId: WS, author: FAN, text: 'my glacier photos are finally online' }));
      const after = await store.getProfile('discord', WS, FAN.id);
      expect(after).toMatchObject({ messages: 1, reactions: 1 });
      expect(after!.weight).toBeCloseTo(1 + REACTION_WEIGHT, 3);
      expect((await queue.counts(INBOUND_QUEUE)).failed).toBe(0);
    } finally {
      await worker.stop();
      await queue.stop();
      await store.stop();
    }
  }, 180_000);
});
