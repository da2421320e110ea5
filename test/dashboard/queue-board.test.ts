import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BullMQDriver } from '../../queue/bullmq.ts';
import { INBOUND_QUEUE, outboundQueueName } from '../../queue/types.ts';
import { deletePrefix, inbound, randomPrefix, REDIS_URL, testLogger } from '../queue/fixtures.ts';
import { SESSION_COOKIE } from '../../dashboard/server.ts';
import { grantA, type Harness, signIn, startDashboard } from './fixtures.ts';

let h: Harness;
let driver: BullMQDriver;
let prefix: string;

/** A session as Sign in with Discord would open it (not the operator's one-time link). */
function discordSession(id: string): string {
  const { cookie } = h.server.sessions.create({ id, name: `user ${id}` }, [grantA], 'discord');
  return `${SESSION_COOKIE}=${cookie}`;
}

describe('Bull Board at /admin/queues', () => {
  beforeEach(async () => {
    prefix = randomPrefix('board');
    driver = new BullMQDriver({ url: REDIS_URL, prefix, logger: testLogger() });
    await driver.start();
    h = await startDashboard({
      bullQueues: () => driver.queues([INBOUND_QUEUE, outboundQueueName('discord')]),
      admins: ['discord:42'],
    });
    // Every queue the board holds is connected before a test starts, so none is closed mid-handshake afterwards
    // (bullmq's ioredis otherwise rejects the handshake's command with "Connection is closed", unhandled).
    await Promise.all(
      driver.queues([INBOUND_QUEUE, outboundQueueName('discord')]).map((q) => q.waitUntilReady()),
    );
  });
  afterEach(async () => {
    await h.close();
    await driver.stop();
    await deletePrefix(REDIS_URL, prefix);
  });

  it('GIVEN no session THEN 401, page and API alike', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/static/favicon.ico']) {
      expect((await fetch(`${h.base}${path}`)).status, path).toBe(401);
    }
  });

  it('GIVEN a workspace admin who is not a deployment admin THEN 403', async () => {
    const cookie = discordSession('7');
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      expect((await fetch(`${h.base}${path}`, { headers: { cookie } })).status, path).toBe(403);
    }
  });

  it('GIVEN the operator (one-time link) THEN the page, its files from node_modules and the Steward queues', async () => {
    await driver.enqueueInbound(inbound());
    const c = await signIn(h, [grantA]);
    const page = await c.get('/admin/queues');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    expect(html).toContain('<base href="/admin/queues/"');
    // Offline: nothing remote (Bull Board's Google Fonts link is dropped).
    expect(html).not.toMatch(/https?:\/\//);
    const scripts = [...html.matchAll(/src="(static\/js\/[^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      const res = await c.get(`/admin/queues/${script}`);
      expect(res.status, script).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/javascript/);
    }
    const api = await c.get('/admin/queues/api/queues');
    expect(api.status).toBe(200);
    const { queues } = (await api.json()) as {
      queues: Array<{ name: string; counts: Record<string, number> }>;
    };
    expect(queues.map((q) => q.name).sort()).toEqual([INBOUND_QUEUE, outboundQueueName('discord')]);
    expect(queues.find((q) => q.name === INBOUND_QUEUE)?.counts.waiting).toBe(1);
  });

  it('GIVEN a Discord user listed in STEWARD_DASHBOARD_ADMINS THEN they get the board', async () => {
    const res = await fetch(`${h.base}/admin/queues/api/queues`, {
      headers: { cookie: discordSession('42') },
    });
    expect(res.status).toBe(200);
  });

  it('GIVEN an admin WHEN a queue change comes without our Origin THEN 403; with it THEN it is done', async () => {
    const c = await signIn(h, [grantA]);
    const put = (headers: Record<string, string>) =>
      fetch(`${h.base}/admin/queues/api/queues/${INBOUND_QUEUE}/pause`, {
        method: 'PUT',
        headers: { cookie: c.cookie, ...headers },
      });
    expect((await put({})).status).toBe(403);
    expect((await put({ origin: 'https://evil.example' })).status).toBe(403);
    expect((await put({ origin: h.base })).status).toBeLessThan(300);
    const [queue] = driver.queues([INBOUND_QUEUE]);
    expect(await queue!.isPaused()).toBe(true);
  });
});

describe('Bull Board without Redis', () => {
  it('GIVEN the in-process queue THEN /admin/queues is 404', async () => {
    const local = await startDashboard();
    try {
      const c = await signIn(local, [grantA]);
      expect((await c.get('/admin/queues')).status).toBe(404);
    } finally {
      await local.close();
    }
  });
});
