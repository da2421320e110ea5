import { createHmac, randomBytes } from 'node:crypto';
import type { SlackEmulator } from './server.ts';
import { messageJson } from './state.ts';

/** How a request is signed: correctly, with a wrong secret, with a timestamp over 5 minutes old, or not at all. */
export type Signing = 'valid' | 'forged' | 'stale' | 'missing';

export interface SendOptions {
  signing?: Signing;
  /** Sets x-slack-retry-num (and x-slack-retry-reason), as Slack does when it re-sends an event. */
  retryNum?: number;
  retryReason?: string;
  /** Seconds added to the request timestamp (a real re-send is signed anew, later; negative = earlier). */
  timestampOffsetSec?: number;
  /** Signs with exactly this timestamp (to send the very same signed request twice). */
  timestampSec?: number;
}

export interface SentResponse {
  status: number;
  body: string;
}

/** Slack's v0 signature: HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the signing secret, hex. */
export function slackSignature(secret: string, timestampSec: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestampSec}:${body}`).digest('hex')}`;
}

export interface SignedSenderOptions {
  /** The Bolt receiver's events URL, e.g. http://127.0.0.1:PORT/slack/events. */
  url: string;
  signingSecret: string;
  emulator: SlackEmulator;
}

/** Sends what Slack would send to the Bolt receiver: signed events, slash commands and button clicks. */
export class SignedSender {
  readonly #o: SignedSenderOptions;

  constructor(options: SignedSenderOptions) {
    this.#o = options;
  }

  async post(body: string, contentType: string, options: SendOptions = {}): Promise<SentResponse> {
    const signing = options.signing ?? 'valid';
    const now = Math.floor(Date.now() / 1000);
    const timestamp =
      options.timestampSec ?? (signing === 'stale' ? now - 6 * 60 : now) + (options.timestampOffsetSec ?? 0);
    const secret = signing === 'forged' ? `not-${this.#o.signingSecret}` : this.#o.signingSecret;
    const headers: Record<string, string> = { 'content-type': contentType };
    if (signing !== 'missing') {
      headers['x-slack-request-timestamp'] = String(timestamp);
      headers['x-slack-signature'] = slackSignature(secret, timestamp, body);
    }
    if (options.retryNum !== undefined) {
      headers['x-slack-retry-num'] = String(options.retryNum);
      headers['x-slack-retry-reason'] = options.retryReason ?? 'http_timeout';
    }
    const response = await fetch(this.#o.url, { method: 'POST', headers, body });
    return { status: response.status, body: await response.text() };
  }

  /** An Events API envelope around `event`; the same `eventId` marks a re-send of the same event. */
  event(
    event: Record<string, unknown>,
    options: SendOptions & { eventId?: string } = {},
  ): Promise<SentResponse> {
    const envelope = eventEnvelope(this.#o.emulator, event, options.eventId);
    return this.post(JSON.stringify(envelope), 'application/json', options);
  }

  /**
   * A member posts in a channel: the message is stored in the emulated workspace (so conversations.replies,
   * reactions and chat.delete find it) and the matching `message` or `app_mention` event payload is returned.
   */
  say(input: {
    channel: string;
    user: string;
    text: string;
    threadTs?: string;
    type?: 'message' | 'app_mention';
  }) {
    const ws = this.#o.emulator.workspace;
    const message = ws.addMessage({
      channel: input.channel,
      user: input.user,
      text: input.text,
      ...(input.threadTs ? { threadTs: input.threadTs } : {}),
    });
    const channel = ws.channels.get(input.channel);
    const event = {
      ...messageJson(message),
      type: input.type ?? 'message',
      channel: input.channel,
      channel_type: channel?.isIm ? 'im' : 'channel',
      team: ws.team.id,
      event_ts: message.ts,
    };
    return { message, event };
  }

  /** `/steward <text>` typed by `userId` in `channelId` (form-encoded, with a response_url on the emulator). */
  command(input: CommandInput, options: SendOptions = {}) {
    const fields = commandFields(this.#o.emulator, input);
    const form = new URLSearchParams(fields);
    return this.post(form.toString(), 'application/x-www-form-urlencoded', options).then((r) => ({
      ...r,
      responseUrl: fields.response_url!,
    }));
  }

  /** A button click on a message the bot posted (block_actions, form field `payload`). */
  blockAction(
    input: {
      userId: string;
      channelId: string;
      messageTs: string;
      actionId: string;
      value: string;
      teamId?: string;
    },
    options: SendOptions = {},
  ) {
    const ws = this.#o.emulator.workspace;
    const responseUrl = this.#o.emulator.responseUrl();
    const message = ws.findMessage(input.channelId, input.messageTs);
    const payload = {
      type: 'block_actions',
      user: {
        id: input.userId,
        username: ws.users.get(input.userId)?.name ?? 'unknown',
        team_id: ws.team.id,
      },
      api_app_id: 'A0STEWARD',
      token: 'legacy-verification-token',
      container: {
        type: 'message',
        message_ts: input.messageTs,
        channel_id: input.channelId,
        is_ephemeral: false,
      },
      trigger_id: `${Date.now()}.trigger`,
      team: { id: input.teamId ?? ws.team.id, domain: ws.team.domain },
      channel: { id: input.channelId, name: ws.channels.get(input.channelId)?.name ?? 'unknown' },
      message: message ? { ...messageJson(message), type: 'message' } : { ts: input.messageTs, text: '' },
      response_url: responseUrl,
      actions: [
        {
          type: 'button',
          action_id: input.actionId,
          block_id: 'steward-alert-actions',
          value: input.value,
          text: { type: 'plain_text', text: input.actionId },
          action_ts: `${Date.now() / 1000}`,
        },
      ],
    };
    const form = new URLSearchParams({ payload: JSON.stringify(payload) });
    return this.post(form.toString(), 'application/x-www-form-urlencoded', options).then((r) => ({
      ...r,
      responseUrl,
    }));
  }

  /** A modal submitted (view_submission, form field `payload`). */
  viewSubmission(input: ViewSubmissionInput, options: SendOptions = {}) {
    const ws = this.#o.emulator.workspace;
    const teamId = input.teamId ?? ws.team.id;
    const values = Object.fromEntries(
      Object.entries(input.values).map(([block, actions]) => [
        block,
        Object.fromEntries(
          Object.entries(actions).map(([id, value]) => [id, { type: 'plain_text_input', value }]),
        ),
      ]),
    );
    const payload = {
      type: 'view_submission',
      team: { id: teamId, domain: ws.team.domain },
      user: { id: input.userId, username: ws.users.get(input.userId)?.name ?? 'unknown', team_id: teamId },
      api_app_id: 'A0STEWARD',
      token: 'legacy-verification-token',
      trigger_id: `${Date.now()}.trigger`,
      view: {
        id: `V${Date.now()}`,
        team_id: teamId,
        type: 'modal',
        callback_id: input.callbackId,
        private_metadata: input.privateMetadata,
        state: { values },
        hash: 'h',
        app_id: 'A0STEWARD',
        bot_id: ws.bot.botId,
      },
    };
    const form = new URLSearchParams({ payload: JSON.stringify(payload) });
    return this.post(form.toString(), 'application/x-www-form-urlencoded', options);
  }
}

export interface ViewSubmissionInput {
  userId: string;
  callbackId: string;
  privateMetadata: string;
  /** state.values: block id → action id → value. */
  values: Record<string, Record<string, string>>;
  /** The team the submission comes from (default the emulated workspace's). */
  teamId?: string;
}

export interface CommandInput {
  userId: string;
  channelId: string;
  text: string;
  command?: string;
}

/** The Events API body Slack wraps around an event (HTTP request body, or Socket Mode envelope payload). */
export function eventEnvelope(emulator: SlackEmulator, event: Record<string, unknown>, eventId?: string) {
  const ws = emulator.workspace;
  return {
    token: 'legacy-verification-token',
    team_id: ws.team.id,
    api_app_id: 'A0STEWARD',
    event,
    type: 'event_callback',
    event_id: eventId ?? `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      { team_id: ws.team.id, user_id: ws.bot.userId, is_bot: true, is_enterprise_install: false },
    ],
    is_ext_shared_channel: false,
  };
}

/** The fields of a slash-command request, with a fresh response_url on the emulator. */
export function commandFields(emulator: SlackEmulator, input: CommandInput): Record<string, string> {
  const ws = emulator.workspace;
  return {
    token: 'legacy-verification-token',
    team_id: ws.team.id,
    team_domain: ws.team.domain,
    channel_id: input.channelId,
    channel_name: ws.channels.get(input.channelId)?.name ?? 'unknown',
    user_id: input.userId,
    user_name: ws.users.get(input.userId)?.name ?? 'unknown',
    command: input.command ?? '/steward',
    text: input.text,
    api_app_id: 'A0STEWARD',
    response_url: emulator.responseUrl(),
    trigger_id: `${Date.now()}.trigger`,
  };
}
