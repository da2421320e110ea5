/**
 * Where enqueue → first action time goes, from BullMQ's own job timestamps (all on this machine's clock), following
 * each message to the outbound job of the action the adapter received first:
 *   queue wait        inbound added → taken by a worker (processedOn)
 *   to action         taken → the action's outbound job added (signals batch wait, models, decision, flag write)
 *   outbound wait     outbound job added → taken by the adapter's outbound worker
 *   delivery          taken by the adapter → its handler ran (the platform call; here, the bench's handler)
 * and, off the path to the action, `after action`: outbound job added → inbound job completed (profile update,
 * daily summary, reply), and `in_worker`: taken → completed (the two together).
 */
import type { Queue } from 'bullmq';
import { toBullId } from '../queue/bullmq-ids.ts';
import { inboundQueue, outboundQueue } from './backlog.ts';
import { percentile } from './stats.ts';

export interface Breakdown {
  samples: number;
  queue_wait_p50_ms: number;
  queue_wait_p99_ms: number;
  to_action_p50_ms: number;
  to_action_p99_ms: number;
  outbound_wait_p50_ms: number;
  outbound_wait_p99_ms: number;
  delivery_p50_ms: number;
  delivery_p99_ms: number;
  after_action_p50_ms: number;
  after_action_p99_ms: number;
  in_worker_p50_ms: number;
  in_worker_p99_ms: number;
  /** outbound job added → action received (outbound wait + delivery). */
  outbound_p50_ms: number;
  outbound_p99_ms: number;
}

/** What the adapter saw of one message: Date.now() when its first action arrived, and that action's key. */
export interface Received {
  at: number;
  actionKey: string;
}

const STAGES = [
  'queue_wait',
  'to_action',
  'outbound_wait',
  'delivery',
  'after_action',
  'in_worker',
  'outbound',
] as const;

/** One message's stages in ms (the names above), from its inbound job and its first action's outbound job. */
export type Stages = Record<(typeof STAGES)[number], number>;

/** `received`: inbound job id → the first action the adapter got for it. */
export async function breakdown(
  url: string,
  prefix: string,
  received: Map<string, Received>,
): Promise<Breakdown> {
  // An even sample over the whole phase (the tail alone could miss a burst).
  const all = [...received.keys()];
  const step = Math.max(1, Math.ceil(all.length / 1000));
  const sample = new Map(all.filter((_, i) => i % step === 0).map((id) => [id, received.get(id)!]));
  const stages = [...(await stagesOf(url, prefix, sample)).values()];
  const out: Record<string, number> = { samples: stages.length };
  for (const stage of STAGES) {
    const values = stages.map((s) => s[stage]);
    out[`${stage}_p50_ms`] = percentile(values, 50);
    out[`${stage}_p99_ms`] = percentile(values, 99);
  }
  return out as unknown as Breakdown;
}

/** Each message's stages (left out: one whose jobs are gone or unfinished). */
export async function stagesOf(
  url: string,
  prefix: string,
  received: Map<string, Received>,
): Promise<Map<string, Stages>> {
  const inbound = inboundQueue(url, prefix);
  const outbound = outboundQueue(url, prefix, 'discord');
  const out = new Map<string, Stages>();
  const ms = (v: number) => Math.max(0, v);
  try {
    const ids = [...received.keys()];
    for (let i = 0; i < ids.length; i += 100) {
      const slice = ids.slice(i, i + 100);
      const get = (queue: Queue, id: string) => queue.getJob(toBullId(id));
      const [ins, outs] = await Promise.all([
        Promise.all(slice.map((id) => get(inbound, id))),
        Promise.all(slice.map((id) => get(outbound, received.get(id)!.actionKey))),
      ]);
      slice.forEach((id, k) => {
        const job = ins[k];
        const action = outs[k];
        const got = received.get(id)!.at;
        if (!job?.processedOn || !job.finishedOn || !action?.processedOn) return;
        out.set(id, {
          queue_wait: ms(job.processedOn - job.timestamp),
          to_action: ms(action.timestamp - job.processedOn),
          outbound_wait: ms(action.processedOn - action.timestamp),
          delivery: ms(got - action.processedOn),
          after_action: ms(job.finishedOn - action.timestamp),
          in_worker: ms(job.finishedOn - job.processedOn),
          outbound: ms(got - action.timestamp),
        });
      });
    }
  } finally {
    await Promise.all([inbound.close(), outbound.close()]);
  }
  return out;
}
