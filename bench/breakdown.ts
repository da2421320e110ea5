/**
 * Where enqueue → action time goes, from BullMQ's own job timestamps (all on this machine's clock): waiting in
 * the inbound queue (added → processedOn), inside the worker (processedOn → finishedOn: batch wait, models,
 * decisions, outbound enqueue), and the outbound hop to the adapter (finishedOn → action received).
 */
import { toBullId } from '../queue/bullmq-ids.ts';
import { inboundQueue } from './backlog.ts';
import { percentile } from './stats.ts';

export interface Breakdown {
  samples: number;
  queue_wait_p50_ms: number;
  queue_wait_p99_ms: number;
  in_worker_p50_ms: number;
  in_worker_p99_ms: number;
  outbound_p50_ms: number;
  outbound_p99_ms: number;
}

/** `received`: inbound job id → Date.now() when the adapter got the message's first action. */
export async function breakdown(
  url: string,
  prefix: string,
  received: Map<string, number>,
): Promise<Breakdown> {
  const queue = inboundQueue(url, prefix);
  const wait: number[] = [];
  const inWorker: number[] = [];
  const outbound: number[] = [];
  try {
    // An even sample over the whole phase (the tail alone could miss a burst).
    const all = [...received.keys()];
    const step = Math.max(1, Math.ceil(all.length / 1000));
    const ids = all.filter((_, i) => i % step === 0);
    for (let i = 0; i < ids.length; i += 100) {
      const jobs = await Promise.all(ids.slice(i, i + 100).map((id) => queue.getJob(toBullId(id))));
      jobs.forEach((job, k) => {
        if (!job?.processedOn || !job.finishedOn) return;
        wait.push(job.processedOn - job.timestamp);
        inWorker.push(job.finishedOn - job.processedOn);
        outbound.push(Math.max(0, received.get(ids[i + k]!)! - job.finishedOn));
      });
    }
  } finally {
    await queue.close();
  }
  return {
    samples: wait.length,
    queue_wait_p50_ms: percentile(wait, 50),
    queue_wait_p99_ms: percentile(wait, 99),
    in_worker_p50_ms: percentile(inWorker, 50),
    in_worker_p99_ms: percentile(inWorker, 99),
    outbound_p50_ms: percentile(outbound, 50),
    outbound_p99_ms: percentile(outbound, 99),
  };
}
