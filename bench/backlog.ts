/** Backlog control for the saturated phase: pre-fill the inbound queue while paused, discard what is left. */
import { Queue } from 'bullmq';
import { BullMQDriver } from '../queue/bullmq.ts';
import { redisOptionsFromUrl } from '../queue/bullmq-ids.ts';
import { INBOUND_QUEUE, outboundQueueName } from '../queue/types.ts';
import type { Platform } from '../src/domain/message.ts';
import { createLogger } from '../src/logger.ts';
import { sleep } from './stats.ts';

export function inboundQueue(url: string, prefix: string): Queue {
  return new Queue(INBOUND_QUEUE, { connection: redisOptionsFromUrl(url), prefix });
}

export function outboundQueue(url: string, prefix: string, platform: Platform): Queue {
  return new Queue(outboundQueueName(platform), { connection: redisOptionsFromUrl(url), prefix });
}

/**
 * Enqueues `count` messages through the real driver while the queue is paused, then resumes it, so the
 * worker starts on a full queue. Returns the messages/s enqueued.
 */
export async function prefill(
  url: string,
  prefix: string,
  workspaceId: string,
  texts: string[],
  count: number,
): Promise<number> {
  const queue = inboundQueue(url, prefix);
  const driver = new BullMQDriver({ url, prefix, logger: createLogger({ level: 'warn' }) });
  await driver.start();
  try {
    await queue.pause();
    const t0 = performance.now();
    for (let start = 0; start < count; start += 500) {
      const chunk = Array.from({ length: Math.min(500, count - start) }, (_, j) => start + j);
      await Promise.all(
        chunk.map((i) =>
          driver.enqueueInbound({
            platform: 'discord',
            workspaceId,
            channelId: 'backlog',
            messageId: `b${i}`,
            author: { id: `u${i % 97}`, name: `user${i % 97}` },
            text: texts[i % texts.length]!,
            mentionsBot: false,
            timestamp: Date.now(),
          }),
        ),
      );
    }
    const rate = count / ((performance.now() - t0) / 1000);
    await queue.resume();
    return rate;
  } finally {
    await driver.stop();
    await queue.close();
  }
}

/** Removes waiting jobs (the worker finishes its active ones) so the next phase starts empty; returns how many. */
export async function discardBacklog(url: string, prefix: string): Promise<number> {
  const queue = inboundQueue(url, prefix);
  try {
    const waiting = (await queue.getJobCounts('waiting')).waiting ?? 0;
    await queue.drain(true);
    for (let i = 0; i < 100; i++) {
      const counts = await queue.getJobCounts('active', 'waiting');
      if ((counts.active ?? 0) + (counts.waiting ?? 0) === 0) break;
      await sleep(100);
    }
    return waiting;
  } finally {
    await queue.close();
  }
}
