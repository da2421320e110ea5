import type { App, webApi } from '@slack/bolt';
import type { QueueDriver } from '../../queue/types.ts';
import type { Logger } from '../../src/logger.ts';
import { APPEAL_IDS, noteOf, type SlackAppeals } from './appeals.ts';
import { type Block, buttonOf } from './blocks.ts';
import type { BotIdentity, SlackDirectory } from './directory.ts';
import { toStewardError } from './errors.ts';
import { inboundChain, type SlackMessageEvent } from './inbound.ts';
import type { SlackInteractions } from './interactions.ts';
import { onReactionAdded, type SlackReactionEvent } from './reactions.ts';
import type { SlackTuning } from './options.ts';
import type { InboundRateLimiter } from '../rate-limit.ts';

export interface ListenerDeps {
  app: App;
  bot: BotIdentity;
  directory: SlackDirectory;
  interactions: SlackInteractions;
  appeals: SlackAppeals;
  web: webApi.WebClient;
  queue: QueueDriver;
  limiter: InboundRateLimiter;
  tuning: Readonly<SlackTuning>;
  log: Logger;
  secrets: string[];
  /** Runs work after Slack got its ack (the adapter waits for it on stop). */
  background: (task: () => Promise<void>) => void;
}

/** The parts of a block_actions payload the buttons read. */
interface BlockActionBody {
  user: { id: string };
  team?: { id: string } | null;
  channel?: { id: string };
  container?: { channel_id?: string; message_ts?: string };
  message?: { ts: string; blocks?: Block[] };
}

/** Wires Bolt's listeners: messages and mentions into the inbound chain, `/steward`, and the alert buttons. */
export function registerListeners(deps: ListenerDeps): void {
  const { app, bot, directory, interactions, web } = deps;
  const describe = (error: unknown, what: string) => toStewardError(error, what, deps.secrets).message;
  const chain = inboundChain({
    queue: deps.queue,
    bot,
    directory,
    limiter: deps.limiter,
    contextTurns: deps.tuning.contextTurns,
    log: deps.log,
  });
  const onMessage = async (event: unknown, body: { team_id?: string }, retryNum: number | undefined) => {
    const e = event as SlackMessageEvent;
    try {
      await chain({ event: e, teamId: body.team_id ?? e.team ?? bot.teamId, retryNum });
    } catch (error) {
      // Rethrown through app.error: over HTTP Slack then gets a 500 and re-sends the event.
      throw toStewardError(error, `queueing message ${e.channel}/${e.ts}`, deps.secrets);
    }
  };
  app.event('app_mention', async ({ event, body, context }) => onMessage(event, body, context.retryNum));
  app.message(async ({ message, body, context }) => onMessage(message, body, context.retryNum));
  // Reactions feed the reactor's interest profile (issue 11).
  app.event('reaction_added', async ({ event, body }) => {
    const e = event as unknown as SlackReactionEvent;
    try {
      await onReactionAdded(e, body.team_id ?? bot.teamId, {
        queue: deps.queue,
        bot,
        directory,
        limiter: deps.limiter,
        log: deps.log,
      });
    } catch (error) {
      throw toStewardError(error, `queueing reaction ${e.item.channel}/${e.item.ts}`, deps.secrets);
    }
  });

  app.command('/steward', async ({ command, ack, respond }) => {
    await ack();
    deps.background(async () => {
      const answer = async (text: string) => {
        try {
          await respond({ response_type: 'ephemeral', text });
        } catch {
          await web.chat.postEphemeral({ channel: command.channel_id, user: command.user_id, text });
        }
      };
      try {
        await interactions.command(
          {
            text: command.text,
            userId: command.user_id,
            userName: command.user_name,
            teamId: command.team_id,
            channelId: command.channel_id,
          },
          answer,
        );
      } catch (error) {
        const reason = describe(error, 'running /steward');
        deps.log.error({ err: reason }, 'slash command failed');
        await answer(`Steward could not run that command (${reason}). Try again in a moment.`).catch(
          () => {},
        );
      }
    });
  });

  app.action(/^steward_(dismiss|delete|warn)$/, async ({ ack, body, action }) => {
    await ack();
    deps.background(async () => {
      const b = body as unknown as BlockActionBody;
      const a = action as { action_id: string; value?: string };
      const button = buttonOf(a.action_id);
      const channelId = b.channel?.id ?? b.container?.channel_id;
      const messageTs = b.message?.ts ?? b.container?.message_ts;
      if (!button || !a.value || !channelId || !messageTs) return;
      const click = {
        button,
        flagId: a.value,
        userId: b.user.id,
        teamId: b.team?.id ?? bot.teamId,
        channelId,
        messageTs,
        blocks: b.message?.blocks ?? [],
      };
      try {
        await interactions.click(click);
      } catch (error) {
        const reason = describe(error, `the ${button} button`);
        deps.log.error({ err: reason, flagId: click.flagId }, 'alert button failed');
        await web.chat
          .postEphemeral({ channel: channelId, user: click.userId, text: `That did not work: ${reason}` })
          .catch(() => {});
      }
    });
  });

  registerAppealListeners(deps);

  app.error(async (error) => {
    deps.log.error({ err: describe(error, 'handling a Slack request') }, 'Slack request failed');
    throw error;
  });
}

/** The parts of a view_submission payload the appeal modal reads. */
interface ViewSubmissionBody {
  user: { id: string; name?: string; username?: string; team_id?: string };
  team?: { id: string } | null;
  view: {
    private_metadata?: string;
    state?: { values?: Record<string, Record<string, { value?: string | null }>> };
  };
}

/** The member's Appeal button and modal, and the moderators' Uphold / Reverse. */
function registerAppealListeners(deps: ListenerDeps): void {
  const { app, appeals, bot, web } = deps;
  const describe = (error: unknown, what: string) => toStewardError(error, what, deps.secrets).message;
  // views.open needs the click's trigger_id within 3 seconds: opened before the ack's response, not in background.
  app.action(APPEAL_IDS.appeal, async ({ ack, body, action }) => {
    await ack();
    const b = body as unknown as BlockActionBody & { trigger_id: string };
    const flagId = (action as { value?: string }).value;
    const channelId = b.channel?.id ?? b.container?.channel_id;
    if (!flagId || !channelId) return;
    try {
      await appeals.open({
        flagId,
        userId: b.user.id,
        teamId: b.team?.id ?? bot.teamId,
        triggerId: b.trigger_id,
        channelId,
      });
    } catch (error) {
      deps.log.error({ err: describe(error, 'opening the appeal form'), flagId }, 'appeal button failed');
    }
  });

  app.view(APPEAL_IDS.note, async ({ ack, body }) => {
    const b = body as unknown as ViewSubmissionBody;
    const result = await appeals.submit({
      flagId: b.view.private_metadata ?? '',
      userId: b.user.id,
      userName: b.user.username ?? b.user.name ?? b.user.id,
      teamId: b.team?.id ?? b.user.team_id ?? bot.teamId,
      note: noteOf(b.view.state?.values),
    });
    if ('refusal' in result) {
      await ack({ response_action: 'errors', errors: { appeal_note: result.refusal } });
      return;
    }
    await ack();
    deps.background(async () => {
      await web.chat
        .postMessage({
          channel: b.user.id,
          text: 'Thanks: your appeal is with the moderators. You will hear back here.',
        })
        .catch(() => {});
      await appeals
        .post(result.filed)
        .catch((error) =>
          deps.log.error(
            { err: describe(error, 'posting an appeal'), flagId: result.filed.id },
            'appeal not posted',
          ),
        );
    });
  });

  app.action(new RegExp(`^(${APPEAL_IDS.uphold}|${APPEAL_IDS.reverse})$`), async ({ ack, body, action }) => {
    await ack();
    deps.background(async () => {
      const b = body as unknown as BlockActionBody & { user: { username?: string; name?: string } };
      const a = action as { action_id: string; value?: string };
      const channelId = b.channel?.id ?? b.container?.channel_id;
      if (!a.value || !channelId) return;
      try {
        const refusal = await appeals.decide({
          flagId: a.value,
          userId: b.user.id,
          userName: b.user.username ?? b.user.name ?? b.user.id,
          teamId: b.team?.id ?? bot.teamId,
          decision: a.action_id === APPEAL_IDS.reverse ? 'reverse' : 'uphold',
        });
        if (refusal) await web.chat.postEphemeral({ channel: channelId, user: b.user.id, text: refusal });
      } catch (error) {
        deps.log.error(
          { err: describe(error, 'deciding an appeal'), flagId: a.value },
          'appeal decision failed',
        );
      }
    });
  });
}
