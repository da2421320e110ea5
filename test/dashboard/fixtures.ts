import { type DashboardOptions, DashboardServer } from '../../dashboard/server.ts';
import type { Grant } from '../../dashboard/sessions.ts';
import { MemoryDriver } from '../../queue/memory.ts';
import type { Platform } from '../../src/domain/message.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import type { FlagRecord, Store } from '../../src/store/types.ts';
import { testLogger } from '../queue/fixtures.ts';

export function flag(overrides: Partial<FlagRecord> = {}): FlagRecord {
  const platform: Platform = overrides.platform ?? 'discord';
  const workspaceId = overrides.workspaceId ?? 'guild-a';
  const channelId = overrides.channelId ?? 'chan-1';
  const messageId = overrides.messageId ?? `m${Math.random().toString(36).slice(2, 10)}`;
  return {
    id: `${platform}:${workspaceId}:${channelId}:${messageId}`,
    platform,
    workspaceId,
    channelId,
    messageId,
    authorId: 'u-1',
    authorName: 'mallory',
    excerpt: 'you are an idiot and a moron',
    flagged: ['offensive', 'insult'],
    scores: { offensive: 0.97, insult: 0.81, hate: 0.12 },
    reasons: { offensive: ['idiot', 'moron'], insult: ['idiot'] },
    createdAt: Date.parse('2026-11-20T10:00:00Z'),
    status: 'open',
    history: [{ at: Date.parse('2026-11-20T10:00:01Z'), actorId: 'steward', action: 'alert' }],
    ...overrides,
  };
}

export const grantA: Grant = { platform: 'discord', workspaceId: 'guild-a', name: 'Guild A', isAdmin: true };
export const grantB: Grant = { platform: 'discord', workspaceId: 'guild-b', name: 'Guild B', isAdmin: true };

export interface Harness {
  server: DashboardServer;
  store: Store;
  queue: MemoryDriver;
  base: string;
  close(): Promise<void>;
}

/** A dashboard on a free port over a memory store and the in-process queue. */
export async function startDashboard(extra: Partial<DashboardOptions> = {}): Promise<Harness> {
  const logger = testLogger();
  const store = new MemoryStore();
  const queue = new MemoryDriver({ logger });
  await store.start();
  await queue.start();
  const server = new DashboardServer({
    store,
    queue,
    logger,
    port: 0,
    host: '127.0.0.1',
    labels: () => ['offensive', 'insult', 'hate'],
    ...extra,
  });
  await server.start();
  return {
    server,
    store,
    queue,
    base: server.url.replace(/\/$/, ''),
    close: async () => {
      await server.stop();
      await queue.stop();
      await store.stop();
    },
  };
}

/** A signed-in client: the session cookie and CSRF token, as a browser would hold them. */
export interface Client {
  cookie: string;
  csrf: string;
  get(path: string): Promise<Response>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
}

export async function signIn(
  h: Harness,
  grants: Grant[],
  actor = { id: 'mod-1', name: 'Mod One' },
): Promise<Client> {
  const link = h.server.signInLink(actor, grants);
  const res = await fetch(link, { redirect: 'manual' });
  if (res.status !== 303) throw new Error(`sign-in answered ${res.status}`);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  const session = (await (await fetch(`${h.base}/api/session`, { headers: { cookie } })).json()) as {
    csrf: string;
  };
  return {
    cookie,
    csrf: session.csrf,
    get: (path) => fetch(`${h.base}${path}`, { headers: { cookie } }),
    post: (path, body, headers = {}) =>
      fetch(`${h.base}${path}`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': session.csrf, ...headers },
        body: JSON.stringify(body),
      }),
  };
}
