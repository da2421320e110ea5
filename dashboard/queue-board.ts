import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';

/** Where Bull Board is mounted on the dashboard. */
export const QUEUE_BOARD_PATH = '/admin/queues';

/**
 * Bull Board's page is a React build with inline styles (its own loading screen, React's style props), so it gets
 * its own policy: everything from this origin, inline styles allowed, no script but its files, nothing remote.
 */
export const QUEUE_BOARD_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

// Bull Board's page asks Google Fonts for IBM Plex; the dashboard works offline and loads nothing remote, so the
// link is dropped and the page falls back to the system sans-serif.
const REMOTE_STYLESHEET = /<link[^>]+href="https?:\/\/[^"]*"[^>]*>/g;

/** ExpressAdapter whose page renders without remote stylesheets. */
class LocalExpressAdapter extends ExpressAdapter {
  override setViewsPath(viewPath: string): this {
    super.setViewsPath(viewPath);
    type Render = (file: string, options: object, done: (error: Error | null, html?: string) => void) => void;
    const engines = (this.app as unknown as { engines: Record<string, Render> }).engines;
    const render = engines['.ejs']!;
    this.app.engine('ejs', (file, options, done) =>
      render(file, options, (error, html) => done(error, html?.replace(REMOTE_STYLESHEET, ''))),
    );
    return this;
  }
}

export type QueueBoardHandler = (req: IncomingMessage, res: ServerResponse, fallthrough: () => void) => void;

/**
 * Bull Board (MIT, @bull-board/api + @bull-board/express) over the given BullMQ queues: its page, its static build
 * from node_modules (@bull-board/ui) and its JSON API, as a node:http handler for paths under QUEUE_BOARD_PATH.
 * Access control is the caller's: this handler serves whoever reaches it.
 */
export function createQueueBoard(queues: readonly Queue[]): QueueBoardHandler {
  const adapter = new LocalExpressAdapter();
  adapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'Steward queues' } },
  });
  const app = adapter.getRouter() as (
    req: IncomingMessage,
    res: ServerResponse,
    next: (error?: unknown) => void,
  ) => void;
  return (req, res, fallthrough) => {
    // The board's routes are relative to its mount point, as when express mounts it with app.use(path, router).
    const url = req.url ?? '/';
    req.url = url.slice(QUEUE_BOARD_PATH.length) || '/';
    if (!req.url.startsWith('/')) req.url = `/${req.url}`;
    for (const [name, value] of Object.entries(QUEUE_BOARD_HEADERS)) res.setHeader(name, value);
    app(req, res, () => {
      req.url = url;
      fallthrough();
    });
  };
}
