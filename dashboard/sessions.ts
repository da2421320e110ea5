import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Platform } from '../src/domain/message.ts';

/** One workspace a signed-in person may see; `isAdmin` is what the slash commands' permission check gets. */
export interface Grant {
  platform: Platform;
  workspaceId: string;
  name: string;
  isAdmin: boolean;
}

/** How a session was opened: the one-time link printed for the operator, or a platform's OAuth sign-in. */
export type SignInMethod = 'link' | 'discord' | 'slack';

export interface Session {
  id: string;
  via: SignInMethod;
  csrf: string;
  actor: { id: string; name: string };
  grants: Grant[];
  expiresAt: number;
}

export interface SessionOptions {
  /** How long a session lives after sign-in. */
  ttlMs: number;
  /** How long a sign-in link stays valid before it is used. */
  linkTtlMs: number;
  now: () => number;
}

export const DefaultSessionOptions = Object.freeze({
  ttlMs: 12 * 3_600_000,
  linkTtlMs: 24 * 3_600_000,
  now: Date.now,
}) satisfies Readonly<SessionOptions>;

const secret = () => randomBytes(32).toString('base64url');
/** Only hashes of session ids and link tokens are kept, so a heap dump or log of the map leaks nothing usable. */
const digest = (value: string) => createHash('sha256').update(value).digest('base64url');

/** Sessions and one-time sign-in links, held in the dashboard process's memory. */
export class Sessions {
  readonly #sessions = new Map<string, Session>();
  readonly #links = new Map<string, { actor: Session['actor']; grants: Grant[]; expiresAt: number }>();
  readonly #options: SessionOptions;

  constructor(options: Partial<SessionOptions> = {}) {
    this.#options = { ...DefaultSessionOptions, ...options };
  }

  /** A one-time token that signs in as `actor` with `grants`; the token itself is returned once and not kept. */
  issueLink(actor: Session['actor'], grants: Grant[]): string {
    this.#sweep();
    const token = secret();
    this.#links.set(digest(token), {
      actor,
      grants,
      expiresAt: this.#options.now() + this.#options.linkTtlMs,
    });
    return token;
  }

  /** Uses up a sign-in token; null when unknown, used already, or expired. */
  redeem(token: string): { cookie: string; session: Session } | null {
    const key = digest(token);
    const link = this.#links.get(key);
    if (!link) return null;
    this.#links.delete(key);
    if (link.expiresAt <= this.#options.now()) return null;
    return this.create(link.actor, link.grants, 'link');
  }

  /** A new session; the returned cookie value is the only copy of its id. */
  create(actor: Session['actor'], grants: Grant[], via: SignInMethod): { cookie: string; session: Session } {
    this.#sweep();
    const cookie = secret();
    const session: Session = {
      id: digest(cookie),
      via,
      csrf: secret(),
      actor,
      grants,
      expiresAt: this.#options.now() + this.#options.ttlMs,
    };
    this.#sessions.set(session.id, session);
    return { cookie, session };
  }

  /** The session a cookie value names, or null (unknown, forged, expired). */
  get(cookie: string | undefined): Session | null {
    if (!cookie) return null;
    const id = digest(cookie);
    const session = this.#sessions.get(id);
    if (!session) return null;
    if (session.expiresAt <= this.#options.now()) {
      this.#sessions.delete(id);
      return null;
    }
    return session;
  }

  /** Forgets expired sessions and links, so memory stays bounded by what is live. */
  #sweep(): void {
    const now = this.#options.now();
    for (const [key, value] of this.#sessions) if (value.expiresAt <= now) this.#sessions.delete(key);
    for (const [key, value] of this.#links) if (value.expiresAt <= now) this.#links.delete(key);
  }

  end(cookie: string | undefined): void {
    if (cookie) this.#sessions.delete(digest(cookie));
  }
}

/** Constant-time comparison of a CSRF header with the session's token. */
export function csrfMatches(session: Session, header: string | undefined): boolean {
  if (!header) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(header);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * A deployment admin may see and change every queue (Bull Board): the operator, who signed in with the one-time link
 * printed on the process's stdout, or someone who signed in with Discord/Slack and is listed in `admins` as
 * `platform:userId` (STEWARD_DASHBOARD_ADMINS). Workspace admins are not deployment admins.
 */
export function isDeploymentAdmin(session: Session, admins: readonly string[]): boolean {
  return session.via === 'link' || admins.includes(`${session.via}:${session.actor.id}`);
}

export function grantFor(session: Session, platform: string, workspaceId: string): Grant | undefined {
  return session.grants.find((g) => g.platform === platform && g.workspaceId === workspaceId);
}
