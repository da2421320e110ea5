import { EmulatedInteractions } from './interactions.ts';
import type { EmulatorState } from './state.ts';
import { snowflake } from './state.ts';

export interface RestRequest {
  method: string;
  /** Path without the /api/vN prefix. */
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown> | null;
  authorized: boolean;
}

export interface RestResponse {
  status: number;
  body?: unknown;
}

type Handler = (req: RestRequest, params: Record<string, string>) => RestResponse;

const notFound = (message: string, code: number): RestResponse => ({ status: 404, body: { message, code } });
const unknownMessage = () => notFound('Unknown Message', 10008);

/** The REST routes Steward uses, with Discord's status codes and error bodies. */
export class EmulatedRest {
  readonly interactions: EmulatedInteractions;
  private readonly routes: Array<{ method: string; pattern: RegExp; handler: Handler; auth: boolean }> = [];

  constructor(
    private readonly state: EmulatorState,
    private readonly gatewayUrl: () => string,
  ) {
    this.interactions = new EmulatedInteractions(state, (id, body) => this.editMessage(id, body));
    const i = this.interactions;
    const s = '(\\d+)';
    this.route('GET', '/gateway/bot', () => ({
      status: 200,
      body: {
        url: this.gatewayUrl(),
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
      },
    }));
    this.route('GET', '/users/@me', () => ({ status: 200, body: state.userPayload(state.botUser) }));
    this.route('GET', `/channels/${s}`, (_r, p) => this.getChannel(p[0]!));
    // Create DM: one DM channel per recipient, as Discord returns the existing one.
    this.route('POST', '/users/@me/channels', (r) => {
      const recipient = String(r.body?.recipient_id ?? '');
      if (!/^\d+$/.test(recipient))
        return { status: 400, body: { message: 'Invalid Form Body', code: 50035 } };
      const channel = state.dmChannel(recipient);
      return { status: 200, body: state.channelPayload(channel) };
    });
    this.route('POST', `/channels/${s}/typing`, () => ({ status: 204 }));
    this.route('GET', `/channels/${s}/messages/${s}`, (_r, p) => {
      const message = state.messages.get(p[1]!);
      return message && message.channel_id === p[0] ? { status: 200, body: message } : unknownMessage();
    });
    this.route('GET', `/channels/${s}/messages`, (r, p) => {
      // Newest first, like Discord; `before` and `limit` (default 50, at most 100) are honoured.
      const before = r.query.get('before');
      const limit = Math.min(100, Number(r.query.get('limit') ?? 50));
      const list = [...state.messages.values()]
        .filter((m) => m.channel_id === p[0] && (!before || BigInt(m.id) < BigInt(before)))
        .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1))
        .slice(0, limit);
      return { status: 200, body: list };
    });
    this.route('POST', `/channels/${s}/messages`, (r, p) => this.createMessage(p[0]!, r.body ?? {}));
    this.route('PATCH', `/channels/${s}/messages/${s}`, (r, p) => this.editMessage(p[1]!, r.body ?? {}));
    this.route('DELETE', `/channels/${s}/messages/${s}`, (_r, p) => {
      const message = state.messages.get(p[1]!);
      if (!message) return unknownMessage();
      state.messages.delete(message.id);
      state.deleted.set(message.id, message);
      return { status: 204 };
    });
    this.route('PUT', `/channels/${s}/messages/${s}/reactions/([^/]+)/@me`, (_r, p) => {
      const message = state.messages.get(p[1]!);
      if (!message) return unknownMessage();
      const emoji = decodeURIComponent(p[2]!);
      const reactions =
        (message.reactions as Array<{ emoji: { name: string }; me: boolean; count: number }>) ?? [];
      if (!reactions.some((x) => x.emoji.name === emoji))
        reactions.push({ emoji: { name: emoji }, me: true, count: 1 });
      message.reactions = reactions;
      return { status: 204 };
    });
    this.route('GET', `/guilds/${s}/members/${s}`, (_r, p) => {
      const member = state.member(p[0]!, p[1]!);
      return member
        ? { status: 200, body: state.memberPayload(p[0]!, member) }
        : notFound('Unknown Member', 10007);
    });
    this.route('PATCH', `/guilds/${s}/members/${s}`, (r, p) => {
      const member = state.member(p[0]!, p[1]!);
      if (!member) return notFound('Unknown Member', 10007);
      if (r.body && 'communication_disabled_until' in r.body) {
        member.communicationDisabledUntil = r.body.communication_disabled_until as string | null;
      }
      return { status: 200, body: state.memberPayload(p[0]!, member) };
    });
    this.route('GET', `/guilds/${s}/auto-moderation/rules`, (_r, p) => ({
      status: 200,
      body: state.autoModRules.get(p[0]!) ?? [],
    }));
    this.route('POST', `/guilds/${s}/auto-moderation/rules`, (r, p) => {
      const body = r.body ?? {};
      // Discord refuses a keyword rule without keywords, and a rule without a trigger type.
      const keywords = (body.trigger_metadata as { keyword_filter?: unknown[] } | undefined)?.keyword_filter;
      if (body.trigger_type !== 1 || (body.enabled !== false && !keywords?.length))
        return { status: 400, body: { message: 'Invalid Form Body', code: 50035 } };
      const rule = { ...body, id: snowflake(), guild_id: p[0]! };
      state.autoModRules.set(p[0]!, [...(state.autoModRules.get(p[0]!) ?? []), rule]);
      return { status: 200, body: rule };
    });
    this.route('PATCH', `/guilds/${s}/auto-moderation/rules/${s}`, (r, p) => {
      const rules = state.autoModRules.get(p[0]!) ?? [];
      const rule = rules.find((x) => x.id === p[1]);
      if (!rule) return notFound('Unknown auto moderation rule', 10066);
      Object.assign(rule, r.body ?? {}, { id: rule.id });
      return { status: 200, body: rule };
    });
    this.route('GET', `/applications/${s}/commands`, () => ({
      status: 200,
      body: [...state.commands.values()],
    }));
    this.route('POST', `/applications/${s}/commands`, (r) => this.upsertCommand(r.body ?? {}));
    this.route('PUT', `/applications/${s}/commands`, (r) => {
      state.commands.clear();
      const list = (r.body as unknown as Array<Record<string, unknown>>) ?? [];
      return { status: 200, body: list.map((c) => this.upsertCommand(c).body) };
    });
    this.route('DELETE', `/applications/${s}/commands/${s}`, (_r, p) =>
      state.commands.delete(p[1]!) ? { status: 204 } : notFound('Unknown application command', 10063),
    );
    // Interaction callbacks and webhooks authenticate by the interaction token in the path, not the bot token.
    this.route('POST', `/interactions/${s}/([^/]+)/callback`, (r, p) => i.callback(p[0]!, p[1]!, r), false);
    this.route(
      'PATCH',
      `/webhooks/${s}/([^/]+)/messages/@original`,
      (r, p) => i.editOriginal(p[1]!, r),
      false,
    );
    this.route('GET', `/webhooks/${s}/([^/]+)/messages/@original`, (_r, p) => i.getOriginal(p[1]!), false);
    this.route('POST', `/webhooks/${s}/([^/]+)`, (r, p) => i.followup(p[1]!, r), false);
  }

  handle(req: RestRequest): RestResponse {
    for (const route of this.routes) {
      if (route.method !== req.method) continue;
      const match = route.pattern.exec(req.path);
      if (!match) continue;
      if (route.auth && !req.authorized)
        return { status: 401, body: { message: '401: Unauthorized', code: 0 } };
      return route.handler(req, match.slice(1) as unknown as Record<string, string>);
    }
    return { status: 404, body: { message: '404: Not Found', code: 0 } };
  }

  private route(method: string, path: string, handler: Handler, auth = true): void {
    this.routes.push({ method, pattern: new RegExp(`^${path}$`), handler, auth });
  }

  private getChannel(id: string): RestResponse {
    const channel = this.state.channels.get(id);
    return channel
      ? { status: 200, body: this.state.channelPayload(channel) }
      : notFound('Unknown Channel', 10003);
  }

  /** A bot-authored message; honours nonce + enforce_nonce like Discord (same nonce → the same message back). */
  private createMessage(channelId: string, body: Record<string, unknown>): RestResponse {
    const channel = this.state.channels.get(channelId);
    if (!channel) return notFound('Unknown Channel', 10003);
    const content = (body.content as string | undefined) ?? '';
    if (content.length > 2000) {
      return {
        status: 400,
        body: { message: 'Invalid Form Body', code: 50035, errors: { content: 'too long' } },
      };
    }
    const nonce = body.nonce === undefined ? undefined : String(body.nonce);
    if (nonce && body.enforce_nonce) {
      const existing = this.state.nonces.get(`${channelId}:${nonce}`);
      const message = existing ? this.state.messages.get(existing) : undefined;
      if (message) return { status: 200, body: message };
    }
    const reference = body.message_reference as { message_id?: string } | undefined;
    if (reference?.message_id && !this.state.messages.has(reference.message_id)) {
      return {
        status: 400,
        body: { message: 'Invalid Form Body', code: 50035, errors: { message_reference: 'Unknown message' } },
      };
    }
    const message = this.state.storeMessage({
      channelId,
      author: this.state.botUser,
      content,
      embeds: (body.embeds as unknown[]) ?? [],
      components: (body.components as unknown[]) ?? [],
      replyTo: reference?.message_id,
      nonce,
    });
    if (nonce) this.state.nonces.set(`${channelId}:${nonce}`, message.id);
    return { status: 200, body: message };
  }

  private editMessage(id: string, body: Record<string, unknown>): RestResponse {
    const message = this.state.messages.get(id);
    if (!message) return unknownMessage();
    for (const key of ['content', 'embeds', 'components', 'flags'] as const) {
      if (key in body) message[key] = body[key];
    }
    message.edited_timestamp = new Date().toISOString();
    return { status: 200, body: message };
  }

  private upsertCommand(body: Record<string, unknown>): RestResponse {
    const existing = [...this.state.commands.values()].find((c) => c.name === body.name);
    const id = (existing?.id as string | undefined) ?? snowflake();
    const command = {
      ...body,
      id,
      application_id: this.state.applicationId,
      type: body.type ?? 1,
      version: snowflake(),
      default_member_permissions: body.default_member_permissions ?? null,
      nsfw: false,
    };
    this.state.commands.set(id, command);
    return { status: existing ? 200 : 201, body: command };
  }
}
