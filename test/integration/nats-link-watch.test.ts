// The node's NATS link watch (runtime/link-watch.ts) on a real nats-server: a node whose PONGs
// wait behind a backlog that keeps arriving keeps its link (nats.js's own pings alone, as the node
// had them, drop it in the same run), and a server that stops answering altogether is found dead.
import { Writable } from 'node:stream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createLogger } from '../../runtime/logger';
import { connectNats, NATS_MAX_PING_OUT, type ConnState } from '../../runtime/nats';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { GiveUp, waitFor } from '../helpers/poll';
import { startTcpProxy, type TcpProxy } from '../../testkit/tcp-proxy';

const PING_MS = 200;
/** Messages queued for each connection, and the rate the slow link delivers them at: ~5 s of backlog, with bytes arriving every few ms all along. */
const BACKLOG = 2000;
const LINK_BYTES_PER_S = 50_000;

/** A connection as the node makes it, with its log lines and states kept. */
async function nodeLink(url: string, name: string) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const states: ConnState[] = [];
  let stale = 0;
  const nc = await connectNats({ natsUrl: url, natsCreds: undefined, natsUser: undefined, natsPassword: undefined, natsToken: undefined, natsNkey: undefined, natsCa: undefined, natsCert: undefined, natsKey: undefined }, name, createLogger(name, 'info', sink), (s) => states.push(s), { pingMs: PING_MS, onStale: () => stale++ });
  return { nc, lines, states, stale: () => stale };
}

/** Subscribe `nc` to `subject`; counts what arrives. */
function counter(nc: NatsConnection, subject: string) {
  let read = 0;
  nc.subscribe(subject, { callback: () => void read++ });
  return () => read;
}

let server: NatsServer;
beforeEach(async () => {
  server = await startNatsServer();
});
afterEach(async () => {
  await server.cleanup();
});

test('a node whose PONGs wait behind a backlog that keeps arriving keeps its link; nats.js pinging alone drops it', async () => {
  // Both connections reach the server through a proxy whose downstream link is slow: every PONG
  // waits behind the backlog queued before it, yet messages arrive every few milliseconds.
  const proxy: TcpProxy = await startTcpProxy(server.port);
  const watched = await nodeLink(proxy.url, 'watched');
  const plain = await connect({ servers: proxy.url, pingInterval: PING_MS, maxPingOut: NATS_MAX_PING_OUT, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  const plainStatus: string[] = [];
  void (async () => {
    for await (const s of plain.status()) plainStatus.push(s.type);
  })();
  const pub = await connect({ servers: server.url });
  try {
    const watchedRead = counter(watched.nc, 'flood.watched');
    const plainRead = counter(plain, 'flood.plain');
    await watched.nc.flush();
    await plain.flush();
    proxy.throttle(LINK_BYTES_PER_S);
    const body = new Uint8Array(100);
    for (let i = 0; i < BACKLOG; i++) {
      pub.publish('flood.watched', body);
      pub.publish('flood.plain', body);
    }
    await pub.flush();

    await waitFor(
      'the watched connection to read its whole backlog',
      () => {
        // A dropped link loses what was queued for it: no point waiting for the rest.
        if (watched.states.length > 1) throw new GiveUp(`the watched link went ${watched.states.join(' → ')} after reading ${watchedRead()} of ${BACKLOG}`);
        return watchedRead() === BACKLOG || `${watchedRead()} of ${BACKLOG} read; plain ${plainRead()}, plain status ${plainStatus.join(',')}`;
      },
      { timeoutMs: 50_000, until: (v) => v === true },
    );
    // The control: nats.js's own pings, answered only behind the backlog, find the plain link dead.
    expect(plainStatus).toContain('staleConnection');
    // The watched link: never judged stale, never dropped, no nats.js backstop either.
    expect(watched.stale()).toBe(0);
    expect(watched.lines.filter((l) => l.event === 'nats_stale_connection' || l.event === 'nats_disconnected')).toEqual([]);
    expect(watched.states).toEqual(['connected']);
    // …and it still answers afterwards, at full speed again.
    proxy.throttle(null);
    expect(await watched.nc.rtt()).toBeGreaterThanOrEqual(0);
  } finally {
    await Promise.all([watched.nc.close(), plain.close(), pub.close()]);
    await proxy.close();
  }
});

test('a server that stops answering (SIGSTOP) is found dead by the watch and the link made again once it runs', async () => {
  const watched = await nodeLink(server.url, 'watched');
  try {
    server.proc.kill('SIGSTOP');
    try {
      await waitFor('the watch to find the link stale', () => watched.stale() > 0 || watched.lines.map((l) => l.event).join(','), { timeoutMs: 60_000, until: (v) => v === true });
    } finally {
      server.proc.kill('SIGCONT');
    }
    const staleLine = watched.lines.find((l) => l.event === 'nats_stale_connection');
    expect(staleLine).toMatchObject({ by: 'watch', silentTicks: NATS_MAX_PING_OUT + 1 });
    await waitFor('the link made again', () => watched.states.at(-1) === 'connected' && watched.states.includes('disconnected') || watched.states.join(','), { timeoutMs: 60_000, until: (v) => v === true });
    expect(await watched.nc.rtt()).toBeGreaterThanOrEqual(0);
  } finally {
    server.proc.kill('SIGCONT');
    await watched.nc.close();
  }
});
