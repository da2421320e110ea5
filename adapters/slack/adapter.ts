import type { AddressInfo } from 'node:net';
import { App, webApi } from '@slack/bolt';
import type { Consumer } from '../../queue/types.ts';
import type { Action } from '../../src/domain/action.ts';
import { ConfigError, LifecycleError } from '../../src/errors.ts';
import type { Logger } from '../../src/logger.ts';
import type { ChatAdapter } from '../types.ts';
import { type Block, buttonOf } from './blocks.ts';
import { boltLogger } from './bolt-logger.ts';
import { type BotIdentity, SlackDirectory } from './directory.ts';
import { slackErrorCode, toStewardError } from './errors.ts';
import { inboundChain, type SlackMessageEvent } from './inbound.ts';
import { SlackInteractions } from './interactions.ts';
import { resolveTuning, type SlackAdapterOptions, type SlackTuning } from './options.ts';
import { SlackOutbound } from './outbound.ts';
import { MessageRateLimiter } from './rate-limit.ts';

interface Running {
  app: App;
  web: webApi.WebClient;
  bot: BotIdentity;
  outbound: SlackOutbound;
  consumer: Consumer | null;
}

/**
 * Steward on Slack: a Bolt app (HTTP receiver with signature verification, or Socket Mode) turns message and
 * app_mention events into inbound jobs, answers `/steward` and alert buttons, and performs the outbound actions
 * of the `outbound-slack` queue through the Web API.
 */
export class SlackAdapter implements ChatAdapter {
  readonly platform = 'slack' as const;
  readonly #o: SlackAdapterOptions;
  readonly #tuning: Readonly<SlackTuning>;
  readonly #log: Logger;
  readonly #secrets: string[];
  #state: 'new' | 'starting' | 'started' | 'stopped' = 'new';
  #running: Running | null = null;
  #port: number | null = null;
  #stopping: Promise<void> | null = null;

  constructor(options: SlackAdapterOptions) {
    this.#o = options;
    this.#tuning = resolveTuning(options.tuning);
    this.#log = options.logger.child({ component: 'slack' });
    this.#secrets = [options.botToken, options.signingSecret, options.appToken, options.userToken].filter(
      (s): s is string => typeof s === 'string' && s !== '',
    );
  }

  /** Port the HTTP receiver listens on (null in Socket Mode or before start). */
  get port(): number | null {
    return this.#port;
  }

  /** The bot's team, user and bot ids (from auth.test), once started. */
  get bot(): BotIdentity | null {
    return this.#running?.bot ?? null;
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new LifecycleError(`Slack adapter cannot start: it is ${this.#state}`);
    this.#state = 'starting';
    const o = this.#o;
    const logger = boltLogger(this.#log, this.#secrets);
    const clientOptions: webApi.WebClientOptions = {
      logger,
      // Our queue owns retries: the client must neither wait out 429s nor re-send (which could post twice).
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: this.#tuning.requestTimeoutMs,
      ...(o.apiUrl ? { slackApiUrl: o.apiUrl.endsWith('/') ? o.apiUrl : `${o.apiUrl}/` } : {}),
    };
    const web = new webApi.WebClient(o.botToken, { ...clientOptions });
    web.on(webApi.WebClientEvent.RATE_LIMITED, (retryAfterSec: number, { url }: { url: string }) =>
      this.#log.warn({ retryAfterSec, method: url.split('/').at(-1) }, 'Slack rate limit'),
    );
    const bot = await this.#whoAmI(web);
    const deleter = o.userToken ? new webApi.WebClient(o.userToken, { ...clientOptions }) : web;
    const directory = new SlackDirectory(web, bot, this.#tuning.userCacheMs, this.#log);
    const outbound = new SlackOutbound({
      web,
      deleter,
      haveUserToken: Boolean(o.userToken),
      store: o.store,
      tuning: this.#tuning,
      log: this.#log,
      secrets: this.#secrets,
    });
    const interactions = new SlackInteractions({
      web,
      deleter,
      haveUserToken: Boolean(o.userToken),
      store: o.store,
      directory,
      adminUsers: o.adminUsers,
      log: this.#log,
      secrets: this.#secrets,
      status: o.status,
      labels: o.labels,
    });
    const app = new App({
      token: o.botToken,
      // Known from auth.test above, so Bolt does not call it again.
      botId: bot.botId,
      botUserId: bot.userId,
      ...(o.socketMode ? { socketMode: true, appToken: o.appToken } : { signingSecret: o.signingSecret }),
      endpoints: this.#tuning.endpoint,
      logger,
      clientOptions: { ...clientOptions },
      // Events, commands and clicks are acknowledged at once; the work continues after the response.
      processBeforeResponse: false,
      convoStore: false,
    });
    this.#running = { app, web, bot, outbound, consumer: null };
    this.#listen(app, bot, directory, interactions, web);
    this.#running.consumer = await o.queue.consumeOutbound('slack', (action) => this.perform(action), {
      concurrency: this.#tuning.outboundConcurrency,
    });
    const started: unknown = o.socketMode
      ? await app.start()
      : await app.start({ port: o.port, ...(this.#tuning.host ? { host: this.#tuning.host } : {}) });
    const address = (started as { address?: () => AddressInfo | string | null }).address?.();
    this.#port = typeof address === 'object' && address !== null ? address.port : null;
    this.#state = 'started';
    this.#log.info(
      { team: bot.teamId, botUserId: bot.userId, socketMode: o.socketMode, port: this.#port },
      'Slack connected',
    );
  }

  /** Learns the bot's ids, and turns a refused token into a message naming the variable. */
  async #whoAmI(web: webApi.WebClient): Promise<BotIdentity> {
    try {
      const auth = await web.auth.test();
      if (!auth.team_id || !auth.user_id || !auth.bot_id) {
        throw new ConfigError(
          'SLACK_BOT_TOKEN is not a bot token: auth.test returned no bot id (use the xoxb- token)',
        );
      }
      return { teamId: auth.team_id, userId: auth.user_id, botId: auth.bot_id };
    } catch (error) {
      this.#state = 'stopped';
      const code = slackErrorCode(error);
      if (
        code === 'invalid_auth' ||
        code === 'not_authed' ||
        code === 'account_inactive' ||
        code === 'token_revoked'
      ) {
        throw new ConfigError(
          `SLACK_BOT_TOKEN was refused by Slack (${code}); copy the bot token again from your app`,
        );
      }
      throw toStewardError(error, 'checking SLACK_BOT_TOKEN with auth.test', this.#secrets);
    }
  }

  #listen(
    app: App,
    bot: BotIdentity,
    directory: SlackDirectory,
    interactions: SlackInteractions,
    web: webApi.WebClient,
  ): void {
    const chain = inboundChain({
      queue: this.#o.queue,
      bot,
      directory,
      limiter: new MessageRateLimiter(this.#tuning.rateLimit.burst, this.#tuning.rateLimit.windowMs),
      contextTurns: this.#tuning.contextTurns,
      log: this.#log,
    });
    const onMessage = async (event: unknown, body: { team_id?: string }, retryNum: number | undefined) => {
      const e = event as SlackMessageEvent;
      try {
        await chain({ event: e, teamId: body.team_id ?? e.team ?? bot.teamId, retryNum });
      } catch (error) {
        // The event was already acknowledged; a failed enqueue is logged loudly with what would replay it.
        this.#log.error(
          { err: this.#describe(error, 'queueing a message'), channel: e.channel, ts: e.ts },
          'message not queued',
        );
      }
    };
    app.event('app_mention', async ({ event, body, context }) => onMessage(event, body, context.retryNum));
    app.message(async ({ message, body, context }) => onMessage(message, body, context.retryNum));

    app.command('/steward', async ({ command, ack, respond }) => {
      await ack();
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
        const reason = this.#describe(error, 'running /steward');
        this.#log.error({ err: reason }, 'slash command failed');
        await answer(`Steward could not run that command (${reason}). Try again in a moment.`).catch(
          () => {},
        );
      }
    });

    app.action(/^steward_(dismiss|delete|warn)$/, async ({ ack, body, action }) => {
      await ack();
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
        const reason = this.#describe(error, `the ${button} button`);
        this.#log.error({ err: reason, flagId: click.flagId }, 'alert button failed');
        await web.chat
          .postEphemeral({ channel: channelId, user: click.userId, text: `That did not work: ${reason}` })
          .catch(() => {});
      }
    });

    app.error(async (error) => {
      this.#log.error({ err: this.#describe(error, 'handling a Slack request') }, 'Bolt error');
    });
  }

  #describe(error: unknown, what: string): string {
    return toStewardError(error, what, this.#secrets).message;
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const running = this.#running;
      this.#state = 'stopped';
      if (!running) return;
      // Intake first, then the outbound consumer (which finishes the actions in flight).
      try {
        await running.app.stop();
      } catch (error) {
        this.#log.error({ err: this.#describe(error, 'stopping the Slack receiver') }, 'stop failed');
      }
      await running.consumer?.close();
      this.#log.info('Slack adapter stopped');
    })();
    return this.#stopping;
  }

  async perform(action: Action): Promise<void> {
    if (!this.#running) throw new LifecycleError(`Slack adapter is ${this.#state}, not started`);
    await this.#running.outbound.perform(action);
  }
}

/** The parts of a block_actions payload the buttons read. */
interface BlockActionBody {
  user: { id: string };
  team?: { id: string } | null;
  channel?: { id: string };
  container?: { channel_id?: string; message_ts?: string };
  message?: { ts: string; blocks?: Block[] };
}
