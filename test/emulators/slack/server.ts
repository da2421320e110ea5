import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, METHODS, type Params } from './methods.ts';
import { EmulatedOidc } from './oidc.ts';
import { SocketModeEndpoint } from './socket.ts';
import { type EmuToken, SlackWorkspace } from './state.ts';

/** One Web API call as the emulator saw it. The token is never stored: only whose it was. */
export interface RecordedCall {
  method: string;
  params: Params;
  /** User id of the token's owner; 'none' / 'bad' when missing or unknown. */
  caller: string;
  tokenKind: EmuToken['kind'] | 'none' | 'bad';
  status: number;
  ok: boolean;
  error?: string;
  /** What the emulator answered (ts of posted messages and so on). */
  result?: Record<string, unknown>;
  at: number;
}

/** A body POSTed to one of the emulator's response_url endpoints (slash commands, block actions). */
export interface RecordedResponse {
  id: string;
  body: Record<string, unknown>;
  at: number;
}

/** What the next calls of a method answer instead of their normal result. */
export type Fault = { status: 429; retryAfterSec: number } | { status: 500 | 502 | 503 } | { error: string };

export interface SlackEmulatorOptions {
  botToken: string;
  /** OpenID Connect client of the app (the dashboard's "Sign in with Slack"). */
  clientId?: string;
  clientSecret?: string;
}

/**
 * A local Slack Web API on 127.0.0.1 (`/api/<method>`, form or JSON bodies, bearer or body tokens) plus
 * `response_url` endpoints, so the real Bolt app and WebClient run unchanged (`clientOptions.slackApiUrl`).
 */
export class SlackEmulator {
  readonly workspace: SlackWorkspace;
  readonly calls: RecordedCall[] = [];
  readonly responses: RecordedResponse[] = [];
  /** Socket Mode: the WebSocket side of apps.connections.open. */
  readonly socketMode = new SocketModeEndpoint();
  /** Sign in with Slack. */
  readonly oidc: EmulatedOidc;
  readonly #faults = new Map<string, Fault[]>();
  readonly #server: Server;
  readonly #listeners = new Set<() => void>();
  #beforeAnswer: ((call: RecordedCall) => Promise<void> | void) | null = null;
  #port = 0;

  constructor(options: SlackEmulatorOptions) {
    this.workspace = new SlackWorkspace(options.botToken);
    this.oidc = new EmulatedOidc(
      this.workspace,
      options.clientId ?? 'emulator-client-id',
      options.clientSecret ?? 'emulator-client-secret',
    );
    this.#server = createServer((req, res) => void this.#onRequest(req, res));
    this.#server.on('upgrade', (req, socket, head) => {
      if (req.url?.startsWith('/socket-mode')) this.socketMode.handleUpgrade(req, socket, head);
      else socket.destroy();
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => resolve());
    });
    this.#port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.socketMode.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  get origin(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Base URL for WebClient's `slackApiUrl` (trailing slash required). */
  get apiUrl(): string {
    return `${this.origin}/api/`;
  }

  /** A fresh response_url, as Slack puts into slash-command and interaction payloads. */
  responseUrl(): string {
    return `${this.origin}/respond/${randomBytes(6).toString('hex')}`;
  }

  /** The next `count` calls of `method` answer with `fault` (429 with Retry-After, a 5xx, or a Slack error). */
  failNext(method: string, count: number, fault: Fault): void {
    const queue = this.#faults.get(method) ?? [];
    for (let i = 0; i < count; i += 1) queue.push(fault);
    this.#faults.set(method, queue);
  }

  /**
   * Runs `hook` on every Web API call after the emulator acted on it and before its answer leaves, so a test can
   * break something in the moment between Slack accepting a post and the app hearing that it did.
   */
  beforeAnswer(hook: ((call: RecordedCall) => Promise<void> | void) | null): void {
    this.#beforeAnswer = hook;
  }

  /** Successful calls of a method, oldest first. */
  okCalls(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method && c.ok);
  }

  /**
   * Resolves once `predicate` holds (checked after every request and every 25 ms), or rejects after `timeoutMs`.
   * The predicate is synchronous: an async one would "hold" at once (a promise is truthy), so it is refused.
   */
  async waitFor<T>(
    predicate: () => (T extends PromiseLike<unknown> ? never : T) | undefined | false,
    timeoutMs = 20_000,
    what = 'condition',
  ): Promise<T> {
    const first = predicate();
    if (isThenable(first))
      throw new TypeError(
        `Slack emulator: waitFor(${what}) got an async predicate; poll the store in the test instead`,
      );
    const hit = first as T | undefined | false;
    if (hit) return hit;
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const value = predicate() as T | undefined | false;
        if (!value) return;
        cleanup();
        resolve(value);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`Slack emulator: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      // Also polled: conditions on things besides requests (jobs, the store) change between requests.
      const poll = setInterval(check, 25);
      const cleanup = () => {
        clearTimeout(timer);
        clearInterval(poll);
        this.#listeners.delete(check);
      };
      this.#listeners.add(check);
    });
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const raw = await readBody(req);
    try {
      if (this.oidc.handle(req, res, url, raw)) return;
      if (req.method === 'POST' && url.pathname.startsWith('/respond/')) {
        this.responses.push({
          id: url.pathname.slice('/respond/'.length),
          body: parseBody(raw, req.headers['content-type']),
          at: Date.now(),
        });
        send(res, 200, { ok: true });
      } else if (req.method === 'POST' && url.pathname.startsWith('/api/')) {
        await this.#api(url.pathname.slice('/api/'.length), req, raw, url, res);
      } else {
        send(res, 404, { ok: false, error: 'unknown_path' });
      }
    } finally {
      this.#notify();
    }
  }

  async #api(
    method: string,
    req: IncomingMessage,
    raw: string,
    url: URL,
    res: ServerResponse,
  ): Promise<void> {
    const params: Params = {
      ...Object.fromEntries(url.searchParams),
      ...parseBody(raw, req.headers['content-type']),
    };
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const token = bearer ?? (typeof params.token === 'string' ? params.token : undefined);
    delete params.token;
    const owner = token === undefined ? undefined : this.workspace.tokens.get(token);
    const record = (status: number, body: Record<string, unknown>) => {
      const ok = body.ok === true;
      this.calls.push({
        method,
        params,
        caller: owner?.userId ?? (token === undefined ? 'none' : 'bad'),
        tokenKind: owner?.kind ?? (token === undefined ? 'none' : 'bad'),
        status,
        ok,
        ...(typeof body.error === 'string' ? { error: body.error } : {}),
        ...(ok ? { result: body } : {}),
        at: Date.now(),
      });
    };

    const fault = this.#faults.get(method)?.shift();
    if (fault && 'status' in fault) {
      const headers: Record<string, string> =
        fault.status === 429 ? { 'retry-after': String(fault.retryAfterSec) } : {};
      const body =
        fault.status === 429 ? { ok: false, error: 'ratelimited' } : { ok: false, error: 'internal_error' };
      record(fault.status, body);
      send(res, fault.status, body, headers);
      return;
    }
    const handler = METHODS[method];
    let body: Record<string, unknown>;
    if (fault) body = { ok: false, error: fault.error };
    else if (!handler && method !== 'apps.connections.open') body = { ok: false, error: 'unknown_method' };
    else if (token === undefined) body = { ok: false, error: 'not_authed' };
    else if (!owner) body = { ok: false, error: 'invalid_auth' };
    else if (method === 'apps.connections.open') {
      body =
        owner.kind === 'app'
          ? { ok: true, url: this.socketMode.openUrl(this.origin) }
          : { ok: false, error: 'not_allowed_token_type' };
    } else if (owner.kind === 'app') body = { ok: false, error: 'not_allowed_token_type' };
    else {
      try {
        body = { ok: true, ...handler!(params, owner, this.workspace) };
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        body = { ok: false, error: error.error };
      }
    }
    record(200, body);
    await this.#beforeAnswer?.(this.calls.at(-1)!);
    send(res, 200, body);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(raw: string, contentType: string | undefined): Params {
  if (raw === '') return {};
  if (contentType?.includes('application/json')) return JSON.parse(raw) as Params;
  return Object.fromEntries(new URLSearchParams(raw));
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
