import { randomBytes } from 'node:crypto';
import type { Grant, Session } from './sessions.ts';

/** Who signed in through a provider, and the workspaces where they hold the commands' admin permission. */
export interface Identity {
  actor: Session['actor'];
  grants: Grant[];
}

/** "Sign in with …": the authorize redirect, then code → identity (throws SignInError when refused). */
export interface OAuthProvider {
  readonly name: 'discord' | 'slack';
  authorizeUrl(params: { state: string; nonce: string; redirectUri: string }): string;
  identify(params: { code: string; nonce: string; redirectUri: string }): Promise<Identity>;
}

/** A sign-in the provider or our checks refused; the message is shown to the person, never a secret. */
export class SignInError extends Error {
  override name = 'SignInError';
}

type Fetch = typeof fetch;

async function json(res: Response, what: string): Promise<Record<string, unknown>> {
  const body = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  if (!res.ok || body === null) throw new SignInError(`${what} failed (${res.status})`);
  return body;
}

const MANAGE_GUILD = 1n << 5n;
const ADMINISTRATOR = 1n << 3n;

export interface DiscordOAuthOptions {
  clientId: string;
  clientSecret: string;
  /** REST base, e.g. https://discord.com/api (tests: the emulator). */
  apiUrl: string;
  fetch?: Fetch;
}

/** Discord OAuth2 (authorization code, scopes `identify guilds`): Manage Server (or owner/Administrator) grants. */
export class DiscordOAuth implements OAuthProvider {
  readonly name = 'discord';
  readonly #o: DiscordOAuthOptions;
  readonly #fetch: Fetch;
  constructor(options: DiscordOAuthOptions) {
    this.#o = { ...options, apiUrl: options.apiUrl.replace(/\/+$/, '') };
    this.#fetch = options.fetch ?? fetch;
  }

  authorizeUrl({ state, redirectUri }: { state: string; redirectUri: string }): string {
    // The consent page lives on the site root, beside the API (discord.com/oauth2/authorize).
    const site = this.#o.apiUrl.replace(/\/api(\/v\d+)?$/, '');
    const q = new URLSearchParams({
      client_id: this.#o.clientId,
      response_type: 'code',
      scope: 'identify guilds',
      redirect_uri: redirectUri,
      state,
      prompt: 'none',
    });
    return `${site}/oauth2/authorize?${q}`;
  }

  async identify({ code, redirectUri }: { code: string; redirectUri: string }): Promise<Identity> {
    const token = await json(
      await this.#fetch(`${this.#o.apiUrl}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: this.#o.clientId,
          client_secret: this.#o.clientSecret,
          grant_type: 'authorization_code',
          code,
          redirect_uri: redirectUri,
        }),
      }),
      'Discord token exchange',
    );
    if (typeof token.access_token !== 'string') throw new SignInError('Discord sent no access token');
    const headers = { authorization: `Bearer ${token.access_token}` };
    const user = await json(await this.#fetch(`${this.#o.apiUrl}/v10/users/@me`, { headers }), 'Discord user');
    const guilds = await json(
      await this.#fetch(`${this.#o.apiUrl}/v10/users/@me/guilds`, { headers }),
      'Discord guild list',
    );
    if (typeof user.id !== 'string' || !Array.isArray(guilds)) throw new SignInError('Discord sent a bad profile');
    const grants: Grant[] = [];
    for (const g of guilds as Array<Record<string, unknown>>) {
      if (typeof g.id !== 'string') continue;
      let permissions = 0n;
      try {
        permissions = BigInt(String(g.permissions ?? '0'));
      } catch {}
      const admin = g.owner === true || (permissions & (MANAGE_GUILD | ADMINISTRATOR)) !== 0n;
      if (admin) grants.push({ platform: 'discord', workspaceId: g.id, name: String(g.name ?? g.id), isAdmin: true });
    }
    const name = String(user.global_name ?? user.username ?? user.id);
    return { actor: { id: user.id, name }, grants };
  }
}

export interface SlackOidcOptions {
  clientId: string;
  clientSecret: string;
  /** Web API base with trailing slash, e.g. https://slack.com/api/ (tests: the emulator). */
  apiUrl: string;
  /** users.info with the bot token decides admin, as the slash commands do. */
  botToken: string;
  adminUsers: readonly string[];
  fetch?: Fetch;
}

/** Sign in with Slack (OpenID Connect): workspace admins/owners and SLACK_ADMIN_USERS get their workspace. */
export class SlackOidc implements OAuthProvider {
  readonly name = 'slack';
  readonly #o: SlackOidcOptions;
  readonly #fetch: Fetch;
  constructor(options: SlackOidcOptions) {
    this.#o = { ...options, apiUrl: options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/` };
    this.#fetch = options.fetch ?? fetch;
  }

  authorizeUrl({ state, nonce, redirectUri }: { state: string; nonce: string; redirectUri: string }): string {
    const site = this.#o.apiUrl.replace(/\/api\/$/, '');
    const q = new URLSearchParams({
      response_type: 'code',
      scope: 'openid profile',
      client_id: this.#o.clientId,
      state,
      nonce,
      redirect_uri: redirectUri,
    });
    return `${site}/openid/connect/authorize?${q}`;
  }

  async #call(method: string, body: URLSearchParams, bearer?: string): Promise<Record<string, unknown>> {
    const res = await this.#fetch(`${this.#o.apiUrl}${method}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      },
      body,
    });
    const out = await json(res, `Slack ${method}`);
    if (out.ok !== true) throw new SignInError(`Slack ${method} refused: ${String(out.error ?? 'unknown')}`);
    return out;
  }

  async identify({ code, nonce, redirectUri }: { code: string; nonce: string; redirectUri: string }): Promise<Identity> {
    const token = await this.#call(
      'openid.connect.token',
      new URLSearchParams({
        client_id: this.#o.clientId,
        client_secret: this.#o.clientSecret,
        code,
        redirect_uri: redirectUri,
        grant_type: 'authorization_code',
      }),
    );
    // The ID token came straight from the token endpoint, so TLS vouches for its issuer (OIDC Core 3.1.3.7);
    // its audience and our nonce are still checked, which is what stops a replayed or foreign token.
    const claims = decodeJwtPayload(token.id_token);
    if (claims.aud !== this.#o.clientId) throw new SignInError('the Slack ID token is for another app');
    if (claims.nonce !== nonce) throw new SignInError('the Slack ID token does not match this sign-in');
    if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) throw new SignInError('the Slack ID token expired');
    const userId = claims['https://slack.com/user_id'];
    const teamId = claims['https://slack.com/team_id'];
    if (typeof userId !== 'string' || typeof teamId !== 'string') throw new SignInError('Slack sent no user or team');
    const info = await this.#call('users.info', new URLSearchParams({ user: userId }), this.#o.botToken);
    const user = (info.user ?? {}) as Record<string, unknown>;
    const isAdmin = this.#o.adminUsers.includes(userId) || user.is_admin === true || user.is_owner === true;
    const name = String(claims.name ?? user.name ?? userId);
    const grants: Grant[] = isAdmin
      ? [{ platform: 'slack', workspaceId: teamId, name: String(claims['https://slack.com/team_name'] ?? teamId), isAdmin }]
      : [];
    return { actor: { id: userId, name }, grants };
  }
}

function decodeJwtPayload(token: unknown): Record<string, unknown> {
  if (typeof token !== 'string') throw new SignInError('Slack sent no ID token');
  const part = token.split('.')[1];
  try {
    const claims = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as unknown;
    if (typeof claims === 'object' && claims !== null) return claims as Record<string, unknown>;
  } catch {}
  throw new SignInError('Slack sent a malformed ID token');
}

/** Pending sign-ins: state → provider and nonce, each usable once and for ten minutes. */
export class PendingSignIns {
  readonly #pending = new Map<string, { provider: string; nonce: string; expiresAt: number }>();
  constructor(
    private readonly ttlMs = 600_000,
    private readonly now: () => number = Date.now,
  ) {}

  begin(provider: string): { state: string; nonce: string } {
    const now = this.now();
    for (const [key, value] of this.#pending) if (value.expiresAt <= now) this.#pending.delete(key);
    const state = randomBytes(24).toString('base64url');
    const nonce = randomBytes(24).toString('base64url');
    this.#pending.set(state, { provider, nonce, expiresAt: now + this.ttlMs });
    return { state, nonce };
  }

  /** The nonce of a pending sign-in, consumed; null for an unknown, used, expired or other-provider state. */
  finish(provider: string, state: string): string | null {
    const pending = this.#pending.get(state);
    if (!pending) return null;
    this.#pending.delete(state);
    if (pending.provider !== provider || pending.expiresAt <= this.now()) return null;
    return pending.nonce;
  }
}
