// A TCP port free on 127.0.0.1 right now (the OS picks it), for the tests and the benchmarks:
// servers that cannot be told to pick their own port (e.g. a nats-server cluster's routes).

import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}
