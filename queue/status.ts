import type { QueueDriver } from './types.ts';
import { INBOUND_QUEUE, outboundQueueName } from './types.ts';
import type { Platform } from '../src/domain/message.ts';
import type { Store } from '../src/store/types.ts';
import type { StatusInfo } from '../src/commands/types.ts';

/** Builds `status` from the queue driver and the workers' heartbeats (what an adapter process can see). */
export async function collectStatus(
  queue: QueueDriver,
  store: Store,
  platforms: Platform[],
): Promise<StatusInfo> {
  const names = [INBOUND_QUEUE, ...platforms.map(outboundQueueName)];
  const [counts, workers, alive] = await Promise.all([
    Promise.all(names.map(async (name) => ({ name, ...(await queue.counts(name)) }))),
    store.listWorkers(),
    queue.workersAlive(),
  ]);
  const lastErrors: StatusInfo['lastErrors'] = [];
  for (const worker of workers) {
    if (worker.lastError)
      lastErrors.push({
        at: worker.lastError.at,
        source: `worker ${worker.id}`,
        message: worker.lastError.message,
      });
  }
  const failed = await Promise.all(names.map((name) => queue.failedJobs(name, 3)));
  for (const job of failed.flat()) {
    lastErrors.push({ at: job.failedAt ?? 0, source: `${job.queue} job ${job.id}`, message: job.reason });
  }
  lastErrors.sort((a, b) => b.at - a.at);
  const first = workers[0];
  return {
    queues: counts.map(({ name, waiting, active, delayed, failed }) => ({
      name,
      waiting,
      active,
      delayed,
      failed,
    })),
    workersAlive: Math.max(alive, workers.length),
    models: (first?.models ?? []).map((m) => ({
      role: m.role as never,
      source: m.source,
      version: m.version,
      dtype: m.dtype,
      device: first?.device ?? 'cpu',
    })),
    lastErrors: lastErrors.slice(0, 5),
    skipped: sumCounts(workers.map((w) => w.skipped ?? {})),
  };
}

function sumCounts(counts: Array<Record<string, number>>): Record<string, number> {
  const total: Record<string, number> = {};
  for (const one of counts) for (const [key, n] of Object.entries(one)) total[key] = (total[key] ?? 0) + n;
  return total;
}
