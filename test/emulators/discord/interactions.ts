import type { RestRequest, RestResponse } from './rest.ts';
import type { EmulatorState, RawMessage } from './state.ts';
import { snowflake } from './state.ts';

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

const notFound = (message: string, code: number): RestResponse => ({ status: 404, body: { message, code } });

/** Interaction callbacks and the interaction webhook (edit original, follow-ups), with Discord's rules. */
export class EmulatedInteractions {
  readonly records = new Map<string, InteractionRecord>();

  constructor(
    private readonly state: EmulatorState,
    private readonly editMessage: (id: string, body: Record<string, unknown>) => RestResponse,
  ) {}

  private find(token: string): InteractionRecord | undefined {
    return [...this.records.values()].find((i) => i.token === token);
  }

  callback(id: string, token: string, req: RestRequest): RestResponse {
    const record = this.records.get(id);
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

  editOriginal(token: string, req: RestRequest): RestResponse {
    const record = this.find(token);
    if (!record || record.callbacks.length === 0) return notFound('Unknown Webhook', 10015);
    const componentUpdate = record.callbacks[0]!.type === 6 || record.callbacks[0]!.type === 7;
    if (componentUpdate && record.messageId) return this.editMessage(record.messageId, req.body ?? {});
    record.original = { ...record.original, ...req.body, pending: false };
    return { status: 200, body: this.asMessage(record, record.original) };
  }

  getOriginal(token: string): RestResponse {
    const record = this.find(token);
    if (!record?.original) return notFound('Unknown Message', 10008);
    return { status: 200, body: this.asMessage(record, record.original) };
  }

  followup(token: string, req: RestRequest): RestResponse {
    const record = this.find(token);
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
