import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';

/** An acknowledgement the app sent back over the socket (with the response payload, if any). */
export interface SocketAck {
  envelopeId: string;
  payload: unknown;
  at: number;
}

type EnvelopeType = 'events_api' | 'slash_commands' | 'interactive';

interface Envelope {
  envelopeId: string;
  type: EnvelopeType;
  payload: unknown;
  retryAttempt: number;
  /** The connection it was last sent over; null while it waits for one. */
  sentTo: WebSocket | null;
}

/**
 * Slack's Socket Mode side: apps.connections.open hands out a ws:// URL here; on connect the app gets `hello`,
 * then envelopes (events_api, slash_commands, interactive) that it must acknowledge with their envelope_id.
 * Like Slack, it keeps events that no app is connected for, and re-sends (retry_attempt + 1) the ones a dropped
 * connection never acknowledged, once the app is back.
 */
export class SocketModeEndpoint {
  readonly acks: SocketAck[] = [];
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #sockets = new Set<WebSocket>();
  readonly #tickets = new Set<string>();
  /** Sent (or waiting to be) and not acknowledged yet, oldest first. */
  readonly #unacked = new Map<string, Envelope>();
  /** Connections the app opened so far (a reconnect adds one). */
  connections = 0;
  #pinger: NodeJS.Timeout | null = null;

  constructor() {
    this.#wss.on('connection', (socket) => this.#onConnection(socket));
  }

  /** A one-time connection URL, as apps.connections.open returns. */
  openUrl(origin: string): string {
    const ticket = randomBytes(8).toString('hex');
    this.#tickets.add(ticket);
    return `${origin.replace(/^http/, 'ws')}/socket-mode?ticket=${ticket}`;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const ticket = new URL(req.url ?? '/', 'http://x').searchParams.get('ticket') ?? '';
    if (!this.#tickets.delete(ticket)) {
      socket.destroy();
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#wss.emit('connection', ws, req));
  }

  get connected(): number {
    return this.#sockets.size;
  }

  #onConnection(socket: WebSocket): void {
    this.#sockets.add(socket);
    this.connections += 1;
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
      if (message.envelope_id) {
        this.#unacked.delete(message.envelope_id);
        this.acks.push({ envelopeId: message.envelope_id, payload: message.payload, at: Date.now() });
      }
    });
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.#sockets.size,
        connection_info: { app_id: 'A0STEWARD' },
      }),
    );
    // Slack pings every few seconds; the client reconnects when pings stop.
    this.#pinger ??= setInterval(() => {
      for (const s of this.#sockets) s.ping();
    }, 5_000).unref();
    // What an earlier connection never acknowledged (or no connection was there for), re-sent as retries.
    for (const envelope of this.#unacked.values()) {
      if (envelope.sentTo !== null && this.#sockets.has(envelope.sentTo)) continue; // still in flight there
      if (envelope.sentTo !== null) envelope.retryAttempt += 1;
      this.#deliver(envelope, socket);
    }
  }

  /**
   * Sends an envelope to the connected app and returns its id (await the ack with acks / waitFor). With no app
   * connected it waits for the next connection.
   */
  send(type: EnvelopeType, payload: unknown, retryAttempt = 0): string {
    const envelope = {
      envelopeId: randomBytes(8).toString('hex'),
      type,
      payload,
      retryAttempt,
      sentTo: null,
    };
    this.#unacked.set(envelope.envelopeId, envelope);
    const socket = [...this.#sockets][0];
    if (socket) this.#deliver(envelope, socket);
    return envelope.envelopeId;
  }

  /** Envelopes not acknowledged yet. */
  get unacked(): number {
    return this.#unacked.size;
  }

  /** Slack's retry: re-sends (retry_attempt + 1) every envelope the live connection has not acknowledged. */
  resend(): number {
    let sent = 0;
    for (const envelope of this.#unacked.values()) {
      if (envelope.sentTo === null || !this.#sockets.has(envelope.sentTo)) continue;
      envelope.retryAttempt += 1;
      this.#deliver(envelope, envelope.sentTo);
      sent += 1;
    }
    return sent;
  }

  /** The network drops every connection at once (no close frame): the app must notice and reconnect. */
  drop(): void {
    for (const socket of this.#sockets) socket.terminate();
  }

  #deliver(envelope: Envelope, socket: WebSocket): void {
    envelope.sentTo = socket;
    socket.send(
      JSON.stringify({
        envelope_id: envelope.envelopeId,
        type: envelope.type,
        payload: envelope.payload,
        accepts_response_payload: envelope.type !== 'events_api',
        retry_attempt: envelope.retryAttempt,
        retry_reason: envelope.retryAttempt > 0 ? 'timeout' : '',
      }),
    );
  }

  close(): void {
    if (this.#pinger) clearInterval(this.#pinger);
    for (const socket of this.#sockets) socket.terminate();
    this.#wss.close();
  }
}
