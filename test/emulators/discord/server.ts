import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultInjector, type FaultRule } from './faults.ts';
import { EmulatedGateway } from './gateway.ts';
import { EmulatedOAuth } from './oauth.ts';
import { EmulatedRest } from './rest.ts';
import { EmulatorState, type EmuUser, snowflake } from './state.ts';

/** One REST request as the emulator saw it; the bot token is never stored, only whether it matched. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  body: Record<string, unknown> | null;
  status: number;
  auth: 'ok' | 'bad' | 'none';
  at: number;
}

export interface DiscordEmulatorOptions {
  /** The fake bot token the client must present. */
  token: string;
  applicationId?: string;
  botUser?: EmuUser;
  heartbeatIntervalMs?: number;
  /** Client secret of the OAuth2 application (dashboard sign-in). */
  clientSecret?: string;
}

/**
 * A local Discord: REST under http://127.0.0.1:PORT/api and the gateway at ws://127.0.0.1:PORT/gateway, so the real
 * discord.js client runs unchanged (`rest.api` points here; the gateway URL comes from GET /gateway/bot).
 */
export class DiscordEmulator {
  readonly state: EmulatorState;
  readonly rest: EmulatedRest;
  readonly gateway: EmulatedGateway;
  readonly faults = new FaultInjector();
  readonly requests: RecordedRequest[] = [];
  /** OAuth2 sign-in (the dashboard's "Sign in with Discord"). */
  readonly oauth: EmulatedOAuth;
  private readonly server: Server;
  private port = 0;
  private readonly token: string;

  constructor(options: DiscordEmulatorOptions) {
    this.token = options.token;
    const applicationId = options.applicationId ?? snowflake();
    const botUser = options.botUser ?? { id: applicationId, username: 'Steward', bot: true };
    this.state = new EmulatorState(applicationId, botUser);
    this.rest = new EmulatedRest(this.state, () => this.gatewayUrl);
    this.oauth = new EmulatedOAuth(
      () => this.state.applicationId,
      options.clientSecret ?? 'emulator-client-secret',
    );
    this.gateway = new EmulatedGateway({
      state: this.state,
      token: options.token,
      url: () => this.gatewayUrl,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
    });
    this.server = createServer((req, res) => void this.onRequest(req, res));
    this.server.on('upgrade', (req, socket, head) => {
      if (req.url?.startsWith('/gateway')) this.gateway.handleUpgrade(req, socket, head);
      else socket.destroy();
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    await this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Base for discord.js `rest.api` (it appends /v10). */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}/gateway`;
  }

  get applicationId(): string {
    return this.state.applicationId;
  }

  /** The next `times` requests matching the rule fail with its status. */
  inject(rule: FaultRule): void {
    this.faults.add(rule);
  }

  /** Requests filtered by method and path pattern. */
  find(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.path));
  }

  /** Polls until `check` returns a value (not undefined/false), or throws after `timeoutMs`. */
  async waitFor<T>(
    what: string,
    check: () => T | undefined | false | Promise<T | undefined | false>,
    timeoutMs = 30_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline)
        throw new Error(`emulator: timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // discord.js percent-encodes '@' in @original / @me.
    const path = url.pathname.replace(/^\/api(\/v\d+)?/, '').replaceAll('%40', '@');
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    if (this.oauth.handle(req, res, path, url, raw)) return;
    let body: Record<string, unknown> | null = null;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        return this.reply(res, { method, path, query: url.search, body: null, auth: 'none' }, 400, {
          message: 'The request body contains invalid JSON.',
          code: 50109,
        });
      }
    }
    const header = req.headers.authorization;
    const auth = header === undefined ? 'none' : header === `Bot ${this.token}` ? 'ok' : 'bad';
    const record = { method, path, query: url.search, body, auth } as const;

    const fault = this.faults.take(method, path);
    if (fault && !fault.afterCommit) {
      const out = FaultInjector.respond(fault);
      return this.reply(res, record, out.status, out.body, out.headers);
    }
    const result = this.rest.handle({
      method,
      path,
      query: url.searchParams,
      body,
      authorized: auth === 'ok',
    });
    if (fault) {
      const out = FaultInjector.respond(fault);
      return this.reply(res, record, out.status, out.body, out.headers);
    }
    this.reply(res, record, result.status, result.body);
  }

  private reply(
    res: ServerResponse,
    record: Omit<RecordedRequest, 'status' | 'at'>,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    this.requests.push({ ...record, status, at: Date.now() });
    res.writeHead(status, {
      ...headers,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  }
}
