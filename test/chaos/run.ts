/**
 * `npm run chaos [-- --quick] [--only NAME,…] [--logs DIR]`: the real `steward bot` (Slack, HTTP) and `steward worker` against the Slack emulator,
 * on a Redis of its own (AOF everysec, a random port — never the shared one), while they are hurt: platform
 * 429/5xx bursts, `kill -9` of the bot mid-load, Redis stopped and restarted mid-load, Redis `kill -9`, Redis
 * refusing the confirm of posts Slack already accepted, and `kill -9` of a worker with jobs in flight.
 * The outbound scenarios enqueue reply actions (as workers would) and count the replies that became visible; the
 * worker scenario sends signed message events to the bot and counts each message's visible result. Lost = none,
 * duplicated = more than one. The last line is one JSON object: scenarios, messages_in, actions_out, lost,
 * duplicated_visible, table.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { buildQueue } from '../../app/app.ts';
import { INBOUND_QUEUE, outboundQueueName } from '../../queue/types.ts';
import { loadConfig } from '../../src/config.ts';
import type { ReplyAction } from '../../src/domain/action.ts';
import { createLogger } from '../../src/logger.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { BOT_TOKEN, CHANNELS, SIGNING_SECRET, USERS } from '../emulators/slack/harness.ts';
import { SignedSender, SlackEmulator } from '../emulators/slack/index.ts';
import { freePort, OwnRedis, sleep, stewardBot, stewardWorker } from './processes.ts';

const quick = process.argv.includes('--quick');
const PER_SCENARIO = quick ? 40 : 150;
const SETTLE_MS = quick ? 100_000 : 180_000;
/** `--logs DIR`: write the bot's and the worker's logs there at the end (to see why a row went wrong). */
const logsDir = process.argv.includes('--logs')
  ? process.argv[process.argv.indexOf('--logs') + 1]
  : undefined;
/** `--only a,b`: run just those scenarios (while working on one). */
const only = process.argv.includes('--only')
  ? new Set(process.argv[process.argv.indexOf('--only') + 1]?.split(','))
  : null;

/** One message or action whose visible effect is counted: 0 = lost, 1 = once, more = duplicated. */
type Visible = () => number;

interface Row {
  scenario: string;
  in: number;
  out: number;
  lost: number;
  duplicated: number;
  seconds: number;
  /** What the fault did, where that is not obvious from the name (jobs in flight at the kill, confirms refused). */
  note?: string;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'steward-chaos-'));
  const redis = new OwnRedis(await freePort(), dir);
  await redis.start();
  const emulator = await new SlackEmulator({ botToken: BOT_TOKEN }).start();
  const ws = emulator.workspace;
  ws.addChannel({ id: CHANNELS.general, name: 'general' });
  ws.addUser({ id: USERS.member, name: 'mallory' });
  const prefix = `chaos${Date.now()}`;
  const slackPort = await freePort(); // fixed, so events reach the bot again after it restarts
  const env = {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: emulator.apiUrl,
    SLACK_PORT: String(slackPort),
    REDIS_URL: redis.url,
    STEWARD_PREFIX: prefix,
    STEWARD_LOCK_DURATION_MS: '5000',
    STEWARD_STALLED_INTERVAL_MS: '2000',
    // A retry after a crash or a failed confirm waits out the claim's lease (60 s by default) before it looks for
    // the earlier post; the shortest lease the config allows keeps the run short.
    SLACK_DELIVERY_LEASE_MS: '16000',
  };
  const logger = createLogger({ level: 'silent' });
  const queue = buildQueue(loadConfig({ env }), logger);
  await queue.start();
  const bot = stewardBot(env);
  await bot.start();
  // Small batches and one intra-op thread: a worker on this box holds several batches' jobs when it is killed.
  const worker = stewardWorker({ ...env, STEWARD_BATCH_SIZE: '4', STEWARD_THREADS: '1' });
  const rows: Row[] = [];

  /** Sends the load, runs `hurt` while it is handled, waits until all is visible (or SETTLE_MS), and counts. */
  async function scenario(
    name: string,
    load: () => Promise<Visible[]>,
    /** Returns what the fault did, as a note for the row (a function: read once everything settled). */
    hurt: (done: () => number) => Promise<(() => string) | undefined>,
  ): Promise<void> {
    if (only && !only.has(name)) return;
    const started = Date.now();
    const items = await load();
    const done = () => items.filter((visible) => visible() > 0).length;
    const describe = await hurt(done);
    const deadline = Date.now() + SETTLE_MS;
    // Visible is not enough: a job retried after a crash or a failed confirm may still be waiting out its claim's
    // lease, and it is the one that would post twice. Count once no job is left.
    while ((done() < items.length || !(await drained())) && Date.now() < deadline) await sleep(500);
    await sleep(2_000); // anything that would post twice has had time to
    const counts = items.map((visible) => visible());
    const note = describe?.();
    const row: Row = {
      scenario: name,
      in: items.length,
      out: counts.filter((c) => c > 0).length,
      lost: counts.filter((c) => c === 0).length,
      duplicated: counts.filter((c) => c > 1).length,
      seconds: Math.round((Date.now() - started) / 1000),
      ...(note ? { note } : {}),
    };
    rows.push(row);
    console.log(
      `${row.scenario.padEnd(22)} in ${row.in}  out ${row.out}  lost ${row.lost}  duplicated ${row.duplicated}  (${row.seconds} s)${note ? `  ${note}` : ''}`,
    );
  }

  /** PER_SCENARIO reply actions enqueued as workers would; each counts its copies in the thread. */
  const replies = (name: string) => async (): Promise<Visible[]> => {
    const actions: ReplyAction[] = [];
    for (let i = 0; i < PER_SCENARIO; i++) {
      const m = ws.addMessage({ channel: CHANNELS.general, user: USERS.member, text: `${name} ${i}` });
      actions.push({
        kind: 'reply',
        key: `chaos:${name}:${i}`,
        target: { platform: 'slack', workspaceId: ws.team.id, channelId: CHANNELS.general, messageId: m.ts },
        text: `reply ${name} ${i}`,
        reason: 'mention',
      });
    }
    for (let i = 0; i < actions.length; i += 10) {
      await retrying(() => queue.enqueueOutbound('slack', actions.slice(i, i + 10)));
    }
    return actions.map(
      (a) => () =>
        ws.messages.filter((m) => m.threadTs === a.target.messageId && m.text === a.text && !m.deleted)
          .length,
    );
  };

  /** No job waiting, running or put off, inbound or outbound. */
  const drained = async () => {
    try {
      const counts = await Promise.all([
        queue.counts(INBOUND_QUEUE),
        queue.counts(outboundQueueName('slack')),
      ]);
      return counts.every((c) => c.waiting + c.active + c.delayed === 0);
    } catch {
      return false; // Redis away
    }
  };

  /** Polls until `cond` holds; false if it did not within `timeoutMs`. */
  const waitFor = async (cond: () => boolean | Promise<boolean>, timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await cond())) {
      if (Date.now() > deadline) return false;
      await sleep(50);
    }
    return true;
  };

  try {
    await scenario('baseline', replies('baseline'), async () => undefined);
    await scenario('429-5xx-burst', replies('429-5xx-burst'), async () => {
      emulator.failNext('chat.postMessage', 15, { status: 429, retryAfterSec: 1 });
      emulator.failNext('chat.postMessage', 10, { status: 503 });
      return undefined;
    });
    await scenario('bot-kill-9', replies('bot-kill-9'), async (done) => {
      await waitFor(() => done() >= PER_SCENARIO / 4);
      await bot.stop('SIGKILL');
      await sleep(1_000);
      await bot.start();
      return undefined;
    });
    await scenario('redis-stop-restart', replies('redis-stop-restart'), async (done) => {
      await waitFor(() => done() >= PER_SCENARIO / 4);
      await redis.stop('SIGTERM');
      await sleep(quick ? 3_000 : 6_000);
      await redis.start();
      return undefined;
    });
    await scenario('redis-kill-9', replies('redis-kill-9'), async (done) => {
      await waitFor(() => done() >= PER_SCENARIO / 4);
      // AOF everysec: up to one second of writes (claims, confirms, job moves) may be lost with it.
      await redis.stop('SIGKILL');
      await sleep(2_000);
      await redis.start();
      return undefined;
    });
    let refusing: Promise<() => string> | undefined;
    await scenario(
      'confirm-fails',
      async () => {
        refusing = refuseConfirms(emulator, redis, bot); // in place before the first post
        return replies('confirm-fails')();
      },
      () => refusing!,
    );
    await scenario('worker-kill-9', messagesThroughBot(), async (done) => {
      // The backlog is queued before the worker starts, so it takes many jobs at once; killed with jobs in flight,
      // it holds them (active, locked) when it dies.
      let active = 0;
      const inFlight = await waitFor(async () => {
        active = (await queue.counts(INBOUND_QUEUE)).active;
        return done() >= PER_SCENARIO / 4 && active > 0;
      });
      if (!inFlight) throw new Error('worker-kill-9: no job was in flight to kill the worker over');
      await worker.stop('SIGKILL');
      await sleep(1_000);
      await worker.start();
      const mentioned = new Set(
        ws.messages.filter((m) => m.user?.startsWith('U0CHAOS') && m.text.startsWith('<@')).map((m) => m.ts),
      );
      const replies = () =>
        ws.messages.filter((m) => m.botId === ws.bot.botId && mentioned.has(m.threadTs ?? '')).length;
      return () => `${active} jobs active at the kill; ${replies()} replies to ${mentioned.size} mentions`;
    });
  } finally {
    await worker.stop('SIGTERM');
    await bot.stop('SIGTERM');
    if (logsDir) {
      writeFileSync(join(logsDir, 'bot.log'), bot.log);
      writeFileSync(join(logsDir, 'worker.log'), worker.log);
    }
    await queue.stop().catch(() => {});
    await emulator.stop();
    await redis.stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }

  /**
   * Member messages sent to the bot as signed events (each from its own member: the per-member rate limit would
   * drop a flood from one), for a real worker to analyse. The workspace tags every message's sentiment, and every
   * fourth message addresses the bot, so it gets a reply too. A message counts 0 without its tag, else the most
   * copies of its tag or of the bot's reply in its thread.
   */
  function messagesThroughBot() {
    return async (): Promise<Visible[]> => {
      const store = new RedisStore({ url: redis.url, prefix });
      await store.start();
      await store.updateSettings('slack', ws.team.id, (s) => ({
        ...s,
        sentimentTags: 'all',
        replyMode: 'mention',
      }));
      await store.stop();
      const sender = new SignedSender({
        url: `http://127.0.0.1:${slackPort}/slack/events`,
        signingSecret: SIGNING_SECRET,
        emulator,
      });
      const texts = ['thanks, this release is great', 'the build is broken again', 'meeting moved to 3pm'];
      const sent = [];
      for (let i = 0; i < PER_SCENARIO; i++) {
        const user = ws.addUser({ id: `U0CHAOS${String(i).padStart(4, '0')}`, name: `member${i}` });
        const mention = i % 4 === 0 ? `<@${ws.bot.userId}> ` : '';
        const { message, event } = sender.say({
          channel: CHANNELS.general,
          user: user.id,
          text: `${mention}${texts[i % texts.length]} (${i})`,
        });
        // Slack re-sends an event that got no 2xx; so does this sender.
        await retrying(async () => {
          const response = await sender.event(event);
          if (response.status !== 200) throw new Error(`bot answered ${response.status}`);
        });
        sent.push(message);
      }
      await worker.start();
      return sent.map((message) => () => {
        const tags = message.reactions.filter((r) => r.users.includes(ws.bot.userId)).length;
        const botReplies = ws.messages.filter(
          (m) => m.threadTs === message.ts && m.botId === ws.bot.botId && !m.deleted,
        ).length;
        return tags === 0 ? 0 : Math.max(tags, botReplies);
      });
    };
  }

  const total = (k: 'in' | 'out' | 'lost' | 'duplicated') => rows.reduce((s, r) => s + r[k], 0);
  const summary = {
    scenarios: rows.length,
    messages_in: total('in'),
    actions_out: total('out'),
    lost: total('lost'),
    duplicated_visible: total('duplicated'),
    table: rows,
  };
  console.log(JSON.stringify(summary));
  process.exitCode = summary.lost > 0 || summary.duplicated_visible > 0 ? 1 : 0;
}

/**
 * Between Slack accepting a post and the bot hearing so, Redis starts refusing writes (maxmemory 1, noeviction:
 * every write answers OOM) for 1.5 s, a few times: the bot's confirm of a post that is visible fails. The retry
 * must find the earlier post (by its metadata) instead of posting again.
 */
async function refuseConfirms(
  emulator: SlackEmulator,
  redis: OwnRedis,
  bot: { log: string },
): Promise<() => string> {
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  const logBefore = bot.log.length;
  const callsBefore = emulator.calls.length;
  let posts = 0;
  let windows = 0;
  let refusing = false;
  const windowsWanted = quick ? 3 : 6;
  emulator.beforeAnswer(async (call) => {
    if (call.method !== 'chat.postMessage' || !call.ok || refusing || windows >= windowsWanted) return;
    posts += 1;
    if (posts % 8 !== 4) return;
    refusing = true;
    windows += 1;
    await admin.config('SET', 'maxmemory', '1');
    setTimeout(() => {
      void admin.config('SET', 'maxmemory', '0').finally(() => {
        refusing = false;
      });
    }, 1_500);
  });
  const deadline = Date.now() + 60_000;
  while ((windows < windowsWanted && Date.now() < deadline) || refusing) await sleep(100);
  emulator.beforeAnswer(null);
  await admin.quit();
  return () => {
    const refused = (bot.log.slice(logBefore).match(/OOM command not allowed/g) ?? []).length;
    const lookups = emulator.calls
      .slice(callsBefore)
      .filter((c) => c.method === 'conversations.replies' || c.method === 'conversations.history').length;
    return `${windows} windows of refused writes right after a post was accepted; ${refused} OOM errors in the bot's log; ${lookups} lookups for an earlier post`;
  };
}

async function retrying(attempt: () => Promise<void>): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i > 60) throw error;
      await sleep(500);
    }
  }
}

main().then(
  () => setTimeout(() => process.exit(), 1_000).unref(),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
