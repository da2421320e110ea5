import { buildStore } from '../app.ts';
import type { Config } from '../../src/config.ts';
import { type Platform, PlatformSchema } from '../../src/domain/message.ts';
import { ConfigError } from '../../src/errors.ts';
import { type FlagRecord, STEWARD_ACTOR, type Store } from '../../src/store/types.ts';

export interface FlagsExportOptions {
  platform: string;
  workspaceId: string;
  /** Which decisions to export; open flags have none and are never exported. */
  status: 'dismissed' | 'actioned' | 'all';
}

/**
 * One moderator decision as a labelled example for models/training (`signals.py --feedback FILE`): a flag a
 * moderator acted on (delete, timeout, hide) says its flagged labels were right (1); a dismissed one says they
 * were wrong (0). Labels the flag did not raise say nothing and are left out.
 */
export interface FeedbackExample {
  text: string;
  decision: 'actioned' | 'dismissed';
  labels: Record<string, 0 | 1>;
  scores: Record<string, number>;
  flag: string;
  platform: Platform;
  workspace: string;
  decidedAt: number;
}

/** Turns a decided flag into an example; null for open flags and flags only Steward itself touched. */
export function feedbackExample(flag: FlagRecord): FeedbackExample | null {
  if (flag.status === 'open' || flag.flagged.length === 0) return null;
  // The decision is the latest entry a person made; an auto-hide alone is Steward's own guess, not a label.
  const human = flag.history.filter((h) => h.actorId !== STEWARD_ACTOR).at(-1);
  if (!human) return null;
  const value: 0 | 1 = flag.status === 'actioned' ? 1 : 0;
  return {
    text: flag.excerpt,
    decision: flag.status,
    labels: Object.fromEntries(flag.flagged.map((label) => [label, value])),
    scores: flag.scores,
    flag: flag.id,
    platform: flag.platform,
    workspace: flag.workspaceId,
    decidedAt: human.at,
  };
}

/** `steward flags export`: writes the workspace's decided flags as JSONL, newest first; returns how many. */
export async function exportFlags(
  store: Store,
  options: FlagsExportOptions,
  write: (line: string) => void,
): Promise<number> {
  const platform = PlatformSchema.safeParse(options.platform);
  if (!platform.success) {
    throw new ConfigError(
      `--platform must be one of ${PlatformSchema.options.join(', ')} (got "${options.platform}")`,
    );
  }
  // One pass over the flag log, newest first; open flags carry no decision and are skipped below.
  const flags = await store.listFlags(platform.data, options.workspaceId, {
    ...(options.status === 'all' ? {} : { status: options.status }),
    limit: Number.POSITIVE_INFINITY,
  });
  let count = 0;
  for (const flag of flags) {
    const example = feedbackExample(flag);
    if (example === null) continue;
    write(`${JSON.stringify(example)}\n`);
    count++;
  }
  return count;
}

/** The command around exportFlags: the configured store (Redis with REDIS_URL, else ./data). */
export async function runFlagsExport(
  config: Config,
  options: FlagsExportOptions,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): Promise<number> {
  const store = buildStore(config);
  await store.start();
  try {
    const count = await exportFlags(store, options, (line) => io.stdout.write(line));
    io.stderr.write(`steward: exported ${count} moderator decisions\n`);
    return 0;
  } finally {
    await store.stop();
  }
}
