// A TCP proxy the tests and the chaos harness put between one Lookout node and NATS, to break that
// one link while the rest of the cluster carries on:
//   cut()    drops every connection and refuses new ones (the far side sees a dead network at once:
//            connections reset), heal() lets new connections through again (and thaws a freeze);
//   freeze() stops moving bytes both ways but keeps every connection open (a link that went silent:
//            nothing resets, the node only learns from its own timeouts), thaw() moves them again —
//            what was sent meanwhile waits in the socket buffers and arrives late.
// Used by test/integration/cluster-partition.test.ts, cluster-pause.test.ts and testkit/chaos/.

import net from 'node:net';

export interface TcpProxy {
  port: number;
  url: string;
  cut(): void;
  heal(): void;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

/** `listenHost`: where the proxy listens (e.g. the host side of a network namespace's veth: testkit/netns.ts). */
export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1', listenHost = '127.0.0.1'): Promise<TcpProxy> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let open = true;
  let frozen = false;
  /** Forward a → b, holding bytes back (socket paused: they stay in the kernel's buffers) while frozen. */
  const forward = (a: net.Socket, b: net.Socket): void => {
    a.on('data', (chunk: Buffer) => {
      if (!b.write(chunk)) {
        a.pause();
        b.once('drain', () => frozen || a.resume());
      }
    });
  };
  const server = net.createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    forward(client, upstream);
    forward(upstream, client);
    if (frozen) {
      client.pause();
      upstream.pause();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, listenHost, resolve));
  const port = (server.address() as net.AddressInfo).port;
  const cut = () => {
    open = false;
    for (const [a, b] of pairs) {
      a.destroy();
      b.destroy();
    }
    pairs.clear();
  };
  const thaw = () => {
    frozen = false;
    for (const [a, b] of pairs) {
      a.resume();
      b.resume();
    }
  };
  return {
    port,
    url: `nats://${listenHost}:${port}`,
    cut,
    heal() {
      open = true;
      if (frozen) thaw();
    },
    freeze() {
      frozen = true;
      for (const [a, b] of pairs) {
        a.pause();
        b.pause();
      }
    },
    thaw,
    close() {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
