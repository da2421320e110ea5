import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { InboundMessageInput } from '../../src/domain/message.ts';
import { createLogger, type Logger } from '../../src/logger.ts';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let counter = 0;

/** A valid inbound message; each call gets a fresh message id unless one is given. */
export function inbound(overrides: Partial<InboundMessageInput> = {}): InboundMessageInput {
  counter += 1;
  return {
    platform: 'discord',
    workspaceId: 'guild-1',
    channelId: 'chan-1',
    messageId: `m-${Date.now()}-${counter}`,
    author: { id: 'user-1', name: 'Ada' },
    text: 'hello there',
    mentionsBot: false,
    timestamp: Date.now(),
    ...overrides,
  };
}

export function randomPrefix(tag = 'test'): string {
  return `${tag}-${randomBytes(5).toString('hex')}`;
}

/** Deletes every key under a prefix (the test's own namespace on the shared Redis). */
export async function deletePrefix(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
  return deleted;
}

/** A quiet logger for tests; LOG_LEVEL=debug shows the lines. */
export function testLogger(): Logger {
  return createLogger({ level: process.env.LOG_LEVEL ?? 'silent' });
}

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
