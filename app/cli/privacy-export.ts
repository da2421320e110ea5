import { buildStore } from '../app.ts';
import type { Config } from '../../src/config.ts';
import { type Platform, PlatformSchema } from '../../src/domain/message.ts';
import { ConfigError } from '../../src/errors.ts';
import { memberView } from '../../src/store/members.ts';
import type { Store } from '../../src/store/types.ts';

export interface PrivacyExportOptions {
  platform: string;
  workspaceId: string;
  userId: string;
}

/**
 * Everything Steward keeps about one member of one workspace, for an admin answering a data request: the
 * interest profile (with the recommendations kept in it), whether they opted out, and the flag-log entries they
 * wrote or acted on, with anyone else in them left out (memberView). Message texts are not stored anywhere else
 * (the queue's finished jobs hold them for 10 minutes).
 */
export async function memberData(store: Store, platform: Platform, workspaceId: string, userId: string) {
  const profile = await store.getProfile(platform, workspaceId, userId);
  const flags = (await store.listFlags(platform, workspaceId, { limit: Number.MAX_SAFE_INTEGER })).flatMap(
    (f) => memberView(f, userId) ?? [],
  );
  return {
    user: userId,
    platform,
    workspace: workspaceId,
    exportedAt: new Date().toISOString(),
    optedOut: await store.isOptedOut(platform, workspaceId, userId),
    profile: profile && {
      updatedAt: new Date(profile.updatedAt).toISOString(),
      messages: profile.messages,
      reactions: profile.reactions ?? 0,
      terms: profile.terms,
      vector: profile.vector,
      recommendations: profile.recommendations?.items ?? [],
    },
    flags,
  };
}

/** `steward privacy export --user U`: one JSON document on stdout. */
export async function runPrivacyExport(
  config: Config,
  options: PrivacyExportOptions,
  io: { stdout: NodeJS.WritableStream },
): Promise<number> {
  const platform = PlatformSchema.safeParse(options.platform);
  if (!platform.success) {
    throw new ConfigError(
      `--platform must be one of ${PlatformSchema.options.join(', ')} (got "${options.platform}")`,
    );
  }
  const store = buildStore(config);
  await store.start();
  try {
    const data = await memberData(store, platform.data, options.workspaceId, options.userId);
    io.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return 0;
  } finally {
    await store.stop();
  }
}
