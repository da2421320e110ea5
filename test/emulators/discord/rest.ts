import type { EmulatorState, RawMessage } from './state.ts';
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

/** One interaction the test pushed, and everything the bot answered to it. */
export interface InteractionRecord {
  id: string;
  token: string;
  type: number;
  channelId: string;
  guildId?: string;
  /** The message a component sits on (buttons). */
  messageId?: string;
  createdAt: number;
  /** Callback bodies in order; Discord accepts only the first. */
  callbacks: Array<{ type: number; data?: Record<string, unknown>; at: number }>;
  /** The reply (or, for components, the updated message), as the bot last left it. */
  original?: Record<string, unknown>;
  followups: Array<Record<string, unknown>>;
}

type Handler = (req: RestRequest, params: Record<string, string>) => RestResponse;

const notFound = (message: string, code: number): RestResponse => ({ status: 404, body: { message, code } });
const unknownMessage = () => notFound('Unknown Message', 10008);

/** The REST routes Steward uses, with Discord's status codes and error bodies. */
export class EmulatedRest {
  readonly interactions = new Map<string, InteractionRecord>();
  private readonly routes: Array<{ method: string; pattern: RegExp; handler: Handler; auth: boolean }> = [];

  constructor(
    private readonly state: EmulatorState,
    private readonly gatewayUrl: () => string,
  ) {
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
    this.route('POST', `/channels/${s}/typing`, () => ({ status: 204 }));
    this.route('GET', `/channels/${s}/messages/${s}`, (_r, p) => {
      const message = state.messages.get(p[1]!);
      return message && message.channel_id === p[0] ? { status: 200, body: message } : unknownMessage();
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
    this.route(
      'POST',
      `/interactions/${s}/([^/]+)/callback`,
      (r, p) => this.callback(p[0]!, p[1]!, r),
      false,
    );
    this.route(
      'PATCH',
      `/webhooks/${s}/([^/]+)/messages/@original`,
      (r, p) => this.editOriginal(p[1]!, r),
      false,
    );
    this.route('GET', `/webhooks/${s}/([^/]+)/messages/@original`, (_r, p) => this.getOriginal(p[1]!), false);
    this.route('POST', `/webhooks/${s}/([^/]+)`, (r, p) => this.followup(p[1]!, r), false);
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

  private interaction(token: string): InteractionRecord | undefined {
    return [...this.interactions.values()].find((i) => i.token === token);
  }

  private callback(id: string, token: string, req: RestRequest): RestResponse {
    const record = this.interactions.get(id);
    if (!record || record.token !== token) return notFound('Unknown interaction', 10062);
    if (record.callbacks.length > 0) {
      return { status: 400, body: { message: 'Interaction has already been acknowledged.', code: 40060 } };
    }
    // Discord drops interactions not acknowledged within 3 seconds.
    if (Date.now() - record.createdAt > 3000) return notFound('Unknown interaction', 10062);
    const type = Number(req.body?.type);
    const data = (req.body?.data as Record<string, unknown> | undefined) ?? undefined;
    record.callbacks.push({ type, data, at: Date.now() });
    if (type === 4) record.original = { ...data };
    else if (type === 5) record.original = { flags: data?.flags ?? 0, pending: true };
    else if (type === 7 && record.messageId) this.editMessage(record.messageId, data ?? {});
    if (req.query.get('with_response') === 'true') {
      return {
        status: 200,
        body: {
          interaction: { id, type: record.type },
          resource: { type, message: record.original ?? null },
        },
      };
    }
    return { status: 204 };
  }

  private editOriginal(token: string, req: RestRequest): RestResponse {
    const record = this.interaction(token);
    if (!record || record.callbacks.length === 0) return notFound('Unknown Webhook', 10015);
    const componentUpdate = record.callbacks[0]!.type === 6 || record.callbacks[0]!.type === 7;
    if (componentUpdate && record.messageId) return this.editMessage(record.messageId, req.body ?? {});
    record.original = { ...record.original, ...req.body, pending: false };
    return { status: 200, body: this.asMessage(record, record.original) };
  }

  private getOriginal(token: string): RestResponse {
    const record = this.interaction(token);
    if (!record?.original) return notFound('Unknown Message', 10008);
    return { status: 200, body: this.asMessage(record, record.original) };
  }

  private followup(token: string, req: RestRequest): RestResponse {
    const record = this.interaction(token);
    if (!record || record.callbacks.length === 0) return notFound('Unknown Webhook', 10015);
    const data = req.body ?? {};
    record.followups.push(data);
    return { status: 200, body: this.asMessage(record, data) };
  }

  private asMessage(record: InteractionRecord, data: Record<string, unknown>): RawMessage {
    return {
      id: snowflake(),
      channel_id: record.channelId,
      author: this.state.userPayload(this.state.botUser) as never,
      content: '',
      embeds: [],
      components: [],
      attachments: [],
      mentions: [],
      mention_roles: [],
      pinned: false,
      tts: false,
      mention_everyone: false,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      type: 20,
      flags: 0,
      ...data,
    };
  }
}
