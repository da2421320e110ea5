import { MetricsServer } from '../../dashboard/metrics-server.ts';
import { DiscordOAuth, type OAuthProvider, SlackOidc } from '../../dashboard/oauth.ts';
import { DashboardServer } from '../../dashboard/server.ts';
import type { Grant } from '../../dashboard/sessions.ts';
import type { Queue } from 'bullmq';
import { BullMQDriver } from '../../queue/bullmq.ts';
import type { StewardMetrics } from '../../queue/metrics.ts';
import { INBOUND_QUEUE, outboundQueueName, type QueueDriver } from '../../queue/types.ts';
import type { Config } from '../../src/config.ts';
import { type Platform, PlatformSchema } from '../../src/domain/message.ts';
import type { Logger } from '../../src/logger.ts';
import type { Store } from '../../src/store/types.ts';

/** The operator of a self-hosted dashboard, signed in with the printed one-time link. */
export const OPERATOR = Object.freeze({ id: 'operator', name: 'operator' });

/** `platform:id` strings (validated by the config schema) as admin grants. */
export function operatorGrants(workspaces: readonly string[]): Grant[] {
  return workspaces.map((entry) => {
    const at = entry.indexOf(':');
    const platform = PlatformSchema.parse(entry.slice(0, at));
    const workspaceId = entry.slice(at + 1);
    return { platform, workspaceId, name: workspaceId, isAdmin: true };
  });
}

export interface DashboardDeps {
  config: Readonly<Config>;
  logger: Logger;
  store: Store;
  queue: QueueDriver;
  metrics?: StewardMetrics;
  labels?: () => readonly string[];
  /** Overrides config.dashboard.port (the --port flag). */
  port?: number;
  /** The BullMQ queues for Bull Board (see queueBoardQueues); none without REDIS_URL. */
  bullQueues?: () => readonly Queue[];
}

/**
 * Steward's BullMQ queues (inbound, and outbound per platform) for Bull Board, when `queue` is the BullMQ driver
 * (the raw one, not the metered wrapper); undefined for the in-process queue, which has no Bull Board.
 */
export function queueBoardQueues(
  queue: QueueDriver,
  platforms: readonly Platform[],
): (() => readonly Queue[]) | undefined {
  if (!(queue instanceof BullMQDriver)) return undefined;
  return () => queue.queues([INBOUND_QUEUE, ...platforms.map(outboundQueueName)]);
}

/** "Sign in with Discord / Slack" for each platform whose OAuth client is configured. */
export function oauthProviders(config: Readonly<Config>): OAuthProvider[] {
  const providers: OAuthProvider[] = [];
  const { discord, slack } = config;
  if (discord.applicationId && discord.clientSecret) {
    providers.push(
      new DiscordOAuth({
        clientId: discord.applicationId,
        clientSecret: discord.clientSecret,
        apiUrl: discord.apiUrl ?? 'https://discord.com/api',
      }),
    );
  }
  if (slack.clientId && slack.clientSecret && slack.botToken) {
    providers.push(
      new SlackOidc({
        clientId: slack.clientId,
        clientSecret: slack.clientSecret,
        apiUrl: slack.apiUrl ?? 'https://slack.com/api/',
        botToken: slack.botToken,
        adminUsers: slack.adminUsers,
      }),
    );
  }
  return providers;
}

export function buildDashboard(deps: DashboardDeps): DashboardServer {
  const publicUrl = deps.config.dashboard.publicUrl;
  return new DashboardServer({
    providers: oauthProviders(deps.config),
    ...(publicUrl ? { publicUrl } : {}),
    store: deps.store,
    queue: deps.queue,
    logger: deps.logger,
    port: deps.port ?? deps.config.dashboard.port ?? 0,
    host: deps.config.dashboard.host,
    ...(deps.metrics ? { metrics: deps.metrics.registry } : {}),
    ...(deps.labels ? { labels: deps.labels } : {}),
    ...(deps.bullQueues ? { bullQueues: deps.bullQueues } : {}),
    admins: deps.config.dashboard.admins,
  });
}

/**
 * The address and a one-time sign-in link, for the terminal (stdout), never the log: the link is a credential
 * that works once, and printing it is how the operator signs in without OAuth.
 */
export function announce(
  server: DashboardServer,
  config: Readonly<Config>,
  out: NodeJS.WritableStream,
): void {
  const link = server.signInLink(OPERATOR, operatorGrants(config.dashboard.workspaces));
  const base = config.dashboard.publicUrl?.replace(/\/?$/, '/');
  const shown = base ? link.replace(server.url, base) : link;
  out.write(`Steward dashboard: ${base ?? server.url}\nSign in (one-time link): ${shown}\n`);
}

export function buildMetricsServer(config: Readonly<Config>, metrics: StewardMetrics): MetricsServer | null {
  const port = config.metrics.port;
  return port === undefined
    ? null
    : new MetricsServer({ registry: metrics.registry, port, host: config.dashboard.host });
}
