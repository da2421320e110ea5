import { type EmuMessage, type EmuToken, messageJson, type SlackWorkspace, userJson } from './state.ts';

/** A Web API error: HTTP 200 with `{ ok: false, error }`, as Slack answers. */
export class ApiError extends Error {
  constructor(readonly error: string) {
    super(error);
  }
}

export type Params = Record<string, unknown>;
type Handler = (params: Params, caller: EmuToken, ws: SlackWorkspace) => Record<string, unknown>;

/** Slack's hard limit on a message's text. */
export const SLACK_TEXT_LIMIT = 40_000;

const str = (params: Params, key: string): string => {
  const value = params[key];
  if (typeof value !== 'string' || value === '')
    throw new ApiError(key === 'channel' ? 'channel_not_found' : `invalid_arguments`);
  return value;
};

/** Form bodies carry blocks as a JSON string; JSON bodies carry them as an array. */
function blocksOf(params: Params): unknown[] | undefined {
  const raw = params.blocks;
  if (raw === undefined) return undefined;
  const parsed = typeof raw === 'string' ? JSON.parse(raw) : raw;
  if (!Array.isArray(parsed)) throw new ApiError('invalid_blocks');
  return parsed;
}

function channelOf(params: Params, ws: SlackWorkspace) {
  const channel = ws.resolveChannel(str(params, 'channel'));
  if (!channel) throw new ApiError('channel_not_found');
  return channel;
}

function messageOf(params: Params, ws: SlackWorkspace, tsKey = 'ts') {
  const channel = channelOf(params, ws);
  const message = ws.findMessage(channel.id, str(params, tsKey));
  if (!message) throw new ApiError('message_not_found');
  return message;
}

function textOf(params: Params): { text: string; blocks: unknown[] | undefined } {
  const text = typeof params.text === 'string' ? params.text : '';
  const blocks = blocksOf(params);
  if (text === '' && !blocks) throw new ApiError('no_text');
  if (text.length > SLACK_TEXT_LIMIT) throw new ApiError('msg_too_long');
  return { text, blocks };
}

/** Message metadata as postMessage takes it: an object (JSON bodies) or its JSON (form bodies). */
function metadataOf(params: Params): EmuMessage['metadata'] {
  const raw = params.metadata;
  if (raw === undefined) return undefined;
  const parsed = typeof raw === 'string' ? JSON.parse(raw) : raw;
  if (typeof parsed?.event_type !== 'string' || typeof parsed?.event_payload !== 'object')
    throw new ApiError('invalid_metadata_format');
  return parsed;
}

const withMetadata = (params: Params) =>
  params.include_all_metadata === true || params.include_all_metadata === 'true';

const authorOf = (caller: EmuToken, ws: SlackWorkspace) =>
  caller.kind === 'bot' ? { user: caller.userId, botId: ws.bot.botId } : { user: caller.userId };

export const METHODS: Record<string, Handler> = {
  'auth.test': (_p, caller, ws) => ({
    url: `https://${ws.team.domain}.slack.com/`,
    team: ws.team.name,
    team_id: ws.team.id,
    user: ws.users.get(caller.userId)?.name ?? caller.userId,
    user_id: caller.userId,
    ...(caller.kind === 'bot' ? { bot_id: ws.bot.botId } : {}),
    is_enterprise_install: false,
  }),

  'chat.postMessage': (params, caller, ws) => {
    const channel = channelOf(params, ws);
    const { text, blocks } = textOf(params);
    const threadTs =
      typeof params.thread_ts === 'string' && params.thread_ts !== '' ? params.thread_ts : undefined;
    if (threadTs && !ws.findMessage(channel.id, threadTs)) throw new ApiError('thread_not_found');
    const metadata = metadataOf(params);
    const message = ws.addMessage({
      channel: channel.id,
      text,
      ...(metadata ? { metadata } : {}),
      ...authorOf(caller, ws),
      ...(blocks ? { blocks } : {}),
      ...(threadTs ? { threadTs } : {}),
    });
    return { channel: channel.id, ts: message.ts, message: messageJson(message) };
  },

  'chat.postEphemeral': (params, _caller, ws) => {
    channelOf(params, ws);
    const user = str(params, 'user');
    if (!ws.users.has(user)) throw new ApiError('user_not_found');
    textOf(params);
    return { message_ts: ws.nextTs() };
  },

  'chat.update': (params, caller, ws) => {
    const message = messageOf(params, ws);
    if (message.user !== caller.userId) throw new ApiError('cant_update_message');
    const { text, blocks } = textOf(params);
    message.text = text;
    if (blocks) message.blocks = blocks;
    message.edited = true;
    return { channel: message.channel, ts: message.ts, text, message: messageJson(message) };
  },

  'chat.delete': (params, caller, ws) => {
    const message = messageOf(params, ws);
    // A bot token deletes only the bot's own messages; an admin's user token may delete anyone's.
    const admin =
      caller.kind === 'user' &&
      (ws.users.get(caller.userId)?.isAdmin || ws.users.get(caller.userId)?.isOwner);
    if (message.user !== caller.userId && !admin) throw new ApiError('cant_delete_message');
    message.deleted = true;
    return { channel: message.channel, ts: message.ts };
  },

  'chat.getPermalink': (params, _caller, ws) => {
    const channel = channelOf(params, ws);
    const ts = str(params, 'message_ts');
    if (!ws.findMessage(channel.id, ts)) throw new ApiError('message_not_found');
    return {
      channel: channel.id,
      permalink: `https://${ws.team.domain}.slack.com/archives/${channel.id}/p${ts.replace('.', '')}`,
    };
  },

  'reactions.add': (params, caller, ws) => {
    const message = messageOf(params, ws, 'timestamp');
    const name = str(params, 'name');
    if (!/^[a-z0-9_+'-]+$/.test(name)) throw new ApiError('invalid_name');
    let reaction = message.reactions.find((r) => r.name === name);
    if (!reaction) {
      reaction = { name, users: [] };
      message.reactions.push(reaction);
    }
    if (reaction.users.includes(caller.userId)) throw new ApiError('already_reacted');
    reaction.users.push(caller.userId);
    return {};
  },

  'users.info': (params, _caller, ws) => {
    const user = ws.users.get(str(params, 'user'));
    if (!user) throw new ApiError('user_not_found');
    return { user: userJson(user, ws.team.id) };
  },

  'conversations.info': (params, _caller, ws) => {
    const channel = channelOf(params, ws);
    return { channel: { id: channel.id, name: channel.name, is_im: channel.isIm ?? false, is_member: true } };
  },

  'conversations.replies': (params, _caller, ws) => {
    const channel = channelOf(params, ws);
    const thread = ws.thread(channel.id, str(params, 'ts'));
    if (thread.length === 0) throw new ApiError('thread_not_found');
    const limit = Number(params.limit ?? 1000);
    return {
      messages: thread.slice(0, limit).map((m) => messageJson(m, withMetadata(params))),
      has_more: thread.length > limit,
    };
  },

  // Top-level messages of a channel, newest first (one page; enough for the tests); `latest` and `inclusive` as
  // Slack reads them (a single message is history with latest = its ts, inclusive, limit 1).
  'conversations.history': (params, _caller, ws) => {
    const channel = channelOf(params, ws);
    const oldest = Number(params.oldest ?? 0);
    const latest = params.latest === undefined ? Number.POSITIVE_INFINITY : Number(params.latest);
    const inclusive = params.inclusive === true || params.inclusive === 'true' || params.inclusive === '1';
    const limit = Number(params.limit ?? 100);
    const messages = ws.messages
      .filter((m) => m.channel === channel.id && !m.deleted && (!m.threadTs || m.threadTs === m.ts))
      .filter((m) => Number(m.ts) >= oldest)
      .filter((m) => Number(m.ts) < latest || (inclusive && Number(m.ts) === latest))
      .sort((a, b) => Number(b.ts) - Number(a.ts));
    return {
      messages: messages.slice(0, limit).map((m) => messageJson(m, withMetadata(params))),
      has_more: messages.length > limit,
    };
  },

  // A modal opened from a click: the trigger_id must come from an interaction (the sender's end in `.trigger`).
  'views.open': (params) => {
    const trigger = str(params, 'trigger_id');
    if (!trigger.endsWith('.trigger')) throw new ApiError('invalid_trigger_id');
    const view = typeof params.view === 'string' ? JSON.parse(params.view) : params.view;
    if (view?.type !== 'modal' || !Array.isArray(view.blocks)) throw new ApiError('invalid_arguments');
    return { view: { id: `V${Date.now()}`, ...view } };
  },

  'conversations.open': (params, _caller, ws) => {
    const user = str(params, 'users').split(',')[0]!;
    if (!ws.users.has(user)) throw new ApiError('user_not_found');
    return { channel: { id: ws.dmWith(user).id } };
  },
};
