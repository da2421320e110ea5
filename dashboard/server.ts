import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Queue } from 'bullmq';
import type { Registry } from 'prom-client';
import type { QueueDriver } from '../queue/types.ts';
import { executeCommand } from '../src/commands/run.ts';
import type { StructuredCommand } from '../src/commands/types.ts';
import { isModAction } from '../src/domain/moderation-actions.ts';
import { LifecycleError } from '../src/errors.ts';
import type { Logger } from '../src/logger.ts';
import type { Store } from '../src/store/types.ts';
import { decideAppeal, isAppealDecision } from './appeals.ts';
import { labelFeedback } from './feedback.ts';
import { trends } from './trends.ts';
import { act, listFlags, parseFilter, view, visibleFlag, workspaceOf } from './flags.ts';
import { closeServer, cookies, HttpError, listen, readJson, send, sendJson } from './http.ts';
import { type OAuthProvider, PendingSignIns, SignInError } from './oauth.ts';
import { createQueueBoard, QUEUE_BOARD_PATH, type QueueBoardHandler } from './queue-board.ts';
import { csrfMatches, type Grant, isDeploymentAdmin, type Session, Sessions } from './sessions.ts';

export interface DashboardOptions {
  store: Store;
  queue: QueueDriver;
  logger: Logger;
  /** 0 picks a free port. */
  port: number;
  host: string;
  /** Served at /metrics when given (the process's prom-client registry). */
  metrics?: Registry;
  /** Moderation labels of the loaded models, so the settings page refuses unknown ones like the commands do. */
  labels?: () => readonly string[];
  sessions?: Sessions;
  /** "Sign in with Discord / Slack", when configured. */
  providers?: readonly OAuthProvider[];
  /** Where browsers reach the dashboard (OAuth redirect URIs); default its own http://host:port/. */
  publicUrl?: string;
  /**
   * The BullMQ queues, when the queue is Redis: Bull Board is mounted at /admin/queues over them. Called at start(),
   * once the queue driver has started.
   */
  bullQueues?: () => readonly Queue[];
  /** Deployment admins besides the operator's link session, as discord:userId / slack:userId. */
  admins?: readonly string[];
}

export const SESSION_COOKIE = 'steward_session';
/** Binds a pending OAuth sign-in to the browser that started it (Lax: the provider's redirect back is cross-site). */
export const OAUTH_COOKIE = 'steward_oauth';
const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/assets/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/assets/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  // uPlot (MIT), bundled from node_modules: the dashboard works offline, with no CDN.
  '/assets/uPlot.iife.min.js': { file: 'uplot/dist/uPlot.iife.min.js', type: 'text/javascript; charset=utf-8' },
  '/assets/uPlot.min.css': { file: 'uplot/dist/uPlot.min.css', type: 'text/css; charset=utf-8' },
};
/** Settings the settings page may change: the admin commands that write settings, nothing else. */
const SETTINGS_COMMANDS = new Set([
  'topics.add',
  'topics.remove',
  'config.moderation-channel',
  'config.threshold',
  'config.mode',
  'config.replies',
  'config.sentiment-tags',
  'config.exempt',
  'config.unexempt',
]);

/** The web dashboard: static client, JSON API over the store and the outbound queue, sessions, /metrics. */
export class DashboardServer {
  readonly sessions: Sessions;
  readonly #options: DashboardOptions;
  readonly #assets = new Map<string, Buffer>();
  readonly #log: Logger;
  readonly #pending = new PendingSignIns();
  #server: Server | null = null;
  #stopping: Promise<void> | null = null;
  #queueBoard: QueueBoardHandler | null = null;

  constructor(options: DashboardOptions) {
    this.#options = options;
    this.sessions = options.sessions ?? new Sessions();
    this.#log = options.logger.child({ component: 'dashboard' });
  }

  async start(): Promise<void> {
    if (this.#server) throw new LifecycleError('DashboardServer.start() was already called');
    for (const { file } of Object.values(ASSETS)) this.#assets.set(file, readAsset(file));
    if (this.#options.bullQueues) this.#queueBoard = createQueueBoard(this.#options.bullQueues());
    const server = createServer((req, res) => void this.#handle(req, res));
    this.#server = server;
    await listen(server, this.#options.port, this.#options.host);
  }

  stop(): Promise<void> {
    const server = this.#server;
    if (!server) return Promise.reject(new LifecycleError('DashboardServer.stop() before start()'));
    this.#stopping ??= closeServer(server);
    return this.#stopping;
  }

  /** http://host:port/ once started. */
  get url(): string {
    const address = this.#server?.address() as AddressInfo | null | undefined;
    if (!address) throw new LifecycleError('DashboardServer is not started');
    // Bound to every interface (a container): the address to print is the loopback one.
    const ip = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
    const host = ip.includes(':') ? `[${ip}]` : ip;
    return `http://${host}:${address.port}/`;
  }

  /** A one-time sign-in link for `actor` with access to `grants` (local and self-hosted sign-in). */
  signInLink(actor: Session['actor'], grants: Grant[]): string {
    return `${this.url}signin?token=${this.sessions.issueLink(actor, grants)}`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    try {
      await this.#route(req, res, url);
    } catch (error) {
      if (error instanceof HttpError) {
        sendJson(res, error.status, { error: error.message, ...error.extra });
        return;
      }
      this.#log.error({ err: error, path: url.pathname }, 'dashboard request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.end();
    }
  }

  async #route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const { pathname } = url;
    const method = req.method ?? 'GET';
    if (method === 'GET' && pathname === '/healthz') return send(res, 200, 'ok\n', 'text/plain');
    if (method === 'GET' && pathname === '/metrics' && this.#options.metrics) {
      const metrics = this.#options.metrics;
      return send(res, 200, await metrics.metrics(), metrics.contentType);
    }
    if (method === 'GET' && pathname === '/signin') return this.#signIn(res, url);
    if (method === 'GET' && pathname === '/auth/providers') {
      return sendJson(res, 200, { providers: (this.#options.providers ?? []).map((p) => p.name) });
    }
    const auth = /^\/auth\/(discord|slack)(\/callback)?$/.exec(pathname);
    const provider = auth ? this.#options.providers?.find((p) => p.name === auth[1]) : undefined;
    if (method === 'GET' && auth && provider) {
      return auth[2] ? this.#oauthCallback(req, res, url, provider) : this.#oauthStart(res, provider);
    }
    const asset = ASSETS[pathname];
    if (method === 'GET' && asset) return send(res, 200, this.#assets.get(asset.file)!, asset.type);
    if (pathname.startsWith('/api/')) return this.#api(req, res, url, method);
    if (pathname === QUEUE_BOARD_PATH || pathname.startsWith(`${QUEUE_BOARD_PATH}/`)) {
      return this.#queues(req, res);
    }
    throw new HttpError(404, 'not found');
  }

  /**
   * Bull Board, for deployment admins only (it sees and changes every workspace's jobs). Its own requests carry no
   * CSRF token; the session cookie is SameSite=Strict, and a state change must come from this origin.
   */
  #queues(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const board = this.#queueBoard;
    if (!board) throw new HttpError(404, 'no BullMQ queues here (the queue is in-process without REDIS_URL)');
    const session = this.sessions.get(cookies(req)[SESSION_COOKIE]);
    if (!session) throw new HttpError(401, 'sign in first');
    if (!isDeploymentAdmin(session, this.#options.admins ?? [])) {
      throw new HttpError(403, 'the queues are for deployment admins (STEWARD_DASHBOARD_ADMINS)');
    }
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD' && !this.#sameOrigin(req, true)) {
      throw new HttpError(403, 'cross-origin request refused');
    }
    if (method !== 'GET' && method !== 'HEAD') {
      this.#log.info({ actorId: session.actor.id, method, path: req.url }, 'queue changed from Bull Board');
    }
    return new Promise<void>((resolve) => {
      res.once('close', resolve);
      board(req, res, () => {
        sendJson(res, 404, { error: 'not found' });
        resolve();
      });
    });
  }

  /** The browser's Origin, when sent (or when `required`), is the dashboard's own. */
  #sameOrigin(req: IncomingMessage, required: boolean): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return !required;
    return origin === `http://${req.headers.host}` || origin === `https://${req.headers.host}`;
  }

  #signIn(res: ServerResponse, url: URL): void {
    const redeemed = this.sessions.redeem(url.searchParams.get('token') ?? '');
    if (!redeemed) {
      return send(
        res,
        403,
        'This sign-in link is not valid (used already, expired, or mistyped). Restart `steward dashboard` for a new one.\n',
        'text/plain; charset=utf-8',
      );
    }
    this.#log.info({ actorId: redeemed.session.actor.id }, 'signed in with a one-time link');
    res.writeHead(303, { location: '/', 'set-cookie': sessionCookie(redeemed.cookie), 'cache-control': 'no-store' });
    res.end();
  }

  #redirectUri(provider: OAuthProvider): string {
    const base = (this.#options.publicUrl ?? this.url).replace(/\/?$/, '/');
    return `${base}auth/${provider.name}/callback`;
  }

  #oauthStart(res: ServerResponse, provider: OAuthProvider): void {
    const { state, nonce } = this.#pending.begin(provider.name);
    const location = provider.authorizeUrl({ state, nonce, redirectUri: this.#redirectUri(provider) });
    res.writeHead(302, {
      location,
      'set-cookie': `${OAUTH_COOKIE}=${state}; Path=/auth; HttpOnly; Secure; SameSite=Lax; Max-Age=600`,
      'cache-control': 'no-store',
    });
    res.end();
  }

  /** The provider's redirect back: state must be ours, unused, and this browser's; then code → identity. */
  async #oauthCallback(req: IncomingMessage, res: ServerResponse, url: URL, provider: OAuthProvider) {
    const refuse = (why: string) => {
      this.#log.warn({ provider: provider.name, why }, 'sign-in refused');
      send(res, 400, `Sign-in failed: ${why}. Start again from the dashboard.\n`, 'text/plain; charset=utf-8', {
        'set-cookie': `${OAUTH_COOKIE}=; Path=/auth; HttpOnly; Secure; SameSite=Lax; Max-Age=0`,
      });
    };
    const state = url.searchParams.get('state') ?? '';
    const code = url.searchParams.get('code') ?? '';
    if (url.searchParams.has('error')) return refuse(`${provider.name} said ${url.searchParams.get('error')}`);
    if (!state || !code || state.length > 200 || code.length > 2_000) return refuse('the callback is malformed');
    if (cookies(req)[OAUTH_COOKIE] !== state) return refuse('this browser did not start that sign-in');
    const nonce = this.#pending.finish(provider.name, state);
    if (nonce === null) return refuse('that sign-in was used already or expired');
    let identity: Awaited<ReturnType<OAuthProvider['identify']>>;
    try {
      identity = await provider.identify({ code, nonce, redirectUri: this.#redirectUri(provider) });
    } catch (error) {
      if (error instanceof SignInError) return refuse(error.message);
      throw error;
    }
    if (identity.grants.length === 0) {
      return send(
        res,
        403,
        `Signed in as ${identity.actor.name}, but you do not manage any workspace Steward knows (Discord: Manage Server; Slack: workspace admin).\n`,
        'text/plain; charset=utf-8',
      );
    }
    const { cookie } = this.sessions.create(identity.actor, identity.grants, provider.name);
    this.#log.info({ provider: provider.name, actorId: identity.actor.id, workspaces: identity.grants.length }, 'signed in');
    res.writeHead(303, {
      location: '/',
      'set-cookie': [sessionCookie(cookie), `${OAUTH_COOKIE}=; Path=/auth; HttpOnly; Secure; SameSite=Lax; Max-Age=0`],
      'cache-control': 'no-store',
    });
    res.end();
  }

  async #api(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    const cookie = cookies(req)[SESSION_COOKIE];
    const session = this.sessions.get(cookie);
    if (!session) throw new HttpError(401, 'sign in first');
    if (method !== 'GET' && method !== 'HEAD') this.#checkCsrf(req, session);
    const { store } = this.#options;
    const path = url.pathname;
    if (method === 'GET' && path === '/api/session') {
      return sendJson(res, 200, { actor: session.actor, workspaces: session.grants, csrf: session.csrf });
    }
    if (method === 'POST' && path === '/api/signout') {
      this.sessions.end(cookie);
      res.writeHead(204, { 'set-cookie': sessionCookie('', 0) });
      res.end();
      return;
    }
    if (method === 'GET' && path === '/api/flags') {
      const q = url.searchParams;
      const grant = workspaceOf(session, q.get('platform'), q.get('workspace'));
      return sendJson(res, 200, { flags: await listFlags(store, grant, parseFilter(q)) });
    }
    const appealPath = /^\/api\/flags\/([^/]+)\/appeal$/.exec(path);
    if (method === 'POST' && appealPath) {
      const decision = ((await readJson(req)) as { decision?: unknown } | null)?.decision;
      if (!isAppealDecision(decision)) throw new HttpError(400, 'decision is uphold or reverse');
      const deps = { store, queue: this.#options.queue, log: this.#log };
      const id = decodeURIComponent(appealPath[1]!);
      return sendJson(res, 200, { flag: view(await decideAppeal(deps, session, id, decision)) });
    }
    const flagPath = /^\/api\/flags\/([^/]+)(\/actions)?$/.exec(path);
    if (flagPath) {
      const id = decodeURIComponent(flagPath[1]!);
      if (method === 'GET' && !flagPath[2])
        return sendJson(res, 200, { flag: view(await visibleFlag(store, session, id)) });
      if (method === 'POST' && flagPath[2]) {
        const action = ((await readJson(req)) as { action?: unknown } | null)?.action;
        if (typeof action !== 'string' || !isModAction(action)) throw new HttpError(400, 'action is dismiss, delete, timeout or warn');
        const deps = { store, queue: this.#options.queue, log: this.#log };
        return sendJson(res, 200, { flag: view(await act(deps, session, id, action)) });
      }
    }
    if (method === 'GET' && path === '/api/feedback') {
      const q = url.searchParams;
      const grant = workspaceOf(session, q.get('platform'), q.get('workspace'));
      const flags = await store.listFlags(grant.platform, grant.workspaceId, { limit: 5_000 });
      const settings = await store.getSettings(grant.platform, grant.workspaceId);
      return sendJson(res, 200, { labels: labelFeedback(flags, Date.now()), thresholds: settings.thresholds });
    }
    if (method === 'GET' && path === '/api/trends') {
      const q = url.searchParams;
      const grant = workspaceOf(session, q.get('platform'), q.get('workspace'));
      return sendJson(res, 200, await trends(store, grant, Date.now()));
    }
    if (path === '/api/settings') return this.#settings(req, res, url, method, session);
    throw new HttpError(404, 'not found');
  }

  /** Settings are read and written through the slash commands' own code, with their permission check. */
  async #settings(req: IncomingMessage, res: ServerResponse, url: URL, method: string, session: Session) {
    const { store } = this.#options;
    if (method === 'GET') {
      const grant = workspaceOf(session, url.searchParams.get('platform'), url.searchParams.get('workspace'));
      const settings = await store.getSettings(grant.platform, grant.workspaceId);
      return sendJson(res, 200, { settings, isAdmin: grant.isAdmin, labels: this.#options.labels?.() ?? [] });
    }
    if (method !== 'POST') throw new HttpError(405, 'GET or POST');
    const body = (await readJson(req)) as Partial<{
      platform: string;
      workspace: string;
      group: string;
      sub: string;
      options: StructuredCommand['options'];
    }> | null;
    const grant = workspaceOf(session, body?.platform, body?.workspace);
    const group = typeof body?.group === 'string' ? body.group : '';
    const sub = typeof body?.sub === 'string' ? body.sub : '';
    if (!SETTINGS_COMMANDS.has(`${group}.${sub}`)) throw new HttpError(400, 'not a settings command');
    const options = body?.options && typeof body.options === 'object' ? body.options : {};
    const labels = this.#options.labels?.() ?? [];
    const reply = await executeCommand(
      { group, sub, options },
      {
        platform: grant.platform,
        workspaceId: grant.workspaceId,
        actor: { ...session.actor, isAdmin: grant.isAdmin },
        store,
        ...(labels.length > 0 ? { labels } : {}),
      },
    );
    if (reply.ok)
      this.#log.info({ actorId: session.actor.id, command: `${group} ${sub}` }, 'settings changed from the dashboard');
    const settings = await store.getSettings(grant.platform, grant.workspaceId);
    return sendJson(res, reply.ok ? 200 : 400, { ok: reply.ok, text: reply.text, settings });
  }

  /** State changes need the session's CSRF token in a header and, when the browser sends one, our own origin. */
  #checkCsrf(req: IncomingMessage, session: Session): void {
    const header = req.headers['x-csrf-token'];
    if (!csrfMatches(session, typeof header === 'string' ? header : undefined)) {
      throw new HttpError(403, 'missing or wrong CSRF token');
    }
    if (!this.#sameOrigin(req, false)) throw new HttpError(403, 'cross-origin request refused');
  }
}

/**
 * The client files sit beside this module in a checkout (tsx); a compiled build (dist/dashboard/server.js) does
 * not copy them, so the checkout's dashboard/assets is the second place to look.
 */
function readAsset(file: string): Buffer {
  if (file.startsWith('uplot/')) return readFileSync(createRequire(import.meta.url).resolve(file));
  const near = new URL(`./assets/${file}`, import.meta.url);
  return existsSync(near) ? readFileSync(near) : readFileSync(new URL(`../../dashboard/assets/${file}`, import.meta.url));
}

/** HTTP-only, SameSite=Strict and Secure (browsers accept Secure cookies from http://127.0.0.1 and localhost). */
function sessionCookie(value: string, maxAgeS = 12 * 3600): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=${maxAgeS}`;
}
