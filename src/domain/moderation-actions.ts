import type { Platform } from './message.ts';

/**
 * Moderator actions on a flag and the status each one leaves it in. The chat buttons and the dashboard share
 * these rules; the renovation moves the buttons' copies here too.
 */
export const MODERATION_ACTIONS = ['dismiss', 'delete', 'timeout', 'warn'] as const;
export type ModerationAction = (typeof MODERATION_ACTIONS)[number];

export const STATUS_AFTER: Record<ModerationAction, 'dismissed' | 'actioned'> = {
  dismiss: 'dismissed',
  delete: 'actioned',
  timeout: 'actioned',
  warn: 'actioned',
};

/** Discord can time members out; Slack cannot, so its moderators warn privately instead. */
export function actionsOn(platform: Platform): readonly ModerationAction[] {
  if (platform === 'discord') return ['dismiss', 'delete', 'timeout'];
  if (platform === 'slack') return ['dismiss', 'delete', 'warn'];
  return ['dismiss', 'delete'];
}

/** How long a timeout from an alert or the dashboard lasts. */
export const TIMEOUT_MS = 10 * 60_000;

export function isModerationAction(value: unknown): value is ModerationAction {
  return typeof value === 'string' && (MODERATION_ACTIONS as readonly string[]).includes(value);
}

/** A flag may be acted on only from the workspace (and platform) it was raised in. */
export function flagBelongsTo(
  flag: { platform: Platform; workspaceId: string },
  where: { platform: Platform; workspaceId: string },
): boolean {
  return flag.platform === where.platform && flag.workspaceId === where.workspaceId;
}
