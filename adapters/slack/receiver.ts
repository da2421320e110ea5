import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import {
  type App,
  defaultBodyLimit,
  HTTPReceiver,
  type HTTPReceiverOptions,
  type ReceiverEvent,
  SocketModeReceiver,
  type SocketModeReceiverOptions,
} from '@slack/bolt';
import type { Logger } from '../../src/logger.ts';

/** How requests are screened before Bolt sees them. */
export interface RequestGateOptions {
  signingSecret: string;
  /** A request timestamp further than this from now, in either direction, is refused (the README's 5 minutes). */
  toleranceSec: number;
  /** A signature+timestamp seen within this window is a replay. */
  replayWindowMs: number;
  /** Most replay entries kept; past it the oldest go first (they are also the first to expire). */
  maxReplayEntries: number;
  bodyLimit: number;
  now: () => number;
}

export const DefaultRequestGateOptions = Object.freeze({
  toleranceSec: 300,
  replayWindowMs: 300_000,
  maxReplayEntries: 100_000,
  bodyLimit: defaultBodyLimit,
  now: Date.now,
}) satisfies Readonly<Omit<RequestGateOptions, 'signingSecret'>>;

export type GateVerdict = { ok: true; key?: string } | { ok: false; status: number; reason: string };

const refuse = (status: number, reason: string): GateVerdict => ({ ok: false, status, reason });

/**
 * Screens one Slack request: signature and timestamp (both directions), a replay of the same signed request, and a
 * body Bolt can read (a JSON object, or a form whose `payload` is one). Bolt verifies again; this is what it lacks:
 * future timestamps, replays, and bodies like `null` that crash its receiver.
 */
export class RequestGate {
  readonly #o: RequestGateOptions;
  /** signature → when it may be forgotten; insertion order is expiry order. */
  readonly #seen = new Map<string, number>();

  constructor(options: Pick<RequestGateOptions, 'signingSecret'> & Partial<RequestGateOptions>) {
    this.#o = { ...DefaultRequestGateOptions, ...options };
  }

  check(headers: IncomingHttpHeaders, rawBody: Buffer): GateVerdict {
    const text = rawBody.toString('utf8');
    const contentType = String(headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    const form = contentType === 'application/x-www-form-urlencoded';
    // Slack's SSL check is unsigned by design; Bolt answers it and drops anything smuggled beside it.
    if (form && parseQuery(text).ssl_check === '1') return { ok: true };
    const signature = headers['x-slack-signature'];
    const stamp = headers['x-slack-request-timestamp'];
    if (typeof signature !== 'string' || typeof stamp !== 'string') return refuse(401, 'unsigned request');
    if (!/^\d{1,12}$/.test(stamp)) return refuse(401, 'malformed timestamp');
    const now = this.#o.now();
    if (Math.abs(now / 1000 - Number(stamp)) > this.#o.toleranceSec)
      return refuse(401, 'timestamp more than 5 minutes off');
    const expected = `v0=${createHmac('sha256', this.#o.signingSecret).update(`v0:${stamp}:${text}`).digest('hex')}`;
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected)))
      return refuse(401, 'bad signature');
    const body = readBody(text, form);
    if (body !== null) return refuse(400, body);
    this.#forgetExpired(now);
    const key = `${stamp}:${signature}`;
    if (this.#seen.has(key)) return refuse(200, 'replayed request');
    if (this.#seen.size >= this.#o.maxReplayEntries) this.#seen.delete(this.#seen.keys().next().value!);
    this.#seen.set(key, now + this.#o.replayWindowMs);
    return { ok: true, key };
  }

  /** A request that failed on our side (a 5xx) may be sent again: it did not run. */
  forget(key: string): void {
    this.#seen.delete(key);
  }

  #forgetExpired(now: number): void {
    for (const [key, until] of this.#seen) {
      if (until > now) break;
      this.#seen.delete(key);
    }
  }
}

const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Null when Bolt can read the body; else why not. */
function readBody(text: string, form: boolean): string | null {
  try {
    if (form) {
      const { payload } = parseQuery(text);
      if (payload === undefined) return null;
      if (typeof payload !== 'string') return 'more than one payload field';
      return isObject(JSON.parse(payload)) ? null : 'payload is not a JSON object';
    }
    return isObject(JSON.parse(text)) ? null : 'body is not a JSON object';
  } catch {
    return 'body is not valid JSON';
  }
}

/** Reads a request body up to `limit` bytes; null when it is larger. */
function readRequest(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Bolt's HTTP receiver with a RequestGate in front of it: each POST is read, screened, and handed to Bolt
 * already buffered (Bolt reuses `rawBody`), so Bolt only ever parses bodies it can handle.
 */
export function guardedReceiver(
  options: HTTPReceiverOptions & { signingSecret: string },
  gate: RequestGate,
  log: Logger,
  bodyLimit: number = DefaultRequestGateOptions.bodyLimit,
): HTTPReceiver {
  const receiver = new HTTPReceiver(options);
  const bolt = receiver.requestListener;
  receiver.requestListener = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST') return bolt(req, res);
    screen(req, res).catch((error: unknown) => {
      log.error({ err: (error as Error).message }, 'screening a Slack request failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };
  async function screen(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readRequest(req, bodyLimit);
    const verdict: GateVerdict = raw ? gate.check(req.headers, raw) : refuse(413, 'body too large');
    if (!verdict.ok) {
      log.warn({ status: verdict.status, reason: verdict.reason }, 'Slack request refused');
      res.writeHead(verdict.status);
      res.end();
      return;
    }
    const key = verdict.key;
    if (key) res.on('finish', () => res.statusCode >= 500 && gate.forget(key));
    (req as IncomingMessage & { rawBody: Buffer }).rawBody = raw!;
    bolt(req, res);
  }
  return receiver;
}

/**
 * Bolt's Socket Mode receiver, with events acknowledged only once Steward's listeners finished (the message is
 * queued). Bolt acks an Events API envelope before its listeners run, so a message whose enqueue failed (Redis
 * away) would be acked and lost; unacknowledged, Slack re-sends it. What `processBeforeResponse` is over HTTP.
 * Commands and clicks keep Bolt's own acks (they ack at once and answer later).
 */
export function socketModeReceiver(options: {
  appToken: string;
  logger: SocketModeReceiverOptions['logger'];
  clientOptions: NonNullable<SocketModeReceiverOptions['installerOptions']>['clientOptions'];
}): SocketModeReceiver {
  const receiver = new SocketModeReceiver({
    appToken: options.appToken,
    ...(options.logger ? { logger: options.logger } : {}),
    installerOptions: { clientOptions: options.clientOptions },
  });
  const init = receiver.init.bind(receiver);
  receiver.init = (app: App) => {
    const deferring = {
      processEvent: async (event: ReceiverEvent) => {
        if ((event.body as { type?: unknown }).type !== 'event_callback') return app.processEvent(event);
        // Throws when a listener failed (app.error rethrows): the receiver then leaves the envelope unacked.
        await app.processEvent({ ...event, ack: async () => {} });
        await event.ack();
      },
    };
    init(deferring as unknown as App);
  };
  return receiver;
}
