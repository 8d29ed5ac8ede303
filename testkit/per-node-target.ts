// An HTTP target (tests and benchmarks) that answers by the probing node: each node's probes carry
// `User-Agent: lookout/<version> (node <id>)`, and a check (path `/c/<id>`) can be down for some
// nodes or for all. It counts the requests per check and node (counted, never timed).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PerNodeTarget {
  url: string;
  /** Check id → the nodes it answers 503 to, or 'all'. */
  downFor: Map<string, Set<string> | 'all'>;
  /** Nodes seen. */
  seen: Set<string>;
  /** Requests per `<check> <node>`. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

export async function perNodeTarget(): Promise<PerNodeTarget> {
  const downFor = new Map<string, Set<string> | 'all'>();
  const seen = new Set<string>();
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const node = /\(node ([^)]+)\)/.exec(req.headers['user-agent'] ?? '')?.[1] ?? '?';
    seen.add(node);
    const id = /^\/c\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? '';
    hits.set(`${id} ${node}`, (hits.get(`${id} ${node}`) ?? 0) + 1);
    const down = downFor.get(id);
    res.statusCode = down === 'all' || down?.has(node) ? 503 : 200;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    downFor,
    seen,
    hits,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
