import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A guild as GET /users/@me/guilds lists it for the signed-in user. */
export interface OAuthGuild {
  id: string;
  name: string;
  owner: boolean;
  /** Permission bits as a decimal string, like Discord sends them. */
  permissions: string;
}

export interface OAuthUser {
  id: string;
  username: string;
  guilds: OAuthGuild[];
}

/**
 * Discord's OAuth2 authorization-code flow: /oauth2/authorize (consents at once as `signedIn`, or denies),
 * /oauth2/token (form body, one-time codes bound to their redirect_uri), and the Bearer /users/@me(/guilds).
 */
export class EmulatedOAuth {
  readonly users = new Map<string, OAuthUser>();
  /** The user who "clicks Authorize" at the next /oauth2/authorize; null = they click Cancel. */
  signedIn: string | null = null;
  readonly #codes = new Map<string, { userId: string; redirectUri: string }>();
  readonly #tokens = new Map<string, string>();

  constructor(
    private readonly clientId: () => string,
    private readonly clientSecret: string,
  ) {}

  addUser(user: OAuthUser): void {
    this.users.set(user.id, user);
  }

  /** True when it answered the request (the path is one of its own, or a Bearer call). */
  handle(req: IncomingMessage, res: ServerResponse, path: string, url: URL, raw: string): boolean {
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      });
      res.end(body === undefined ? undefined : JSON.stringify(body));
      return true;
    };
    if (req.method === 'GET' && url.pathname === '/oauth2/authorize') {
      const q = url.searchParams;
      const redirect = q.get('redirect_uri') ?? '';
      const scopes = (q.get('scope') ?? '').split(' ');
      if (q.get('client_id') !== this.clientId() || q.get('response_type') !== 'code' || !redirect)
        return send(400, { error: 'invalid_request' });
      if (!scopes.includes('identify') || !scopes.includes('guilds'))
        return send(400, { error: 'invalid_scope' });
      const back = new URL(redirect);
      if (q.get('state')) back.searchParams.set('state', q.get('state')!);
      if (this.signedIn === null) {
        back.searchParams.set('error', 'access_denied');
      } else {
        const code = randomBytes(12).toString('hex');
        this.#codes.set(code, { userId: this.signedIn, redirectUri: redirect });
        back.searchParams.set('code', code);
      }
      return send(302, undefined, { location: back.toString() });
    }
    if (req.method === 'POST' && path === '/oauth2/token') {
      const form = new URLSearchParams(raw);
      if (form.get('client_id') !== this.clientId() || form.get('client_secret') !== this.clientSecret)
        return send(401, { error: 'invalid_client' });
      const code = this.#codes.get(form.get('code') ?? '');
      this.#codes.delete(form.get('code') ?? '');
      if (
        form.get('grant_type') !== 'authorization_code' ||
        !code ||
        code.redirectUri !== form.get('redirect_uri')
      )
        return send(400, { error: 'invalid_grant' });
      const token = randomBytes(16).toString('hex');
      this.#tokens.set(token, code.userId);
      return send(200, {
        access_token: token,
        token_type: 'Bearer',
        expires_in: 604800,
        scope: 'identify guilds',
      });
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer === undefined) return false;
    const user = this.users.get(this.#tokens.get(bearer) ?? '');
    if (!user) return send(401, { message: '401: Unauthorized', code: 0 });
    if (req.method === 'GET' && path === '/users/@me')
      return send(200, { id: user.id, username: user.username });
    if (req.method === 'GET' && path === '/users/@me/guilds') return send(200, user.guilds);
    return send(404, { message: 'Unknown route', code: 0 });
  }
}
