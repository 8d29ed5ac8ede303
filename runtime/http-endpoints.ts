// Per-node HTTP endpoints: /metrics (Prometheus text exposition), /metrics/checks (per-check
// metrics, when LOOKOUT_CHECK_METRICS is on: runtime/check-gauges.ts), /healthz (the process is
// alive), /readyz (connected to NATS and following an assignment); and whatever is mounted once
// the node has its NATS connection (the status page: runtime/status-page.ts; the push endpoint,
// the one route that takes POST too: runtime/push-http.ts).

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface Readiness {
  natsConnected(): boolean;
  assigned(): boolean;
}

/** More paths, mounted later: answers the request and returns true, or returns false (not its path). */
export type HttpRoute = (req: http.IncomingMessage, res: http.ServerResponse, path: string) => boolean;

export interface HttpEndpoints {
  port: number;
  /**
   * Serve `route` beside the fixed paths (which win) from now on; GET and HEAD requests only,
   * unless `post` (the push endpoint: runtime/push-http.ts).
   */
  mount(route: HttpRoute, opts?: { post?: boolean }): void;
  close(): Promise<void>;
}

/** The per-check exposition, or null when it is off. */
export type CheckMetricsSource = () => string | null;

export async function startHttpEndpoints(host: string, port: number, registry: Registry, ready: Readiness, checkMetrics: CheckMetricsSource = () => null): Promise<HttpEndpoints> {
  const routes: { route: HttpRoute; post: boolean }[] = [];
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const readOnly = req.method === 'GET' || req.method === 'HEAD';
    if (!readOnly && req.method !== 'POST') return send(405, 'method not allowed\n');
    if (!readOnly && !routes.some((r) => r.post && r.route(req, res, path))) return send(405, 'method not allowed\n');
    if (!readOnly) return;
    switch (path) {
      case '/metrics':
        registry.metrics().then(
          (text) => send(200, text, registry.contentType),
          (err: unknown) => send(500, `metrics failed: ${(err as Error).message}\n`),
        );
        return;
      case '/metrics/checks': {
        const text = checkMetrics();
        if (text === null) return send(404, 'per-check metrics are off: set LOOKOUT_CHECK_METRICS=on\n');
        return send(200, text, 'text/plain; version=0.0.4; charset=utf-8');
      }
      case '/healthz':
        return send(200, 'ok\n');
      case '/readyz': {
        const nats = ready.natsConnected();
        const assigned = ready.assigned();
        const ok = nats && assigned;
        return send(ok ? 200 : 503, JSON.stringify({ ready: ok, natsConnected: nats, assigned }) + '\n', 'application/json');
      }
      default:
        if (routes.some((r) => r.route(req, res, path))) return;
        return send(404, 'not found: try /metrics, /metrics/checks, /healthz, /readyz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`LOOKOUT_HTTP_PORT ${port} on ${host} is already in use`) : err),
    );
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    mount: (route, opts) => void routes.push({ route, post: opts?.post === true }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
