import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SlackWorkspace } from './state.ts';

/**
 * Sign in with Slack (OpenID Connect): /openid/connect/authorize consents at once as `signedIn` (or denies),
 * /api/openid.connect.token trades a one-time code (bound to its redirect_uri) for an ID token carrying the
 * nonce, the user and the team, like Slack's.
 */
export class EmulatedOidc {
  /** The user who "clicks Allow" at the next authorize; null = they cancel. */
  signedIn: string | null = null;
  readonly #codes = new Map<string, { userId: string; redirectUri: string; nonce: string }>();

  constructor(
    private readonly workspace: SlackWorkspace,
    readonly clientId: string,
    readonly clientSecret: string,
  ) {}

  /** True when it answered the request. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL, raw: string): boolean {
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      });
      res.end(body === undefined ? undefined : JSON.stringify(body));
      return true;
    };
    if (req.method === 'GET' && url.pathname === '/openid/connect/authorize') {
      const q = url.searchParams;
      const redirect = q.get('redirect_uri') ?? '';
      if (q.get('client_id') !== this.clientId || q.get('response_type') !== 'code' || !redirect)
        return send(400, { ok: false, error: 'invalid_request' });
      if (!(q.get('scope') ?? '').split(' ').includes('openid'))
        return send(400, { ok: false, error: 'invalid_scope' });
      const back = new URL(redirect);
      if (q.get('state')) back.searchParams.set('state', q.get('state')!);
      if (this.signedIn === null) back.searchParams.set('error', 'access_denied');
      else {
        const code = randomBytes(12).toString('hex');
        this.#codes.set(code, { userId: this.signedIn, redirectUri: redirect, nonce: q.get('nonce') ?? '' });
        back.searchParams.set('code', code);
      }
      return send(302, undefined, { location: back.toString() });
    }
    if (req.method === 'POST' && url.pathname === '/api/openid.connect.token') {
      const form = new URLSearchParams(raw);
      if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret)
        return send(200, { ok: false, error: 'invalid_client_id' });
      const code = this.#codes.get(form.get('code') ?? '');
      this.#codes.delete(form.get('code') ?? '');
      if (!code || code.redirectUri !== form.get('redirect_uri'))
        return send(200, { ok: false, error: 'invalid_code' });
      const user = this.workspace.users.get(code.userId);
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: 'https://slack.com',
        sub: code.userId,
        aud: this.clientId,
        exp: now + 600,
        iat: now,
        nonce: code.nonce,
        name: user?.name ?? code.userId,
        'https://slack.com/user_id': code.userId,
        'https://slack.com/team_id': this.workspace.team.id,
        'https://slack.com/team_name': this.workspace.team.name,
      };
      const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const idToken = `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.${randomBytes(16).toString('base64url')}`;
      return send(200, {
        ok: true,
        access_token: `xoxp-${randomBytes(8).toString('hex')}`,
        token_type: 'Bearer',
        id_token: idToken,
      });
    }
    return false;
  }
}
