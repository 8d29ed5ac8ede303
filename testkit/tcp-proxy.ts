// A TCP proxy the tests and the chaos harness put between one Lookout node and NATS, to break that
// one link while the rest of the cluster carries on:
//   cut()    drops every connection and refuses new ones (the far side sees a dead network at once:
//            connections reset), heal() lets new connections through again (and thaws a freeze);
//   freeze() stops moving bytes both ways but keeps every connection open (a link that went silent:
//            nothing resets, the node only learns from its own timeouts), thaw() moves them again —
//            what was sent meanwhile waits in the socket buffers and arrives late;
//   throttle(bytesPerSecond) delivers what the target sends at that rate (a slow downstream link:
//            every reply waits behind what was sent before it, yet bytes keep arriving), throttle(null)
//            at full speed again.
// Used by test/integration/cluster-partition.test.ts, cluster-pause.test.ts and testkit/chaos/.

import net from 'node:net';

/** How often a throttled link hands each client its share of the rate. */
const THROTTLE_SLICE_MS = 10;

export interface TcpProxy {
  port: number;
  url: string;
  cut(): void;
  heal(): void;
  freeze(): void;
  thaw(): void;
  throttle(bytesPerSecond: number | null): void;
  close(): Promise<void>;
}

/** `listenHost`: where the proxy listens (e.g. the host side of a network namespace's veth: testkit/netns.ts). */
export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1', listenHost = '127.0.0.1'): Promise<TcpProxy> {
  /** Each connection: the client, its upstream, and the target → client bytes waiting for their slice of a throttled link. */
  const pairs = new Set<[net.Socket, net.Socket, Buffer[]]>();
  let open = true;
  let frozen = false;
  let rate: number | null = null;
  let slicer: NodeJS.Timeout | undefined;
  /** Every THROTTLE_SLICE_MS, hand each client up to its share of the rate from what is held. */
  const slice = () => {
    if (frozen) return;
    for (const [client, , queue] of pairs) {
      let budget = rate === null ? Infinity : Math.max(1, Math.floor((rate * THROTTLE_SLICE_MS) / 1000));
      while (budget > 0 && queue.length > 0) {
        const head = queue[0]!;
        const n = Math.min(budget, head.length);
        client.write(head.subarray(0, n));
        if (n === head.length) queue.shift();
        else queue[0] = head.subarray(n);
        budget -= n;
      }
    }
    if (rate === null && [...pairs].every(([, , q]) => q.length === 0)) {
      clearInterval(slicer);
      slicer = undefined;
    }
  };
  /** Forward a → b, holding bytes back (socket paused: they stay in the kernel's buffers) while frozen; `hold` may take a chunk instead. */
  const forward = (a: net.Socket, b: net.Socket, hold: (chunk: Buffer) => boolean = () => false): void => {
    a.on('data', (chunk: Buffer) => {
      if (hold(chunk)) return;
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
    const queue: Buffer[] = [];
    const pair: [net.Socket, net.Socket, Buffer[]] = [client, upstream, queue];
    pairs.add(pair);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    forward(client, upstream);
    // Throttled, or still handing out what was held: the chunk joins the queue (order kept).
    forward(upstream, client, (chunk) => {
      if (rate === null && queue.length === 0) return false;
      queue.push(chunk);
      return true;
    });
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
    throttle(bytesPerSecond) {
      rate = bytesPerSecond;
      slicer ??= setInterval(slice, THROTTLE_SLICE_MS);
    },
    close() {
      clearInterval(slicer);
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
