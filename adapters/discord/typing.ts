import type { Logger } from '../../src/logger.ts';

/** Sends "Steward is typing…" for a channel. */
export type SendTyping = (channelId: string) => Promise<void>;

/** Discord shows a typing indicator for about 10 s; it is renewed a little before that. */
const RENEW_MS = 8_000;

/**
 * Keeps a typing indicator up while a reply is being generated: started when a message that may get a reply is
 * enqueued, stopped when the reply is posted or after `maxMs` (the worker may decide not to reply at all).
 */
export class TypingIndicators {
  private readonly active = new Map<string, { timer?: NodeJS.Timeout; until: number }>();

  constructor(
    private readonly send: SendTyping,
    private readonly maxMs: number,
    private readonly log: Logger,
  ) {}

  start(key: string, channelId: string): void {
    if (this.active.has(key) || this.maxMs <= 0) return;
    const entry: { timer?: NodeJS.Timeout; until: number } = { until: Date.now() + this.maxMs };
    this.active.set(key, entry);
    const tick = () => {
      if (this.active.get(key) !== entry) return;
      this.send(channelId).catch((error) =>
        this.log.debug({ err: (error as Error).message }, 'typing failed'),
      );
      if (Date.now() + RENEW_MS >= entry.until) this.active.delete(key);
      else entry.timer = setTimeout(tick, RENEW_MS).unref();
    };
    tick();
  }

  stop(key: string): void {
    const entry = this.active.get(key);
    if (!entry) return;
    if (entry.timer) clearTimeout(entry.timer);
    this.active.delete(key);
  }

  stopAll(): void {
    for (const key of [...this.active.keys()]) this.stop(key);
  }
}
