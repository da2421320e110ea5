import type { webApi } from '@slack/bolt';
import { executeCommand } from '../../src/commands/run.ts';
import type { CommandReply, MemberJobs, StatusInfo } from '../../src/commands/types.ts';
import type { Logger } from '../../src/logger.ts';
import { authoriseModAction, type ModCapability, statusAfter } from '../../src/domain/moderation-actions.ts';
import type { FlagRecord, FlagStatus, Store } from '../../src/store/types.ts';
import { type AlertButton, type Block, resolvedBlocks } from './blocks.ts';
import type { SlackDirectory } from './directory.ts';
import { deleteRefusal, GONE, isTransient, slackErrorCode } from './errors.ts';
import type { SlackAppeals } from './appeals.ts';
import { deleteMessage, warningMessage } from './outbound.ts';
import { escapeMrkdwn } from './text.ts';

export interface InteractionDeps {
  web: webApi.WebClient;
  deleter: webApi.WebClient;
  haveUserToken: boolean;
  store: Store;
  /** The queue, so forget-me reaches the finished jobs that hold a member's messages. */
  jobs: MemberJobs;
  directory: SlackDirectory;
  adminUsers: readonly string[];
  log: Logger;
  status?: (() => Promise<StatusInfo>) | undefined;
  /** Member notices with the Appeal button after a delete. */
  appeals?: SlackAppeals;
  labels?: readonly string[] | undefined;
}

/** A click on an alert button, as read from a block_actions payload. */
export interface ButtonClick {
  button: AlertButton;
  flagId: string;
  userId: string;
  teamId: string;
  /** Where the alert is: the buttons update it. */
  channelId: string;
  messageTs: string;
  blocks: Block[];
}

/** A `/steward …` invocation. */
export interface SlashCommand {
  text: string;
  userId: string;
  userName: string;
  teamId: string;
  channelId: string;
}

/** Buttons on alerts and the slash command: permission checks, flag log, and private answers. */
export class SlackInteractions {
  constructor(private readonly deps: InteractionDeps) {}

  /** Workspace admins and owners (users.info), or a configured allow-list. A failed lookup means no. */
  async isAdmin(userId: string): Promise<boolean> {
    if (this.deps.adminUsers.includes(userId)) return true;
    try {
      return (await this.deps.directory.user(userId))?.isAdmin ?? false;
    } catch (error) {
      this.deps.log.warn(
        { err: (error as Error).message, userId },
        'users.info failed; treating the user as no admin',
      );
      return false;
    }
  }

  /** Runs the command and answers privately through `respond` (the response_url). */
  async command(cmd: SlashCommand, respond: (text: string) => Promise<unknown>): Promise<CommandReply> {
    const isAdmin = await this.isAdmin(cmd.userId);
    const reply = await executeCommand(cmd.text, {
      platform: 'slack',
      workspaceId: cmd.teamId,
      actor: { id: cmd.userId, name: cmd.userName, isAdmin },
      store: this.deps.store,
      jobs: this.deps.jobs,
      ...(this.deps.status ? { status: this.deps.status } : {}),
      ...(this.deps.labels ? { labels: this.deps.labels } : {}),
    });
    await respond(renderReply(reply));
    return reply;
  }

  async click(click: ButtonClick): Promise<void> {
    const { store, log } = this.deps;
    // Slack has one level of "may moderate": workspace admins (or the configured list) hold every capability.
    const capabilities = new Set<ModCapability>(
      (await this.isAdmin(click.userId)) ? ['manage_messages', 'moderate_members'] : [],
    );
    const flag = await store.getFlag(click.flagId);
    const verdict = authoriseModAction(flag, click.button, {
      platform: 'slack',
      workspaceId: click.teamId,
      capabilities,
    });
    if (!verdict.ok || !flag) {
      log.warn(
        { flagId: click.flagId, button: click.button, refusal: verdict.ok ? null : verdict.refusal },
        'moderator action refused',
      );
      return this.#whisper(
        click,
        !verdict.ok && verdict.refusal === 'not_permitted'
          ? 'Only workspace admins (or the users in SLACK_ADMIN_USERS) can act on alerts.'
          : 'This alert’s flag is not in this workspace’s flag log; nothing was changed.',
      );
    }
    const actorName = await this.deps.directory.nameOf(click.userId);
    const who = `<@${click.userId}>`;
    const at = `<!date^${Math.floor(Date.now() / 1000)}^{date_short_pretty} {time}|${new Date().toISOString()}>`;
    const record = (status: FlagStatus, action: string, note?: string) =>
      store.updateFlag(flag.id, {
        status,
        actorId: click.userId,
        actorName,
        action,
        ...(note ? { note } : {}),
      });
    log.info({ flagId: flag.id, button: click.button, userId: click.userId }, 'moderator action');
    switch (click.button) {
      case 'dismiss':
        await record(statusAfter('dismiss'), 'dismiss');
        return this.#updateAlert(click, `:white_check_mark: Dismissed by ${who} · ${at}`, true);
      case 'delete':
        return this.#delete(click, flag, record, `${who} · ${at}`);
      case 'warn':
        await this.deps.web.chat.postMessage({ channel: flag.authorId, ...warningMessage(flag) } as never);
        await record(statusAfter('warn'), 'warn', 'warned by DM (Slack has no timeout for members)');
        return this.#updateAlert(click, `:speech_balloon: ${who} warned the author by DM · ${at}`, false);
    }
  }

  async #delete(
    click: ButtonClick,
    flag: FlagRecord,
    record: (status: FlagStatus, action: string, note?: string) => Promise<unknown>,
    byAt: string,
  ): Promise<void> {
    try {
      await deleteMessage(this.deps.deleter, flag.channelId, flag.messageId, this.deps.haveUserToken);
    } catch (error) {
      const code = slackErrorCode(error);
      if (code && GONE.has(code)) {
        await record('actioned', 'delete', 'the message was already gone');
        return this.#updateAlert(click, `:wastebasket: Already deleted (confirmed by ${byAt})`, true);
      }
      if (!code || isTransient(code)) throw error;
      const refusal = deleteRefusal(code, this.deps.haveUserToken);
      await record('open', 'delete-failed', refusal);
      await this.#updateAlert(click, `:warning: Delete failed (${byAt}): ${refusal}`, false);
      return this.#whisper(click, `Could not delete the message. ${refusal}`);
    }
    await record(statusAfter('delete'), 'delete');
    await this.deps.appeals
      ?.notice(flag.id, 'delete')
      .catch((error) =>
        this.deps.log.warn({ flagId: flag.id, err: (error as Error).message }, 'could not tell the member'),
      );
    return this.#updateAlert(click, `:wastebasket: Message deleted by ${byAt}`, true);
  }

  async #updateAlert(click: ButtonClick, note: string, settled: boolean): Promise<void> {
    await this.deps.web.chat.update({
      channel: click.channelId,
      ts: click.messageTs,
      text: note,
      blocks: resolvedBlocks(click.blocks, note, settled) as never,
    });
  }

  /** A private answer to the clicking moderator (chat.postEphemeral in the alert's channel). */
  async #whisper(click: ButtonClick, text: string): Promise<void> {
    await this.deps.web.chat.postEphemeral({ channel: click.channelId, user: click.userId, text });
  }
}

/**
 * A command reply as Slack mrkdwn: the title in bold, then the text (fields are already in it). Replies quote
 * members' words (flag excerpts, author names, topics, echoed arguments), so everything is escaped; only plain
 * channel references (`<#C…>`, as showTarget writes them) are let through again: they link a channel of the
 * workspace and ping nobody. A label form (`<#C…|text>`) or anything else stays literal.
 */
export function renderReply(reply: CommandReply): string {
  const raw = reply.title ? `*${reply.title}*\n${reply.text}` : reply.text;
  const text = escapeMrkdwn(raw).replace(/&lt;#([CG][A-Z0-9]{1,30})&gt;/g, '<#$1>');
  if (text.length <= 3_900) return text;
  // Never cut an escape (&lt;) in half.
  const cut = text.slice(0, 3_899).replace(/&[a-z]{0,3}$/, '');
  return `${cut}…`;
}
