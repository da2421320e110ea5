import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { GatewayIntentBits, GatewayOpcodes } from 'discord.js';
import { type WebSocket, WebSocketServer } from 'ws';
import type { EmulatorState } from './state.ts';

/** One identified gateway connection. */
interface Session {
  socket: WebSocket;
  id: string;
  seq: number;
  intents: number;
}

export interface GatewayOptions {
  state: EmulatorState;
  token: string;
  /** ws://host:port/gateway, sent as resume_gateway_url. */
  url: () => string;
  heartbeatIntervalMs: number;
}

/**
 * The Discord gateway, JSON encoding, no compression (discord.js only asks for zlib-stream when zlib-sync is
 * installed). Hello → Identify → READY (guilds unavailable) → GUILD_CREATE per guild, heartbeats ACKed.
 */
export class EmulatedGateway {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sessions = new Set<Session>();
  /** Payloads every client sent (identify included, token replaced), for assertions. */
  readonly received: Array<{ op: number; d: unknown }> = [];
  private readyWaiters: Array<() => void> = [];

  constructor(private readonly options: GatewayOptions) {
    this.wss.on('connection', (socket) => this.onConnection(socket));
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(request, socket, head, (ws) => this.wss.emit('connection', ws, request));
  }

  /** Resolves once a client has identified and received its guilds. */
  waitForIdentified(): Promise<void> {
    if ([...this.sessions].some((s) => s.seq > 0)) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  get connected(): number {
    return this.sessions.size;
  }

  /** Sends a dispatch event to every identified session; MESSAGE_CREATE content is blanked without the intent. */
  dispatch(event: string, data: Record<string, unknown>): void {
    for (const session of this.sessions) {
      let payload = data;
      const hasContentIntent = (session.intents & GatewayIntentBits.MessageContent) !== 0;
      if (event === 'MESSAGE_CREATE' && !hasContentIntent && !this.mentionsBot(data)) {
        // Discord's privileged MessageContent intent: without it, content arrives empty.
        payload = { ...data, content: '', embeds: [], attachments: [] };
      }
      this.send(session, { op: GatewayOpcodes.Dispatch, t: event, s: ++session.seq, d: payload });
    }
  }

  async close(): Promise<void> {
    for (const session of this.sessions) session.socket.terminate();
    this.sessions.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private mentionsBot(data: Record<string, unknown>): boolean {
    const mentions = (data.mentions as Array<{ id: string }> | undefined) ?? [];
    return mentions.some((m) => m.id === this.options.state.botUser.id);
  }

  private onConnection(socket: WebSocket): void {
    const session: Session = { socket, id: randomUUID().replaceAll('-', ''), seq: 0, intents: 0 };
    this.sessions.add(session);
    socket.on('close', () => this.sessions.delete(session));
    socket.on('message', (raw) => this.onPayload(session, raw.toString()));
    this.send(session, {
      op: GatewayOpcodes.Hello,
      d: { heartbeat_interval: this.options.heartbeatIntervalMs },
    });
  }

  private onPayload(session: Session, raw: string): void {
    let payload: { op: number; d: unknown };
    try {
      payload = JSON.parse(raw);
    } catch {
      session.socket.close(4002, 'Decode error');
      return;
    }
    if (payload.op === GatewayOpcodes.Identify) {
      const d = payload.d as { token: string; intents: number };
      this.received.push({
        op: payload.op,
        d: { ...d, token: d.token === this.options.token ? '[ok]' : '[bad]' },
      });
      if (d.token !== this.options.token) {
        session.socket.close(4004, 'Authentication failed.');
        return;
      }
      session.intents = d.intents;
      this.ready(session);
      return;
    }
    this.received.push(payload);
    if (payload.op === GatewayOpcodes.Heartbeat) this.send(session, { op: GatewayOpcodes.HeartbeatAck });
    else if (payload.op === GatewayOpcodes.Resume) {
      // Sessions are not kept across connections: tell the client to identify afresh.
      this.send(session, { op: GatewayOpcodes.InvalidSession, d: false });
    }
  }

  private ready(session: Session): void {
    const { state } = this.options;
    const guilds = [...state.guilds.values()];
    this.send(session, {
      op: GatewayOpcodes.Dispatch,
      t: 'READY',
      s: ++session.seq,
      d: {
        v: 10,
        user: { ...state.userPayload(state.botUser), verified: true, mfa_enabled: false, flags: 0 },
        guilds: guilds.map((g) => ({ id: g.id, unavailable: true })),
        session_id: session.id,
        resume_gateway_url: this.options.url(),
        shard: [0, 1],
        application: { id: state.applicationId, flags: 0 },
        private_channels: [],
        relationships: [],
        user_settings: {},
        presences: [],
        guild_join_requests: [],
      },
    });
    for (const guild of guilds) {
      this.send(session, {
        op: GatewayOpcodes.Dispatch,
        t: 'GUILD_CREATE',
        s: ++session.seq,
        d: state.guildPayload(guild),
      });
    }
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private send(session: Session, payload: Record<string, unknown>): void {
    if (session.socket.readyState === session.socket.OPEN) session.socket.send(JSON.stringify(payload));
  }
}
