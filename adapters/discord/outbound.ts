import { deliverOnce } from '../delivery.ts';
import { recordAlertPosted } from '../flag-log.ts';
import { createHash } from 'node:crypto';
import { type APIEmbed, escapeMarkdown, type REST, Routes } from 'discord.js';
import type {
  Action,
  AlertAction,
  AlertUpdateAction,
  HideAction,
  ReactAction,
  ReplyAction,
  TimeoutAction,
} from '../../src/domain/action.ts';
import { PlatformRejectedError } from '../../src/errors.ts';
import { inboundJobId } from '../../src/domain/message.ts';
import type { Logger } from '../../src/logger.ts';
import type { Store } from '../../src/store/types.ts';
import { alertAfterAction, alertButtons, alertEmbed } from './alert.ts';
import { type AppealDeps, noticeMember, performAppealDecision } from './appeal-interactions.ts';
import { isGone, logText, toStewardError } from './errors.ts';
import type { DiscordTuning } from './options.ts';
import { splitMessage } from './split.ts';
import type { TypingIndicators } from './typing.ts';

export interface OutboundDeps {
  rest: REST;
  store: Store;
  typing: TypingIndicators;
  token: string;
  log: Logger;
  tuning: Readonly<DiscordTuning>;
}

/** Delay before re-checking a delivery another consumer is still performing. */
const IN_PROGRESS_RETRY_MS = 5_000;

/**
 * Discord's message nonce (≤ 25 characters) derived from the idempotency key. With enforce_nonce Discord returns
 * the already-created message for a repeated nonce (for a few minutes), which covers the one gap the delivery
 * claim cannot: a POST that succeeded but whose answer was lost (timeout, 5xx after commit).
 */
export function nonceOf(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 25);
}

/** Performs outbound actions exactly once per idempotency key: claim → post → confirm (release on failure). */
export class OutboundPerformer {
  constructor(private readonly deps: OutboundDeps) {}

  async perform(action: Action): Promise<void> {
    switch (action.kind) {
      case 'reply':
        return this.reply(action);
      case 'react':
        return this.react(action);
      case 'alert':
        return this.alert(action);
      case 'hide':
        return this.hide(action);
      case 'timeout':
        return this.timeout(action);
      case 'warn':
        throw new PlatformRejectedError('warn is a Slack action; Discord members are timed out instead');
      case 'alert-update':
        return this.alertUpdate(action);
      case 'appeal-decision':
        return performAppealDecision(action, this.appealDeps);
    }
  }

  /** What the appeal code needs: REST, the store, and this performer's once-per-key delivery. */
  get appealDeps(): AppealDeps {
    return {
      rest: this.deps.rest,
      store: this.deps.store,
      log: this.deps.log,
      once: (key, what, post) => this.once(key, what, post),
    };
  }

  /** Runs `post` unless `key` was already delivered; a crash between post and confirm is covered by the nonce. */
  async once(key: string, what: string, post: () => Promise<string>): Promise<string> {
    const { store, tuning, log, token } = this.deps;
    const result = await deliverOnce(store, key, what, post, {
      leaseMs: tuning.deliveryLeaseMs,
      retainMs: tuning.deliveryRetainMs,
      inProgressRetryMs: IN_PROGRESS_RETRY_MS,
      toError: (error) => toStewardError(error, token, what),
      onReleaseError: (e) => log.warn({ err: logText(e, token), key }, 'could not release delivery claim'),
    });
    log.debug({ key, result }, `${what}: done`);
    return result;
  }

  private async reply(action: ReplyAction): Promise<void> {
    const { target } = action;
    const channelId = target.threadId ?? target.channelId;
    const parts = splitMessage(action.text);
    try {
      for (const [index, content] of parts.entries()) {
        // Each part has its own key, so a retry after a partial failure resumes instead of repeating.
        const key = index === 0 ? action.key : `${action.key}#${index + 1}`;
        await this.once(key, 'posting a reply', async () => {
          const body = {
            content,
            nonce: nonceOf(key),
            enforce_nonce: true,
            allowed_mentions: { parse: [], replied_user: true },
            ...(index === 0
              ? { message_reference: { message_id: target.messageId, channel_id: channelId } }
              : {}),
          };
          const posted = (await this.deps.rest.post(Routes.channelMessages(channelId), { body })) as {
            id: string;
          };
          return posted.id;
        });
      }
    } finally {
      this.deps.typing.stop(inboundJobId(target));
    }
  }

  private async react(action: ReactAction): Promise<void> {
    const { target } = action;
    const channelId = target.threadId ?? target.channelId;
    await this.once(action.key, 'adding a sentiment reaction', async () => {
      const route = Routes.channelMessageOwnReaction(
        channelId,
        target.messageId,
        encodeURIComponent(action.emoji),
      );
      await this.deps.rest.put(route);
      return action.emoji;
    });
  }

  private async alert(action: AlertAction): Promise<void> {
    const posted = await this.once(action.key, 'posting a moderator alert', async () => {
      const body = {
        embeds: [alertEmbed(action)],
        components: [alertButtons(action.flagId)],
        nonce: nonceOf(action.key),
        enforce_nonce: true,
        allowed_mentions: { parse: [] },
      };
      const route = Routes.channelMessages(action.moderationChannelId);
      const sent = (await this.deps.rest.post(route, { body })) as { id: string };
      return sent.id;
    });
    // Outside the once() above: a store hiccup here must not re-post the alert.
    await recordAlertPosted(this.deps.store, action.flagId, `${action.moderationChannelId}/${posted}`);
  }

  /** A moderator's timeout from the dashboard: the same member PATCH as the alert's Timeout button. */
  private async timeout(action: TimeoutAction): Promise<void> {
    const until = new Date(Date.now() + action.durationMs).toISOString();
    await this.once(action.key, 'timing a member out', async () => {
      await this.deps.rest.patch(Routes.guildMember(action.target.workspaceId, action.userId), {
        body: { communication_disabled_until: until },
        reason: `Steward: timed out by ${action.actorName} (${action.flagId})`,
      });
      return until;
    });
    await noticeMember(this.appealDeps, action.flagId, 'timeout');
  }

  /**
   * A moderator acted from the dashboard: the alert says so, as after a button press (its current embed and
   * buttons are read back, so lines from earlier actions stay).
   */
  private async alertUpdate(action: AlertUpdateAction): Promise<void> {
    const flag = await this.deps.store.getFlag(action.flagId);
    const alert = /^(\d+)\/(\d+)$/.exec(flag?.alertMessageId ?? '');
    if (!alert) {
      this.deps.log.debug({ flagId: action.flagId }, 'no alert posted for this flag; nothing to update');
      return;
    }
    const [, channel, message] = alert;
    await this.once(action.key, 'updating a moderator alert', async () => {
      const current = (await this.deps.rest.get(Routes.channelMessage(channel!, message!))) as {
        embeds?: APIEmbed[];
        components?: unknown[];
      };
      const who = `${escapeMarkdown(action.actorName)} (dashboard)`;
      const body = alertAfterAction(
        current.embeds?.[0] ?? {},
        current.components ?? [],
        action.flagId,
        action.done,
        action.settled,
        who,
      );
      await this.deps.rest.patch(Routes.channelMessage(channel!, message!), { body });
      return 'updated';
    });
  }

  /** Auto-hide: delete the flagged message. Already gone counts as done (a moderator may have been faster). */
  private async hide(action: HideAction): Promise<void> {
    const { target } = action;
    const outcome = await this.once(action.key, 'hiding a flagged message', async () => {
      try {
        await this.deps.rest.delete(
          Routes.channelMessage(target.threadId ?? target.channelId, target.messageId),
          {
            reason: `Steward auto-hide (${action.flagId})`,
          },
        );
        return 'deleted';
      } catch (error) {
        if (isGone(error)) return 'already gone';
        throw error;
      }
    });
    if (outcome !== 'deleted') return;
    // A moderator's delete from the dashboard, or Steward's auto-hide: the history says which.
    const flag = await this.deps.store.getFlag(action.flagId);
    await noticeMember(
      this.appealDeps,
      action.flagId,
      flag?.history.some((h) => h.action === 'delete') ? 'delete' : 'auto-hide',
    );
  }
}
