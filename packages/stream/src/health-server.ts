import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { METRICS_UNAUTHORIZED, type MetricsExposure, metricsAccess } from './http-exposure';

/** A named probe: `healthy` is liveness (restart me if false), `ready` is readiness (route traffic/partitions to me). */
export interface Probe {
  name: string;
  healthy(): boolean;
  ready(): boolean;
}

export interface HealthServerOptions {
  port: number;
  /** The address to listen on (HTTP_HOST). @defaultValue 127.0.0.1: this machine only */
  host?: string;
  /** Who may read /metrics. @defaultValue enabled, no token */
  metrics?: MetricsExposure;
  registry: Registry;
  probes: () => readonly Probe[];
  /** Extra routes (the indexer serves kNN queries on the same port). Return false to fall through to 404. */
  extra?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
}

/** `/healthz`, `/readyz` and `/metrics` on one small HTTP server; no framework needed. */
export class HealthServer {
  private server: Server | undefined;

  constructor(private readonly options: HealthServerOptions) {}

  async start(): Promise<number> {
    const server = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host ?? '127.0.0.1', () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/readyz') {
      const probes = this.options.probes();
      const check = path === '/healthz' ? (p: Probe) => p.healthy() : (p: Probe) => p.ready();
      const status = Object.fromEntries(probes.map((p) => [p.name, check(p)]));
      const ok = probes.every(check);
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', checks: status }));
      return;
    }
    const access = path === '/metrics' ? metricsAccess(this.options.metrics, req.headers.authorization) : undefined;
    if (access === 'unauthorized') {
      res.writeHead(401, { 'content-type': 'application/json', ...METRICS_UNAUTHORIZED.headers });
      res.end(JSON.stringify({ error: METRICS_UNAUTHORIZED.error, message: METRICS_UNAUTHORIZED.message, issues: [] }));
      return;
    }
    if (access === 'ok') {
      const body = await this.options.registry.metrics();
      res.writeHead(200, { 'content-type': this.options.registry.contentType });
      res.end(body);
      return;
    }
    if (this.options.extra && (await this.options.extra(req, res))) return;
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'not found' }));
  }
}
