import { Client, Events, GatewayIntentBits, Partials, type RateLimitData, RESTEvents } from 'discord.js';
import type { Logger } from '../../src/logger.ts';
import { scrub } from './errors.ts';
import type { DiscordTuning } from './options.ts';

export interface ClientInput {
  token: string;
  apiUrl?: string | undefined;
  logger: Logger;
  tuning: Readonly<DiscordTuning>;
}

/** How long discord.js would wait for this rate limit. */
export function rateLimitWaitMs(data: RateLimitData): number {
  return Math.max(data.retryAfter, data.sublimitTimeout ?? 0, data.timeToReset);
}

/**
 * The discord.js client Steward runs: guild + DM messages with content and guild reactions, nothing cached beyond
 * what it needs.
 * Short rate limits are waited out by discord.js (a 429 was never processed by Discord, so re-sending cannot
 * duplicate); longer ones reject with RateLimitError so the job is put off instead of holding a consumer slot.
 */
export function buildClient({ token, apiUrl, logger, tuning }: ClientInput): Client {
  const client = new Client({
    intents: [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessages,
      // Reactions feed the reactor's interest profile (not privileged).
      GatewayIntentBits.GuildMessageReactions,
      GatewayIntentBits.MessageContent,
      GatewayIntentBits.DirectMessages,
    ],
    // DM channels are not in the cache until a DM arrives; without these partials discord.js drops the event.
    // Reactions likewise arrive for messages, reactions and users it never cached.
    partials: [Partials.Channel, Partials.Message, Partials.Reaction, Partials.User],
    // Generated replies must never ping @everyone or roles; replying pings only the member replied to.
    allowedMentions: { parse: [], repliedUser: true },
    rest: {
      ...(apiUrl ? { api: apiUrl } : {}),
      retries: tuning.restRetries,
      timeout: tuning.restTimeoutMs,
      rejectOnRateLimit: (data) => rateLimitWaitMs(data) > tuning.maxInlineRateLimitMs,
    },
  });
  const log = logger.child({ component: 'discord.js' });
  client.on(Events.Debug, (message) => log.trace(scrub(message, token)));
  client.on(Events.Warn, (message) => log.warn(scrub(message, token)));
  client.on(Events.Error, (error) =>
    log.error({ err: scrub(error.message, token) }, 'discord.js client error'),
  );
  client.on(Events.ShardDisconnect, (event, shardId) =>
    log.warn({ code: event.code, shardId }, 'gateway disconnected'),
  );
  client.on(Events.ShardReconnecting, (shardId) => log.info({ shardId }, 'gateway reconnecting'));
  // REST debug lines quote request URLs, and interaction URLs carry the interaction token: scrubbed as well.
  client.rest.on(RESTEvents.Debug, (info) => log.trace(scrub(info, token)));
  client.rest.on(RESTEvents.RateLimited, (data) =>
    log.warn({ route: data.route, waitMs: rateLimitWaitMs(data), global: data.global }, 'Discord rate limit'),
  );
  return client;
}
