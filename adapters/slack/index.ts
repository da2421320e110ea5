import type { QueueDriver } from '../../queue/types.ts';
import { collectStatus } from '../../queue/status.ts';
import type { StatusInfo } from '../../src/commands/types.ts';
import type { Config } from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';
import type { Logger } from '../../src/logger.ts';
import type { InboundRateLimiter } from '../rate-limit.ts';
import type { Store } from '../../src/store/types.ts';
import { SlackAdapter } from './adapter.ts';
import { type SlackTuning, slackConfigProblems } from './options.ts';

export { SlackAdapter } from './adapter.ts';
export { ALERT_BUTTONS, alertBlocks } from './blocks.ts';
export type { BotIdentity } from './directory.ts';
export {
  DefaultSlackTuning,
  type SlackAdapterOptions,
  type SlackTuning,
  slackConfigProblems,
  slackRequested,
} from './options.ts';

/** What the composition root hands the Slack adapter. */
export interface SlackAdapterDeps {
  config: Pick<Config, 'slack'>;
  queue: QueueDriver;
  store: Store;
  logger: Logger;
  status?: () => Promise<StatusInfo>;
  labels?: readonly string[];
  rateLimiter?: InboundRateLimiter;
  tuning?: Partial<SlackTuning>;
}

/**
 * Builds the Slack adapter from the validated config, or throws a ConfigError naming each missing or malformed
 * variable (e.g. SLACK_SIGNING_SECRET set without SLACK_BOT_TOKEN). Nothing connects until start().
 */
export function createSlackAdapter(deps: SlackAdapterDeps): SlackAdapter {
  const problems = slackConfigProblems(deps.config);
  if (problems.length > 0) {
    throw new ConfigError(`Slack cannot start:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
  const slack = deps.config.slack;
  const tuning: Partial<SlackTuning> = {
    ...(slack.deliveryLeaseMs === undefined ? {} : { deliveryLeaseMs: slack.deliveryLeaseMs }),
    ...deps.tuning,
  };
  return new SlackAdapter({
    botToken: slack.botToken!,
    signingSecret: slack.signingSecret,
    appToken: slack.appToken,
    socketMode: slack.socketMode,
    port: slack.port,
    apiUrl: slack.apiUrl,
    adminUsers: slack.adminUsers,
    userToken: slack.userToken,
    queue: deps.queue,
    store: deps.store,
    logger: deps.logger,
    status: deps.status ?? (() => collectStatus(deps.queue, deps.store, ['slack'])),
    ...(deps.labels ? { labels: deps.labels } : {}),
    ...(deps.rateLimiter ? { rateLimiter: deps.rateLimiter } : {}),
    tuning,
  });
}
