import { randomBytes } from 'node:crypto';
import { MemoryDriver } from '../../../queue/memory.ts';
import type { QueueDriver } from '../../../queue/types.ts';
import { DiscordAdapter } from '../../../adapters/discord/adapter.ts';
import type { DiscordTuning } from '../../../adapters/discord/options.ts';
import { createLogger, type Logger } from '../../../src/logger.ts';
import type { InboundMessage } from '../../../src/domain/message.ts';
import { MemoryStore } from '../../../src/store/memory.ts';
import type { Store } from '../../../src/store/types.ts';
import { type Community, seedCommunity } from './community.ts';
import { DiscordEmulator } from './server.ts';
import { SettingsCache } from '../../../src/store/settings-cache.ts';

/** A fake token shaped like a real one; it only ever goes to the emulator. */
export function fakeToken(): string {
  const part = (n: number) => randomBytes(n).toString('base64url');
  return `${Buffer.from(String(Date.now())).toString('base64url')}.${part(5)}.${part(28)}`;
}

export interface DiscordHarness {
  emulator: DiscordEmulator;
  community: Community;
  adapter: DiscordAdapter;
  token: string;
  logger: Logger;
  stop(): Promise<void>;
}

/** Emulator + seeded community + the real adapter (real discord.js) connected to it. */
export async function startDiscordHarness(input: {
  queue: QueueDriver;
  store: Store;
  tuning?: Partial<DiscordTuning>;
  logger?: Logger;
}): Promise<DiscordHarness> {
  const token = fakeToken();
  const logger = input.logger ?? createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const emulator = await new DiscordEmulator({ token }).start();
  const community = seedCommunity(emulator);
  const adapter = new DiscordAdapter({
    token,
    apiUrl: emulator.apiUrl,
    queue: input.queue,
    store: input.store,
    settings: new SettingsCache(input.store),
    logger,
    tuning: { typingMaxMs: 0, ...input.tuning },
  });
  try {
    await adapter.start();
  } catch (error) {
    await emulator.stop();
    throw error;
  }
  return {
    emulator,
    community,
    adapter,
    token,
    logger,
    async stop() {
      await adapter.stop().catch(() => {});
      await emulator.stop();
    },
  };
}

/** The harness on the in-process queue and store: for adapter tests that need no worker. */
export async function startMemoryHarness(
  tuning: Partial<DiscordTuning> = {},
): Promise<DiscordHarness & { queue: MemoryDriver; store: MemoryStore; inbound: InboundMessage[] }> {
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  // Short backoff so retried jobs come back within a test.
  const queue = new MemoryDriver({ logger, policy: { backoffMs: 50 } });
  const store = new MemoryStore();
  await queue.start();
  await store.start();
  const inbound: InboundMessage[] = [];
  await queue.consumeInbound(async (message) => void inbound.push(message), { concurrency: 1 });
  const harness = await startDiscordHarness({ queue, store, tuning, logger });
  return {
    ...harness,
    queue,
    store,
    inbound,
    async stop() {
      await harness.stop();
      await queue.stop();
      await store.stop();
    },
  };
}
