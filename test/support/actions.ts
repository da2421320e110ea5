import type { AlertAction } from '../../src/domain/action.ts';

/** A moderator alert for renderer tests (local, Discord, Slack): a flagged insult, unless overridden. */
export function alertAction(overrides: Partial<AlertAction> = {}): AlertAction {
  return {
    kind: 'alert',
    key: 'k',
    target: { platform: 'local', workspaceId: 'local', channelId: 'general', messageId: 'm1' },
    flagId: 'f1',
    moderationChannelId: 'moderators',
    author: { id: 'you', name: 'you' },
    excerpt: 'you are an idiot',
    scores: { insult: 0.93, threat: 0.02 },
    flagged: ['insult'],
    reasons: { insult: ['idiot', 'you'] },
    autoHidden: false,
    ...overrides,
  };
}
