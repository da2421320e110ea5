import type { Platform } from '../domain/message.ts';
import type { WorkspaceSettings } from '../domain/settings.ts';

/** Settings a workspace starts with before any admin command. */
export type SettingsDefaults = (platform: Platform, workspaceId: string) => Partial<WorkspaceSettings>;

/**
 * Local mode shows everything Steward does, so its workspace starts with tags on every message, replies on
 * topics, and alerts to a "moderators" channel; platform workspaces keep the quiet schema defaults.
 */
export const localSettingsDefaults: SettingsDefaults = (platform) =>
  platform === 'local'
    ? { sentimentTags: 'all', replyMode: 'topics', moderationChannelId: 'moderators' }
    : {};
