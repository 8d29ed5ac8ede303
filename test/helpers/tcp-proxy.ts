// A TCP proxy the test can cut or freeze: `cut()` drops every connection and refuses new ones (the
// far side sees a dead network), `freeze()` keeps every connection open but passes no byte and
// accepts new ones without connecting them (a black hole: only pings can tell), `heal()` lets
// traffic through again (held connections are connected then). Used to cut one Lookout node off
// from NATS while the rest of the cluster carries on.

import net from 'node:net';

export interface TcpProxy {
  port: number;
  url: string;
  cut(): void;
  freeze(): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let open = true;
  let frozen = false;
  const held = new Set<net.Socket>();
  const link = (client: net.Socket) => {
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
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const server = net.createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    if (frozen) {
      held.add(client);
      client.pause();
      client.on('error', () => client.destroy()).on('close', () => held.delete(client));
      return;
    }
    link(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const cut = () => {
    open = false;
    for (const c of held) c.destroy();
    held.clear();
    for (const [a, b] of pairs) {
      a.destroy();
      b.destroy();
    }
    pairs.clear();
  };
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    cut,
    freeze() {
      frozen = true;
      for (const [a, b] of pairs) {
        a.unpipe(b);
        b.unpipe(a);
        a.pause();
        b.pause();
      }
    },
    heal() {
      open = true;
      if (!frozen) return;
      frozen = false;
      for (const [a, b] of pairs) {
        a.pipe(b);
        b.pipe(a);
      }
      for (const c of held) if (!c.destroyed) link(c);
      held.clear();
    },
    close() {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
