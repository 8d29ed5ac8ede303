// The chaos target: an HTTP server in the harness process that answers every request 200 "ok" and
// logs each hit with its check id (the path is /c/<id>) and its arrival time on this process's
// monotonic clock (performance.now()). Every node probes this one process, so its clock is the one
// clock that judges gaps and duplicates — no node's wall clock (skewed on purpose in some
// scenarios) is ever compared with another's.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Hit } from './invariants';

export interface HitTarget {
  url: string;
  /** Every hit so far, in arrival order. */
  readonly hits: readonly Hit[];
  /** Checks hit at least once since `t`. */
  hitSince(t: number): Set<string>;
  close(): Promise<void>;
}

export async function startHitTarget(): Promise<HitTarget> {
  const hits: Hit[] = [];
  const server = http.createServer((req, res) => {
    const t = performance.now();
    const m = /^\/c\/([^/?]+)/.exec(req.url ?? '');
    if (m) hits.push({ check: decodeURIComponent(m[1]!), t });
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    hitSince(t) {
      const out = new Set<string>();
      for (let i = hits.length - 1; i >= 0 && hits[i]!.t >= t; i--) out.add(hits[i]!.check);
      return out;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
