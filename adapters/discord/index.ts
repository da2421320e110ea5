import type { QueueDriver } from '../../queue/types.ts';
import type { StatusInfo } from '../../src/commands/types.ts';
import type { Config } from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';
import type { Logger } from '../../src/logger.ts';
import type { InboundRateLimiter } from '../rate-limit.ts';
import type { SettingsReader, Store } from '../../src/store/types.ts';
import { DiscordAdapter } from './adapter.ts';
import type { DiscordTuning } from './options.ts';

export { DiscordAdapter } from './adapter.ts';
export { DISCORD_BOT_PERMISSIONS, discordInviteUrl } from './invite.ts';
export { type DiscordAdapterOptions, type DiscordTuning, DefaultDiscordTuning } from './options.ts';
export { stewardCommand, registerCommands } from './commands.ts';

export interface CreateDiscordAdapterInput {
  config: Pick<Config, 'discord'>;
  queue: QueueDriver;
  store: Store;
  settings: SettingsReader;
  logger: Logger;
  status?: () => Promise<StatusInfo>;
  labels?: readonly string[];
  rateLimiter?: InboundRateLimiter;
  tuning?: Partial<DiscordTuning>;
}

/** Builds the adapter from the validated config (no I/O; call start()). Throws a ConfigError without a token. */
export function createDiscordAdapter(input: CreateDiscordAdapterInput): DiscordAdapter {
  const { token, applicationId, apiUrl } = input.config.discord;
  if (!token)
    throw new ConfigError(
      'DISCORD_TOKEN (discord.token) is not set: the bot token from the Developer Portal',
    );
  return new DiscordAdapter({
    token,
    applicationId,
    apiUrl,
    queue: input.queue,
    store: input.store,
    settings: input.settings,
    logger: input.logger,
    ...(input.status ? { status: input.status } : {}),
    ...(input.labels ? { labels: input.labels } : {}),
    ...(input.rateLimiter ? { rateLimiter: input.rateLimiter } : {}),
    ...(input.tuning ? { tuning: input.tuning } : {}),
  });
}
