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

/**
 * Slack's Socket Mode side: apps.connections.open hands out a ws:// URL here; on connect the app gets `hello`,
 * then envelopes (events_api, slash_commands, interactive) that it must acknowledge with their envelope_id.
 */
export class SocketModeEndpoint {
  readonly acks: SocketAck[] = [];
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #sockets = new Set<WebSocket>();
  readonly #tickets = new Set<string>();
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
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
      if (message.envelope_id)
        this.acks.push({ envelopeId: message.envelope_id, payload: message.payload, at: Date.now() });
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
  }

  /** Sends an envelope to the connected app and returns its id (await the ack with acks / waitFor). */
  send(type: 'events_api' | 'slash_commands' | 'interactive', payload: unknown, retryAttempt = 0): string {
    const socket = [...this.#sockets][0];
    if (!socket) throw new Error('Socket Mode: no app is connected');
    const envelopeId = randomBytes(8).toString('hex');
    socket.send(
      JSON.stringify({
        envelope_id: envelopeId,
        type,
        payload,
        accepts_response_payload: type !== 'events_api',
        retry_attempt: retryAttempt,
        retry_reason: retryAttempt > 0 ? 'timeout' : '',
      }),
    );
    return envelopeId;
  }

  close(): void {
    if (this.#pinger) clearInterval(this.#pinger);
    for (const socket of this.#sockets) socket.terminate();
    this.#wss.close();
  }
}
