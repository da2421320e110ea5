import { deliverOnce } from '../delivery.ts';
import { recordAlertPosted, recordHideFailure } from '../flag-log.ts';
import type { webApi } from '@slack/bolt';
import type {
  Action,
  AlertAction,
  AlertUpdateAction,
  HideAction,
  ReactAction,
  ReplyAction,
  WarnAction,
} from '../../src/domain/action.ts';
import { PlatformRejectedError } from '../../src/errors.ts';
import type { Logger } from '../../src/logger.ts';
import type { FlagRecord, Store } from '../../src/store/types.ts';
import { type SlackAppeals, noticeBlocks } from './appeals.ts';
import { alertBlocks, alertFallback, type Block, resolvedBlocks } from './blocks.ts';
import { deleteRefusal, GONE, isTransient, slackErrorCode, toStewardError } from './errors.ts';
import type { SlackTuning } from './options.ts';
import { escapeMrkdwn, slackEmojiName, splitText } from './text.ts';

const REFUSED = 'refused: ';

/** The context line on an alert after a dashboard action. */
const ALERT_UPDATE_NOTE: Record<AlertUpdateAction['done'], string> = {
  dismiss: ':white_check_mark: Dismissed',
  delete: ':wastebasket: Message deleted',
  timeout: ':pause_button: Timed out',
  warn: ':speech_balloon: Author warned by DM',
};

/** The private warning to a member (Warn button or dashboard), with the Appeal button. */
export function warningMessage(flag: Pick<FlagRecord, 'id' | 'channelId' | 'excerpt'>) {
  return noticeBlocks(flag, 'warn');
}

/** Actor id of flag-log entries Steward writes itself (the worker uses the same). */

/** Metadata event type of Steward's own posts; its payload carries the delivery key. */
const MARKER_EVENT = 'steward_delivery';
const marker = (key: string) => ({ event_type: MARKER_EVENT, event_payload: { key } });

/** Slack message ids are only unique per channel, so an alert is recorded as `<channel>/<ts>`. */
export const alertId = (channel: string, ts: string): string => `${channel}/${ts}`;
export function parseAlertId(id: string | undefined): { channel: string; ts: string } | null {
  const match = id ? /^([^/]+)\/(\d+\.\d+)$/.exec(id) : null;
  return match ? { channel: match[1]!, ts: match[2]! } : null;
}

export interface OutboundDeps {
  /** Bot-token client: posts, reactions, alerts. */
  web: webApi.WebClient;
  /** Client used for deleting members' messages: the admin user token's when configured, else the bot's. */
  deleter: webApi.WebClient;
  haveUserToken: boolean;
  store: Store;
  tuning: Readonly<SlackTuning>;
  log: Logger;
  secrets: string[];
  /** Appeals: member notices after an action, and decisions taken on the dashboard. */
  appeals?: SlackAppeals;
}

/**
 * Performs outbound actions on Slack, each part at most once: a delivery key is claimed before posting and
 * confirmed (with the posted ts) after, and released when posting failed so the retried job can try again.
 */
export class SlackOutbound {
  constructor(private readonly deps: OutboundDeps) {}

  async perform(action: Action): Promise<void> {
    switch (action.kind) {
      case 'reply':
        return this.#reply(action);
      case 'react':
        return this.#react(action);
      case 'alert':
        return this.#alert(action);
      case 'hide':
        return this.#hide(action);
      case 'warn':
        return this.#warn(action);
      case 'timeout':
        throw new PlatformRejectedError('Slack has no timeout for members; warn them instead');
      case 'alert-update':
        return this.#alertUpdate(action);
      case 'appeal-decision':
        return this.deps.appeals?.perform(action);
    }
  }

  /**
   * A moderator acted from the dashboard: the alert says so, as after a button press. The alert's blocks are read
   * back (conversations.history at its ts), so earlier lines stay.
   */
  async #alertUpdate(action: AlertUpdateAction): Promise<void> {
    const flag = await this.deps.store.getFlag(action.flagId);
    const alert = parseAlertId(flag?.alertMessageId);
    if (!alert) return;
    await this.once(action.key, 'updating a moderator alert', async () => {
      const history = await this.deps.web.conversations.history({
        channel: alert.channel,
        latest: alert.ts,
        oldest: alert.ts,
        inclusive: true,
        limit: 1,
      });
      const blocks = (history.messages?.find((m) => m.ts === alert.ts)?.blocks ?? []) as Block[];
      const note = `${ALERT_UPDATE_NOTE[action.done]} by ${escapeMrkdwn(action.actorName)} (dashboard)`;
      await this.deps.web.chat.update({
        channel: alert.channel,
        ts: alert.ts,
        text: note,
        blocks: resolvedBlocks(blocks, note, action.settled) as never,
      });
      return 'updated';
    });
  }

  /** A moderator's warning from the dashboard: the same private message as the alert's Warn button, with Appeal. */
  async #warn(action: WarnAction): Promise<void> {
    const flag = await this.deps.store.getFlag(action.flagId);
    await this.once(action.key, 'warning a member', async () => {
      const posted = await this.deps.web.chat.postMessage({
        channel: action.userId,
        ...warningMessage(flag ?? { id: action.flagId, channelId: action.target.channelId, excerpt: '' }),
      } as never);
      return String(posted.ts ?? 'sent');
    });
  }

  /**
   * Runs `post` once per key across retries and processes; returns its result (or the earlier one). Given `find`,
   * a retry after an unconfirmed attempt first looks for what that attempt posted (Slack has no idempotency key of
   * its own: without this, a failed confirm meant a second visible post once the claim lapsed).
   */
  once(
    key: string,
    what: string,
    post: () => Promise<string>,
    find?: () => Promise<string | null>,
  ): Promise<string> {
    const { store, tuning, log, secrets } = this.deps;
    return deliverOnce(store, key, what, post, {
      ...(find ? { findEarlier: find } : {}),
      leaseMs: tuning.deliveryLeaseMs,
      retainMs: tuning.deliveryRetainMs,
      // Claimed by another consumer that has not finished: look again once its lease could have run out.
      inProgressRetryMs: tuning.deliveryLeaseMs,
      toError: (error) => toStewardError(error, what, secrets),
      onReleaseError: (e) => log.warn({ err: e }, 'releasing a delivery failed'),
    });
  }

  async #reply(action: ReplyAction): Promise<void> {
    const { channelId, threadId, messageId } = action.target;
    // In a channel the reply goes into the message's thread; a DM is a conversation, so only threads stay threads.
    const threadTs = threadId ?? (action.reason === 'direct' ? undefined : messageId);
    const parts = splitText(action.text, this.deps.tuning.replyChunkChars);
    for (const [i, part] of parts.entries()) {
      // Each part has its own key, so a retry after part 2 failed does not repeat part 1.
      const key = i === 0 ? action.key : `${action.key}#${i}`;
      await this.once(
        key,
        'posting a reply',
        async () => {
          const res = await this.deps.web.chat.postMessage({
            channel: channelId,
            text: escapeMrkdwn(part),
            ...(threadTs ? { thread_ts: threadTs } : {}),
            metadata: marker(key),
            unfurl_links: false,
            unfurl_media: false,
          });
          return res.ts ?? 'posted';
        },
        () => this.#findPosted(channelId, threadTs, key),
      );
    }
  }

  async #react(action: ReactAction): Promise<void> {
    const name = slackEmojiName(action.emoji, action.sentiment);
    await this.once(action.key, `adding the ${name} reaction`, async () => {
      try {
        await this.deps.web.reactions.add({
          channel: action.target.channelId,
          timestamp: action.target.messageId,
          name,
        });
        return name;
      } catch (error) {
        const code = slackErrorCode(error);
        // Already there (a retry after a lost response) or the message is gone: nothing left to do.
        if (code === 'already_reacted' || (code && GONE.has(code))) return `${name} (${code})`;
        throw error;
      }
    });
  }

  async #alert(action: AlertAction): Promise<void> {
    const { web, store } = this.deps;
    const channel = action.moderationChannelId;
    const posted = await this.once(
      action.key,
      'posting a moderator alert',
      async () => {
        const permalink = await this.#permalink(action.target.channelId, action.target.messageId);
        const res = await web.chat.postMessage({
          channel,
          text: alertFallback(action),
          blocks: alertBlocks(action, permalink) as never,
          metadata: marker(action.key),
          unfurl_links: false,
          unfurl_media: false,
        });
        return alertId(res.channel ?? channel, res.ts ?? '');
      },
      async () => {
        const ts = await this.#findPosted(channel, undefined, action.key);
        return ts ? alertId(channel, ts) : null;
      },
    );
    // Recorded outside the once() above: a store hiccup here must not re-post the alert.
    await recordAlertPosted(store, action.flagId, posted);
  }

  /**
   * The ts of the message an earlier attempt posted with this delivery key (its metadata marker), or null. Looks at
   * the thread, or the channel's newest messages: a retry follows its attempt within minutes.
   */
  async #findPosted(channel: string, threadTs: string | undefined, key: string): Promise<string | null> {
    const { web, tuning } = this.deps;
    let cursor: string | undefined;
    for (let page = 0; page < tuning.findPostedPages; page++) {
      const common = { channel, include_all_metadata: true, limit: 200, ...(cursor ? { cursor } : {}) };
      const res = threadTs
        ? await web.conversations.replies({ ...common, ts: threadTs })
        : await web.conversations.history(common);
      const hit = res.messages?.find(
        (m) =>
          m.metadata?.event_type === MARKER_EVENT &&
          (m.metadata.event_payload as Record<string, unknown> | undefined)?.key === key,
      );
      if (hit?.ts) {
        this.deps.log.info({ key, channel }, 'delivery found already posted; not posting again');
        return hit.ts;
      }
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!res.has_more || !cursor) break;
    }
    return null;
  }

  async #permalink(channel: string, ts: string): Promise<string | null> {
    try {
      return (await this.deps.web.chat.getPermalink({ channel, message_ts: ts })).permalink ?? null;
    } catch (error) {
      this.deps.log.debug({ err: (error as Error).message, channel, ts }, 'no permalink for the alert');
      return null;
    }
  }

  async #hide(action: HideAction): Promise<void> {
    const { deleter, haveUserToken } = this.deps;
    const outcome = await this.once(action.key, 'hiding a flagged message', async () => {
      try {
        await deleteMessage(deleter, action.target.channelId, action.target.messageId, haveUserToken);
        return 'deleted';
      } catch (error) {
        const code = slackErrorCode(error);
        if (code && GONE.has(code)) return 'gone';
        // A refusal is final: record it as the outcome, so a retried job notes it once instead of deleting again.
        if (code && !isTransient(code)) return `${REFUSED}${deleteRefusal(code, haveUserToken)}`;
        throw error;
      }
    });
    if (outcome === 'deleted') {
      const flag = await this.deps.store.getFlag(action.flagId);
      const did = flag?.history.some((h) => h.action === 'delete') ? 'delete' : 'auto-hide';
      await this.deps.appeals?.notice(action.flagId, did);
    }
    if (!outcome.startsWith(REFUSED)) return;
    const refusal = outcome.slice(REFUSED.length);
    await this.#noteHideFailure(action, refusal);
    throw new PlatformRejectedError(
      `auto-hide of ${action.target.channelId}/${action.target.messageId} failed: ${refusal}`,
    );
  }

  /** Tells moderators that auto-hide did not happen: in the alert's thread, or in the moderation channel. */
  async #noteHideFailure(action: HideAction, refusal: string): Promise<void> {
    const { store, web } = this.deps;
    const flag = await store.getFlag(action.flagId);
    const alert = parseAlertId(flag?.alertMessageId);
    const settings = await store.getSettings('slack', action.target.workspaceId);
    const channel = alert?.channel ?? settings.moderationChannelId;
    if (channel) {
      const key = `${action.key}:failure-note`;
      await this.once(
        key,
        'noting a failed auto-hide',
        async () => {
          const res = await web.chat.postMessage({
            channel,
            text: `:warning: Auto-hide failed for a message in <#${action.target.channelId}>: ${refusal}`,
            ...(alert ? { thread_ts: alert.ts } : {}),
            metadata: marker(key),
          });
          return res.ts ?? 'posted';
        },
        () => this.#findPosted(channel, alert?.ts, key),
      );
    }
    await recordHideFailure(store, action.flagId, refusal);
  }
}

/** chat.delete of a message; exported for the Delete button, which uses the same client choice. */
export async function deleteMessage(
  client: webApi.WebClient,
  channel: string,
  ts: string,
  userToken: boolean,
): Promise<void> {
  // With a user token, as_user deletes as the admin rather than as the app (required for others' messages).
  await client.chat.delete({ channel, ts, ...(userToken ? { as_user: true } : {}) });
}
