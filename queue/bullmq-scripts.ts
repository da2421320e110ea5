import { createRequire } from 'node:module';

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

/**
 * The scripts that take a job for a worker (the fetch, and the finish or delay that fetches the next one). Each one
 * ends in BullMQ's `prepareJobForProcessing`, which re-adds the queue's marker every time it hands out a job so that
 * another blocked worker wakes up if more jobs wait.
 */
const FETCHING_SCRIPTS = ['moveToActive-11', 'moveToFinished-14', 'moveToDelayed-12'] as const;

/** The statement in prepareJobForProcessing that re-adds the marker, unconditionally. */
export const UNCONDITIONAL_MARKER = 'addBaseMarkerIfNeeded(markerKey, false)';

/**
 * The same statement, taken only when a job is still waiting (the wait list or the prioritized set; `keyPrefix` is
 * the queue's key prefix, `<prefix>:<queue>:`, in every caller). A job added later adds its own marker, and a delayed
 * one is promoted (with a marker) by the fetch that finds it due, so no worker sleeps while work waits.
 */
export const CONDITIONAL_MARKER = [
  'if rcall("LLEN", keyPrefix .. "wait") > 0 or rcall("ZCARD", keyPrefix .. "prioritized") > 0 then',
  `    ${UNCONDITIONAL_MARKER}`,
  '  end',
].join('\n');

/**
 * BullMQ's fetching scripts with the marker re-added only while jobs still wait.
 *
 * Why: with the marker always re-added, a job that arrives at an idle queue costs its worker three fetches (the one
 * that takes it, the worker loop's next one that finds nothing, and one more after `BZPOPMIN` returns at once on the
 * marker the first fetch put back) and two `BZPOPMIN`s, where the conditional marker costs it two fetches and one
 * `BZPOPMIN`. At half load most jobs arrive at an idle queue, on the inbound queue and on each outbound one alike,
 * and every command wakes Redis on a core that the worker and the adapter need (`bench/README.md`).
 *
 * Throws when a script no longer has the statement exactly once (a BullMQ upgrade changed it): the test that pins
 * the version fails instead of a silently different queue.
 */
export function leanMarkerScripts(): BullScript[] {
  return FETCHING_SCRIPTS.map((file) => {
    const exported = require(`bullmq/dist/cjs/scripts/${file}.js`) as Record<string, BullScript>;
    const script = Object.values(exported)[0];
    if (!script || typeof script.content !== 'string') {
      throw new Error(`bullmq ${BULLMQ_VERSION}: no script in scripts/${file}.js`);
    }
    const parts = script.content.split(UNCONDITIONAL_MARKER);
    if (parts.length !== 2) {
      throw new Error(
        `bullmq ${BULLMQ_VERSION}: scripts/${file}.js has the marker statement ${parts.length - 1} times, not once`,
      );
    }
    return { name: script.name, keys: script.keys, content: parts.join(CONDITIONAL_MARKER) };
  });
}

let lean: BullScript[] | null = null;

/**
 * Redefines the fetching scripts on one of BullMQ's worker connections (after BullMQ defined its own: a command
 * is defined per connection, under the versioned name BullMQ calls).
 */
export function useLeanMarkers(client: ScriptClient): void {
  lean ??= leanMarkerScripts();
  for (const script of lean) {
    client.defineCommand(`${script.name}:${BULLMQ_VERSION}`, {
      numberOfKeys: script.keys,
      lua: script.content,
    });
  }
}
