import { DefaultJobPolicy } from '../../queue/jobs.ts';
import type { QueueDriver } from '../../queue/types.ts';
import { StewardError } from '../../src/errors.ts';
import type { OrderedOutput } from './ordered-output.ts';

/**
 * Wraps local mode's queue so the terminal knows when a line is finished: the worker's inbound handler
 * resolving means its actions are enqueued; enqueued local actions are what the line still waits for.
 * Local mode only — the distributed drivers are never wrapped.
 */
export function trackingQueue(
  queue: QueueDriver,
  output: OrderedOutput,
  attempts: number = DefaultJobPolicy.attempts,
): QueueDriver {
  return {
    kind: queue.kind,
    start: () => queue.start(),
    stop: () => queue.stop(),
    enqueueInbound: (message: unknown) => queue.enqueueInbound(message),
    counts: (name: string) => queue.counts(name),
    oldestWaiting: (name: string) => queue.oldestWaiting(name),
    failedJobs: (name: string, limit: number) => queue.failedJobs(name, limit),
    workersAlive: () => queue.workersAlive(),
    forgetMember: (platform, workspaceId, userId) => queue.forgetMember(platform, workspaceId, userId),
    consumeOutbound: queue.consumeOutbound.bind(queue),
    enqueueOutbound: async (platform, actions) => {
      if (platform === 'local')
        for (const action of actions) output.expect(action.target.messageId, action.key);
      await queue.enqueueOutbound(platform, actions);
    },
    consumeInbound: (handler, options) =>
      queue.consumeInbound(async (message, job) => {
        try {
          await handler(message, job);
        } catch (error) {
          const final =
            (error instanceof StewardError && error.unrecoverable) || job.attemptsMade + 1 >= attempts;
          if (final && message.platform === 'local') {
            output.finish(message.messageId, [
              `  ✗ could not analyse this message: ${(error as Error).message}`,
            ]);
          }
          throw error;
        }
        if (message.platform === 'local') output.finish(message.messageId);
      }, options),
  };
}
