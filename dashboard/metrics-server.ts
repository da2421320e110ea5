import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { LifecycleError } from '../src/errors.ts';
import { closeServer, listen, send } from './http.ts';

/** /metrics and /healthz alone, for processes without the dashboard (`steward worker`). */
export class MetricsServer {
  #server: Server | null = null;
  #stopping: Promise<void> | null = null;

  constructor(private readonly options: { registry: Registry; port: number; host: string }) {}

  async start(): Promise<void> {
    if (this.#server) throw new LifecycleError('MetricsServer.start() was already called');
    const { registry } = this.options;
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://metrics.invalid').pathname;
      if (req.method === 'GET' && path === '/healthz') return send(res, 200, 'ok\n', 'text/plain');
      if (req.method !== 'GET' || path !== '/metrics') return send(res, 404, 'not found\n', 'text/plain');
      registry.metrics().then(
        (text) => send(res, 200, text, registry.contentType),
        () => send(res, 500, 'metrics failed\n', 'text/plain'),
      );
    });
    this.#server = server;
    await listen(server, this.options.port, this.options.host);
  }

  stop(): Promise<void> {
    const server = this.#server;
    if (!server) return Promise.reject(new LifecycleError('MetricsServer.stop() before start()'));
    this.#stopping ??= closeServer(server);
    return this.#stopping;
  }

  get url(): string {
    const address = this.#server?.address() as AddressInfo | null | undefined;
    if (!address) throw new LifecycleError('MetricsServer is not started');
    return `http://${address.address}:${address.port}/`;
  }
}
