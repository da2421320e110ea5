import { Writable } from 'node:stream';
import type { SlackAdapter } from '../../../adapters/slack/adapter.ts';
import { createSlackAdapter } from '../../../adapters/slack/index.ts';
import type { SlackTuning } from '../../../adapters/slack/options.ts';
import type { InboundRateLimiter } from '../../../adapters/rate-limit.ts';
import type { EnqueueResult, QueueDriver } from '../../../queue/types.ts';
import type { Config } from '../../../src/config.ts';
import type { InboundMessageInput } from '../../../src/domain/message.ts';
import type { WorkspaceSettings } from '../../../src/domain/settings.ts';
import type { InferenceEngine } from '../../../src/engine.ts';
import { createLogger, type Logger } from '../../../src/logger.ts';
import {
  bundledModelsPresent,
  createTestStack,
  type TestStack,
  type TestStackOptions,
} from '../../support/stack.ts';
import { FakeEngine } from '../../worker/fake-engine.ts';
import { SlackEmulator } from './server.ts';
import { SignedSender } from './signed.ts';

/** Fake secrets, long enough for the logger's scrubber and recognisable in a leak. */
export const BOT_TOKEN = 'xoxb-1111-2222-emulatedBotTokenSecret';
export const SIGNING_SECRET = 'emulated0signing0secret0c0ffee0123456';
export const ADMIN_USER_TOKEN = 'xoxp-3333-4444-emulatedAdminUserToken';
export const APP_TOKEN = 'xapp-1-A0STEWARD-5555-emulatedAppLevelToken';

export const CHANNELS = Object.freeze({ general: 'C0GENERAL', mods: 'C0MODS' });
export const USERS = Object.freeze({ member: 'U0MEMBER', admin: 'U0ADMIN', helper: 'U0HELPER' });

/**
 * Which engine the end-to-end tests run: the real bundled models (the default, skipped while they are not
 * exported yet), or the rule-based fake with STEWARD_E2E_ENGINE=fake for working on the adapter without them.
 */
export const E2E_ENGINE: 'real' | 'fake' | 'none' =
  process.env.STEWARD_E2E_ENGINE === 'fake' ? 'fake' : bundledModelsPresent() ? 'real' : 'none';

export interface SlackHarnessOptions {
  withWorker?: boolean;
  /** Give the adapter an admin's user token, so it can delete members' messages. */
  userToken?: boolean;
  adminUsers?: string[];
  tuning?: Partial<SlackTuning>;
  queue?: TestStackOptions['queue'];
  settings?: Partial<WorkspaceSettings>;
  /** The inbound rate limiter (e.g. one on Redis shared with another harness); the adapter's own by default. */
  rateLimiter?: InboundRateLimiter;
  /** Socket Mode instead of the HTTP receiver (events then arrive through emulator.socketMode). */
  socketMode?: boolean;
}

export type Enqueued = EnqueueResult & { message: InboundMessageInput };

export interface SlackHarness {
  stack: TestStack;
  emulator: SlackEmulator;
  adapter: SlackAdapter;
  sender: SignedSender;
  teamId: string;
  /** Every enqueueInbound call of the adapter, in order: the message and the queue's answer. */
  enqueues: Enqueued[];
  /** Set `enqueue` to N to make the next N enqueueInbound calls fail (as if Redis were down). */
  faults: { enqueue: number };
  /** Every log line of every part (JSON), for asserting that secrets never appear. */
  logs: string[];
  logger: Logger;
  cleanup(): Promise<void>;
}

/** A Redis-backed Steward (queue, store, worker) with the real Bolt app talking to a local Slack. */
export async function createSlackHarness(options: SlackHarnessOptions = {}): Promise<SlackHarness> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      callback();
    },
  });
  const logger = createLogger({ level: 'debug', destination: sink });
  const engine: InferenceEngine | undefined = E2E_ENGINE === 'fake' ? new FakeEngine() : undefined;
  const emulator = await new SlackEmulator({ botToken: BOT_TOKEN }).start();
  let stack: TestStack;
  try {
    stack = await createTestStack({
      withWorker: options.withWorker ?? true,
      ...(engine ? { engine } : {}),
      ...(options.queue ? { queue: options.queue } : {}),
      logger,
    });
  } catch (error) {
    await emulator.stop();
    throw error;
  }
  const ws = emulator.workspace;
  ws.addChannel({ id: CHANNELS.general, name: 'general' });
  ws.addChannel({ id: CHANNELS.mods, name: 'moderators' });
  ws.addUser({ id: USERS.member, name: 'mallory', realName: 'Mallory Member' });
  ws.addUser({ id: USERS.admin, name: 'ada', realName: 'Ada Admin', isAdmin: true });
  ws.addUser({ id: USERS.helper, name: 'hal', realName: 'Hal Helper' });
  if (options.userToken) ws.addUserToken(ADMIN_USER_TOKEN, USERS.admin);
  ws.addAppToken(APP_TOKEN);
  await stack.store.updateSettings('slack', ws.team.id, (s) => ({
    ...s,
    moderationChannelId: CHANNELS.mods,
    ...options.settings,
  }));

  const enqueues: Enqueued[] = [];
  const faults = { enqueue: 0 };
  // Through the factory the composition root uses, so config checks and the default status are covered too.
  const slack: Config['slack'] & { userToken?: string } = {
    botToken: BOT_TOKEN,
    signingSecret: options.socketMode ? undefined : SIGNING_SECRET,
    appToken: options.socketMode ? APP_TOKEN : undefined,
    socketMode: options.socketMode ?? false,
    port: 0,
    apiUrl: emulator.apiUrl,
    adminUsers: options.adminUsers ?? [],
    ...(options.userToken ? { userToken: ADMIN_USER_TOKEN } : {}),
  };
  const adapter = createSlackAdapter({
    config: { slack },
    queue: spyQueue(stack.queue, enqueues, faults),
    store: stack.store,
    logger,
    ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
    tuning: { host: '127.0.0.1', ...options.tuning },
  });
  let cleaning: Promise<void> | null = null;
  const cleanup = () => {
    cleaning ??= (async () => {
      await adapter.stop().catch(() => {});
      await stack.cleanup();
      await emulator.stop();
    })();
    return cleaning;
  };
  try {
    await adapter.start();
  } catch (error) {
    await cleanup();
    throw error;
  }
  const sender = new SignedSender({
    url: `http://127.0.0.1:${adapter.port}/slack/events`,
    signingSecret: SIGNING_SECRET,
    emulator,
  });
  return { stack, emulator, adapter, sender, teamId: ws.team.id, enqueues, faults, logs, logger, cleanup };
}

/** The queue driver with enqueueInbound recorded (and breakable); everything else passes through. */
function spyQueue(queue: QueueDriver, enqueues: Enqueued[], faults: { enqueue: number }): QueueDriver {
  return {
    kind: queue.kind,
    start: () => queue.start(),
    stop: () => queue.stop(),
    enqueueInbound: async (message) => {
      if (faults.enqueue > 0) {
        faults.enqueue -= 1;
        throw new Error('connect ECONNREFUSED 127.0.0.1:6379 (injected)');
      }
      const result = await queue.enqueueInbound(message);
      enqueues.push({ ...result, message: message as InboundMessageInput });
      return result;
    },
    enqueueOutbound: (platform, actions) => queue.enqueueOutbound(platform, actions),
    consumeInbound: (handler, opts) => queue.consumeInbound(handler, opts),
    consumeOutbound: (platform, handler, opts) => queue.consumeOutbound(platform, handler, opts),
    counts: (name) => queue.counts(name),
    oldestWaiting: (name) => queue.oldestWaiting(name),
    forgetMember: (platform, workspaceId, userId) => queue.forgetMember(platform, workspaceId, userId),
    failedJobs: (name, limit) => queue.failedJobs(name, limit),
    workersAlive: () => queue.workersAlive(),
  };
}

/**
 * Picks, among candidates, the text the loaded engine finds most (or least) objectionable, so tests never
 * assume what a model outputs. For 'flagged' it also returns thresholds that make the pick flag for sure.
 */
export async function pickText(
  engine: InferenceEngine,
  candidates: string[],
  want: 'flagged' | 'clean',
): Promise<{ text: string; thresholds: Record<string, number> }> {
  const signals = await engine.signals(candidates);
  const defaults = engine.defaults().thresholds;
  const margin = (i: number) => {
    const entries = Object.entries(signals[i]!.moderation).map(([label, score]) => ({
      label,
      score,
      margin: score - (defaults[label] ?? 0.5),
    }));
    return entries.sort((a, b) => b.margin - a.margin)[0]!;
  };
  const ranked = candidates
    .map((text, i) => ({ text, top: margin(i) }))
    .sort((a, b) => b.top.margin - a.top.margin);
  const pick = want === 'flagged' ? ranked[0]! : ranked.at(-1)!;
  if (want === 'clean') {
    // Even the mildest candidate is near a threshold: raise those labels for this workspace.
    const i = candidates.indexOf(pick.text);
    const raised = Object.entries(signals[i]!.moderation).filter(
      ([l, s]) => s >= (defaults[l] ?? 0.5) - 0.02,
    );
    return {
      text: pick.text,
      thresholds: Object.fromEntries(raised.map(([l, s]) => [l, Math.min(1, s + 0.05)])),
    };
  }
  if (pick.top.margin >= 0.02) return { text: pick.text, thresholds: {} };
  // Even the worst candidate stays under the model's default threshold: lower this workspace's threshold for it.
  return { text: pick.text, thresholds: { [pick.top.label]: Math.max(0.01, pick.top.score - 0.05) } };
}
