import { createRequire } from 'node:module';
import { type Job, Worker } from 'bullmq';

/**
 * Lean fetching: BullMQ's worker with fewer Redis commands for a job that arrives at an idle queue, the common case
 * at half load on the inbound queue and on each outbound one alike.
 *
 * As shipped (BullMQ 5.81), such a job costs its worker three fetches (`moveToActive`: the one that takes it, the
 * worker loop's next one, which finds nothing, and one more after `BZPOPMIN` returns at once on the marker that the
 * first fetch put back) and two `BZPOPMIN`s. Here it costs one fetch and one `BZPOPMIN`:
 * - the scripts that hand a job out (`prepareJobForProcessing` in the fetch, the finish and the delay) re-add the
 *   queue's marker only while a job still waits, instead of always (it is there so that another blocked worker
 *   wakes up for the jobs that wait; a job added later adds its own marker, and a delayed one is promoted, with a
 *   marker, by the fetch that finds it due);
 * - when they hand out the last waiting job they say so, with when the next delayed job is due (what the empty fetch
 *   would have returned), and LeanWorker then waits on the marker, until then at most, instead of fetching again.
 * Every command wakes Redis on a core that the worker and the adapter need (`bench/README.md`);
 * `npx tsx bench/commands-per-job.ts` counts them both ways.
 */

/** One of BullMQ's Lua scripts as it defines them on a connection (`<name>:<version>`, numberOfKeys, lua). */
export interface BullScript {
  name: string;
  keys: number;
  content: string;
}

/** The part of BullMQ's ioredis client this module needs. */
export interface ScriptClient {
  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void;
}

const require = createRequire(import.meta.url);
const { version: BULLMQ_VERSION } = require('bullmq/package.json') as { version: string };

/** The scripts that hand a job to a worker: the fetch, and the finish and the delay that fetch the next one. */
const FETCHING_SCRIPTS = ['moveToActive-11', 'moveToFinished-14', 'moveToDelayed-12'] as const;

/**
 * The field a lean script adds to the job data it returns (never to the stored job) when no other job waits. Job
 * data fields BullMQ does not know are ignored by `Job.fromJSON`.
 */
export const LAST_WAITING_FIELD = 'stewardLastWaiting';

/** prepareJobForProcessing's two statements that change, as BullMQ ships them, and what replaces each. */
const EDITS: ReadonlyArray<readonly [string, string]> = [
  [
    'addBaseMarkerIfNeeded(markerKey, false)',
    [
      // keyPrefix is the queue's key prefix (`<prefix>:<queue>:`) in every caller.
      'local stillWaiting = rcall("LLEN", keyPrefix .. "wait") > 0 or rcall("ZCARD", keyPrefix .. "prioritized") > 0',
      '  if stillWaiting then addBaseMarkerIfNeeded(markerKey, false) end',
    ].join('\n'),
  ],
  [
    'return {rcall("HGETALL", jobKey), jobId, 0, 0} -- get job data',
    [
      'local jobData = rcall("HGETALL", jobKey)',
      '  local delayUntil = 0',
      '  if not stillWaiting then',
      `    table.insert(jobData, "${LAST_WAITING_FIELD}"); table.insert(jobData, "1")`,
      // What the empty fetch it saves would have returned: when the next delayed job is due, so that the worker
      // blocks until then at most (the delayed job's marker may have been popped already).
      '    delayUntil = getNextDelayedTimestamp(keyPrefix .. "delayed") or 0',
      '  end',
      '  return {jobData, jobId, 0, delayUntil}',
    ].join('\n'),
  ],
];

/**
 * BullMQ's fetching scripts with the edits above. Throws when a script no longer has each statement exactly once (a
 * BullMQ upgrade changed them): the test that pins them fails, and the driver runs BullMQ's own (with a log line).
 */
export function leanScripts(): BullScript[] {
  return FETCHING_SCRIPTS.map((file) => {
    const exported = require(`bullmq/dist/cjs/scripts/${file}.js`) as Record<string, BullScript>;
    const script = Object.values(exported)[0];
    if (!script || typeof script.content !== 'string') {
      throw new Error(`bullmq ${BULLMQ_VERSION}: no script in scripts/${file}.js`);
    }
    let content = script.content;
    for (const [from, to] of EDITS) {
      const parts = content.split(from);
      if (parts.length !== 2) {
        throw new Error(
          `bullmq ${BULLMQ_VERSION}: scripts/${file}.js has "${from}" ${parts.length - 1} times, not once`,
        );
      }
      content = parts.join(to);
    }
    return { name: script.name, keys: script.keys, content };
  });
}

let lean: BullScript[] | null = null;

/**
 * Redefines the fetching scripts on one of BullMQ's worker connections, after BullMQ defined its own (a command is
 * defined per connection, under the versioned name BullMQ calls).
 */
export function useLeanScripts(client: ScriptClient): void {
  lean ??= leanScripts();
  for (const script of lean) {
    client.defineCommand(`${script.name}:${BULLMQ_VERSION}`, {
      numberOfKeys: script.keys,
      lua: script.content,
    });
  }
}

/**
 * BullMQ's Worker that believes a lean script which says it handed out the last waiting job: it marks itself
 * drained, so its next fetch waits on the marker (`BZPOPMIN`) instead of running `moveToActive` to find nothing.
 * Without the lean scripts nothing says so, and it is BullMQ's Worker.
 */
export class LeanWorker extends Worker {
  protected override async nextJobFromJobData(
    jobData?: Parameters<Worker['nextJobFromJobData']>[0],
    jobId?: string,
    token?: string,
  ): Promise<Job> {
    const job = await super.nextJobFromJobData(jobData, jobId, token);
    if (job && (jobData as Record<string, unknown> | undefined)?.[LAST_WAITING_FIELD] === '1') {
      // `drained` is BullMQ's own flag (private in its types): set by a fetch that found nothing, it makes the next
      // fetch block on the marker first.
      (this as unknown as { drained: boolean }).drained = true;
    }
    return job;
  }
}
