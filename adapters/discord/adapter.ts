import { once } from 'node:events';
import { type Client, Events, type Interaction, type Message } from 'discord.js';
import type { Consumer } from '../../queue/types.ts';
import { collectStatus } from '../../queue/status.ts';
import type { Action } from '../../src/domain/action.ts';
import { ErrorCode, LifecycleError, StewardError } from '../../src/errors.ts';
import type { Logger } from '../../src/logger.ts';
import { localRateLimiter } from '../rate-limit.ts';
import type { ChatAdapter } from '../types.ts';
import { handleAppealButton, handleAppealSubmit, noticeMember } from './appeal-interactions.ts';
import { parseAppealId } from './appeals.ts';
import { handleButton } from './buttons.ts';
import { buildClient } from './client.ts';
import { registerCommands } from './commands.ts';
import { logText, scrub } from './errors.ts';
import { type InboundContext, inboundChain } from './inbound.ts';
import { type DiscordAdapterOptions, type DiscordTuning, resolveTuning } from './options.ts';
import { OutboundPerformer } from './outbound.ts';
import { onReactionAdd } from './reactions.ts';
import { handleSlash } from './slash.ts';
import { TypingIndicators } from './typing.ts';

/** How long start() waits for the gateway to say READY. */
const READY_TIMEOUT_MS = 60_000;

/** The Discord side of Steward: gateway events in, queued actions out, buttons and slash commands handled here. */
export class DiscordAdapter implements ChatAdapter {
  readonly platform = 'discord' as const;
  readonly tuning: Readonly<DiscordTuning>;
  private readonly log: Logger;
  private state: 'new' | 'starting' | 'started' | 'stopped' = 'new';
  private stopping: Promise<void> | null = null;
  private client: Client | null = null;
  private consumer: Consumer | null = null;
  private performer: OutboundPerformer | null = null;
  private typing: TypingIndicators | null = null;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: DiscordAdapterOptions) {
    this.tuning = resolveTuning(options.tuning);
    this.log = options.logger.child({ component: 'discord' });
  }

  /** The connected client (after start), e.g. for the application id. */
  get discord(): Client {
    if (!this.client) throw new LifecycleError('the Discord adapter is not started');
    return this.client;
  }

  async start(): Promise<void> {
    if (this.state !== 'new')
      throw new LifecycleError(`the Discord adapter cannot start: it is ${this.state}`);
    this.state = 'starting';
    const { token, queue, store } = this.options;
    const client = buildClient({ token, apiUrl: this.options.apiUrl, logger: this.log, tuning: this.tuning });
    this.client = client;
    const typing = new TypingIndicators(
      (channelId) => client.rest.post(`/channels/${channelId}/typing`).then(() => undefined),
      this.tuning.typingMaxMs,
      this.log,
    );
    this.typing = typing;
    this.performer = new OutboundPerformer({
      rest: client.rest,
      store,
      typing,
      token,
      log: this.log,
      tuning: this.tuning,
    });
    const limiter = this.options.rateLimiter ?? localRateLimiter(this.tuning.rateLimit);
    const inbound = inboundChain({
      queue,
      settings: this.options.settings,
      typing,
      limiter,
      replyChainDepth: this.tuning.replyChainDepth,
      log: this.log,
    });
    client.on(Events.MessageCreate, (message: Message) =>
      this.track(inbound({ message, botId: client.user!.id } satisfies InboundContext), 'inbound message'),
    );
    client.on(Events.MessageReactionAdd, (reaction, user) =>
      this.track(
        onReactionAdd(reaction, user, client.user!.id, { queue, limiter, log: this.log }),
        'reaction',
      ),
    );
    client.on(Events.InteractionCreate, (interaction) =>
      this.track(this.onInteraction(interaction), 'interaction'),
    );

    try {
      const ready = once(client, Events.ClientReady, { signal: AbortSignal.timeout(READY_TIMEOUT_MS) });
      // Observed below when login succeeds; abandoned (and must not surface as unhandled) when it fails.
      ready.catch(() => {});
      await client.login(token);
      if (!client.isReady()) await ready;
    } catch (error) {
      await client.destroy().catch(() => {});
      this.state = 'stopped';
      // discord.js errors may quote request details; the token never leaves this process in a message.
      const message = scrub(`Discord login failed: ${(error as Error).message}`, token);
      throw new StewardError(ErrorCode.Lifecycle, message, { unrecoverable: true });
    }
    const applicationId = this.options.applicationId ?? client.application!.id;
    this.log.info(
      { user: client.user!.tag, applicationId, guilds: client.guilds.cache.size },
      'connected to Discord',
    );
    if (this.tuning.registerCommands) {
      await registerCommands(client.rest, applicationId, this.log).catch((error) =>
        this.log.error({ err: logText(error, token) }, 'could not register /steward'),
      );
    }
    try {
      this.consumer = await queue.consumeOutbound('discord', (action) => this.perform(action), {
        concurrency: this.tuning.outboundConcurrency,
      });
    } catch (error) {
      // No half-started adapter: without the outbound consumer the gateway connection is closed again.
      this.stopping = this.close();
      await this.stopping;
      throw error;
    }
    this.state = 'started';
  }

  /** Stops intake, lets in-flight work finish, then closes the gateway. Idempotent. */
  stop(): Promise<void> {
    if (this.state === 'new')
      return Promise.reject(new LifecycleError('the Discord adapter was never started'));
    this.stopping ??= this.close();
    return this.stopping;
  }

  private async close(): Promise<void> {
    this.state = 'stopped';
    const client = this.client;
    client?.removeAllListeners(Events.MessageCreate);
    client?.removeAllListeners(Events.InteractionCreate);
    const errors: unknown[] = [];
    await this.consumer?.close().catch((e) => errors.push(e));
    await Promise.allSettled([...this.inFlight]);
    this.typing?.stopAll();
    await client?.destroy().catch((e) => errors.push(e));
    for (const error of errors) {
      this.log.error({ err: logText(error, this.options.token) }, 'Discord adapter cleanup error');
    }
    this.log.info('Discord adapter stopped');
  }

  async perform(action: Action): Promise<void> {
    if (!this.performer) throw new LifecycleError('the Discord adapter is not started');
    await this.performer.perform(action);
  }

  private async onInteraction(interaction: Interaction): Promise<void> {
    const { store, token } = this.options;
    const performer = this.performer;
    if (interaction.isButton() && parseAppealId(interaction.customId) && performer) {
      await handleAppealButton(interaction, performer.appealDeps);
    } else if (interaction.isModalSubmit() && performer) {
      await handleAppealSubmit(interaction, performer.appealDeps);
    } else if (interaction.isButton()) {
      await handleButton(interaction, {
        rest: interaction.client.rest,
        store,
        token,
        timeoutMs: this.tuning.timeoutMs,
        log: this.log,
        ...(performer ? { notice: (flagId, did) => noticeMember(performer.appealDeps, flagId, did) } : {}),
      });
    } else if (interaction.isChatInputCommand()) {
      const status = this.options.status ?? (() => collectStatus(this.options.queue, store, ['discord']));
      await handleSlash(interaction, {
        store,
        jobs: this.options.queue,
        rest: interaction.client.rest,
        status,
        labels: this.options.labels,
        token,
        log: this.log,
      });
    }
  }

  /** Event handlers run detached from discord.js; errors are logged here, and stop() waits for them. */
  private track(work: Promise<unknown>, what: string): void {
    const tracked = work
      .catch((error) => this.log.error({ err: logText(error, this.options.token) }, `${what} failed`))
      .finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }
}
