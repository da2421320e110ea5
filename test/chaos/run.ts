/**
 * `npm run chaos [-- --quick]`: the real `steward bot` (Slack, HTTP) against the Slack emulator, on a Redis of its own
 * (AOF everysec, a random port — never the shared one), while it is hurt: platform 429/5xx bursts, `kill -9` of the
 * bot mid-load, Redis stopped and restarted mid-load, and Redis `kill -9`. Each scenario enqueues reply actions
 * (as workers would) and counts the replies that became visible: lost = none, duplicated = more than one.
 * The last line is one JSON object: scenarios, messages_in, actions_out, lost, duplicated_visible.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildQueue } from '../../app/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { ReplyAction } from '../../src/domain/action.ts';
import { createLogger } from '../../src/logger.ts';
import { BOT_TOKEN, CHANNELS, SIGNING_SECRET, USERS } from '../emulators/slack/harness.ts';
import { SlackEmulator } from '../emulators/slack/index.ts';

const quick = process.argv.includes('--quick');
const PER_SCENARIO = quick ? 40 : 150;
const SETTLE_MS = quick ? 100_000 : 180_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

class OwnRedis {
  #child: ChildProcess | null = null;
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {}
  async start(): Promise<void> {
    this.#child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--save',
        '',
      ],
      { stdio: 'ignore' },
    );
    await sleep(500);
  }
  async stop(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}

class Bot {
  #child: ChildProcess | null = null;
  log = '';
  constructor(readonly env: NodeJS.ProcessEnv) {}
  async start(): Promise<void> {
    const inherited = { ...process.env };
    delete inherited.LOG_LEVEL;
    const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli/main.ts', 'bot'], {
      env: { ...inherited, LOG_LEVEL: 'info', ...this.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#child = child;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (chunk) => {
        log += chunk;
        this.log += chunk;
        if (/steward bot running/.test(log)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`steward bot exited (${code}):\n${log.slice(-2_000)}`)));
    });
  }
  async stop(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}

interface Row {
  scenario: string;
  in: number;
  out: number;
  lost: number;
  duplicated: number;
  seconds: number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'steward-chaos-'));
  const redis = new OwnRedis(await freePort(), dir);
  await redis.start();
  const emulator = await new SlackEmulator({ botToken: BOT_TOKEN }).start();
  const ws = emulator.workspace;
  ws.addChannel({ id: CHANNELS.general, name: 'general' });
  ws.addUser({ id: USERS.member, name: 'mallory' });
  const REDIS_URL = `redis://127.0.0.1:${redis.port}`;
  const prefix = `chaos${Date.now()}`;
  const env = {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: emulator.apiUrl,
    SLACK_PORT: '0',
    REDIS_URL,
    STEWARD_PREFIX: prefix,
    STEWARD_LOCK_DURATION_MS: '5000',
    STEWARD_STALLED_INTERVAL_MS: '2000',
  };
  const logger = createLogger({ level: 'silent' });
  const queue = buildQueue(loadConfig({ env }), logger);
  await queue.start();
  const bot = new Bot(env);
  await bot.start();
  const rows: Row[] = [];

  /** Enqueues `n` replies, runs `hurt` while they are delivered, then counts what became visible. */
  async function scenario(name: string, hurt: (posted: () => number) => Promise<void>): Promise<void> {
    const started = Date.now();
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
    const visible = (a: ReplyAction) =>
      ws.messages.filter((m) => m.threadTs === a.target.messageId && m.text === a.text && !m.deleted).length;
    const posted = () => actions.filter((a) => visible(a) > 0).length;
    for (let i = 0; i < actions.length; i += 10) {
      await enqueueRetrying(() => queue.enqueueOutbound('slack', actions.slice(i, i + 10)));
    }
    await hurt(posted);
    const deadline = Date.now() + SETTLE_MS;
    while (posted() < actions.length && Date.now() < deadline) await sleep(500);
    await sleep(2_000); // anything that would post twice has had time to
    const counts = actions.map(visible);
    const row: Row = {
      scenario: name,
      in: actions.length,
      out: counts.filter((c) => c > 0).length,
      lost: counts.filter((c) => c === 0).length,
      duplicated: counts.filter((c) => c > 1).length,
      seconds: Math.round((Date.now() - started) / 1000),
    };
    rows.push(row);
    console.log(
      `${row.scenario.padEnd(22)} in ${row.in}  out ${row.out}  lost ${row.lost}  duplicated ${row.duplicated}  (${row.seconds} s)`,
    );
  }

  const waitFor = async (cond: () => boolean) => {
    while (!cond()) await sleep(50);
  };

  try {
    await scenario('baseline', async () => {});
    await scenario('429-5xx-burst', async () => {
      emulator.failNext('chat.postMessage', 15, { status: 429, retryAfterSec: 1 });
      emulator.failNext('chat.postMessage', 10, { status: 503 });
    });
    await scenario('bot-kill-9', async (posted) => {
      await waitFor(() => posted() >= PER_SCENARIO / 4);
      await bot.stop('SIGKILL');
      await sleep(1_000);
      await bot.start();
    });
    await scenario('redis-stop-restart', async (posted) => {
      await waitFor(() => posted() >= PER_SCENARIO / 4);
      await redis.stop('SIGTERM');
      await sleep(quick ? 3_000 : 6_000);
      await redis.start();
    });
    await scenario('redis-kill-9', async (posted) => {
      await waitFor(() => posted() >= PER_SCENARIO / 4);
      // AOF everysec: up to one second of writes (claims, confirms, job moves) may be lost with it.
      await redis.stop('SIGKILL');
      await sleep(2_000);
      await redis.start();
    });
  } finally {
    await bot.stop('SIGTERM');
    await queue.stop().catch(() => {});
    await emulator.stop();
    await redis.stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
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

async function enqueueRetrying(enqueue: () => Promise<void>): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      return await enqueue();
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
