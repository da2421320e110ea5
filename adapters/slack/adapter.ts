import type { AddressInfo } from 'node:net';
import { App, webApi } from '@slack/bolt';
import type { Consumer } from '../../queue/types.ts';
import type { Action } from '../../src/domain/action.ts';
import { ConfigError, LifecycleError } from '../../src/errors.ts';
import type { Logger } from '../../src/logger.ts';
import type { ChatAdapter } from '../types.ts';
import { boltLogger } from './bolt-logger.ts';
import { type BotIdentity, SlackDirectory } from './directory.ts';
import { slackErrorCode, toStewardError } from './errors.ts';
import { SlackInteractions } from './interactions.ts';
import { registerListeners } from './listeners.ts';
import { guardedReceiver, RequestGate, socketModeReceiver } from './receiver.ts';
import { localRateLimiter } from '../rate-limit.ts';
import { resolveTuning, type SlackAdapterOptions, type SlackTuning } from './options.ts';
import { SlackAppeals } from './appeals.ts';
import { SlackOutbound } from './outbound.ts';

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
  readonly #inflight = new Set<Promise<void>>();

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
    // The appeals use the outbound performer's delivery claims and the interactions' admin check (built below).
    const appeals: SlackAppeals = new SlackAppeals({
      web,
      store: o.store,
      log: this.#log,
      once: (key, what, post) => outbound.once(key, what, post),
      isAdmin: (userId) => interactions.isAdmin(userId),
    });
    const outbound = new SlackOutbound({
      web,
      deleter,
      haveUserToken: Boolean(o.userToken),
      store: o.store,
      tuning: this.#tuning,
      log: this.#log,
      secrets: this.#secrets,
      appeals,
    });
    const interactions: SlackInteractions = new SlackInteractions({
      appeals,
      web,
      deleter,
      haveUserToken: Boolean(o.userToken),
      store: o.store,
      jobs: o.queue,
      directory,
      adminUsers: o.adminUsers,
      log: this.#log,
      status: o.status,
      labels: o.labels,
    });
    const app = new App({
      token: o.botToken,
      // Known from auth.test above, so Bolt does not call it again.
      botId: bot.botId,
      botUserId: bot.userId,
      ...(o.socketMode
        ? {
            receiver: socketModeReceiver({
              appToken: o.appToken!,
              logger,
              clientOptions: { ...clientOptions },
            }),
          }
        : {
            // Every request is screened (signature, timestamp both ways, replays, body shape) before Bolt reads it.
            receiver: guardedReceiver(
              {
                signingSecret: o.signingSecret!,
                endpoints: this.#tuning.endpoint,
                logger,
                // An event is answered once it is queued, so a failed enqueue becomes a 500 and Slack re-sends it
                // (the job id dedupes the re-send). Commands and clicks ack at once and work after the response.
                processBeforeResponse: true,
              },
              new RequestGate({ signingSecret: o.signingSecret! }),
              this.#log,
            ),
          }),
      logger,
      clientOptions: { ...clientOptions },
      convoStore: false,
    });
    this.#running = { app, web, bot, outbound, consumer: null };
    registerListeners({
      app,
      bot,
      directory,
      interactions,
      appeals,
      web,
      queue: o.queue,
      limiter: o.rateLimiter ?? localRateLimiter(this.#tuning.rateLimit),
      tuning: this.#tuning,
      log: this.#log,
      secrets: this.#secrets,
      background: (task) => this.#background(task),
    });
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

  /** Work that continues after Slack got its ack; stop() waits for it. */
  #background(task: () => Promise<void>): void {
    const running = task().catch((error) => {
      this.#log.error({ err: this.#describe(error, 'finishing a Slack interaction') }, 'interaction failed');
    });
    this.#inflight.add(running);
    void running.finally(() => this.#inflight.delete(running));
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
      await Promise.allSettled([...this.#inflight]);
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
