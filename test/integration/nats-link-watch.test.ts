// The node's NATS link watch (runtime/link-watch.ts) on a real nats-server: a node chewing through
// a backlog its PONGs sit behind keeps its link (nats.js's own pings alone, as the node had them,
// drop it in the same run), and a server that stops answering altogether is still found dead.
import { Writable } from 'node:stream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createLogger } from '../../runtime/logger';
import { connectNats, NATS_MAX_PING_OUT, type ConnState } from '../../runtime/nats';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { waitFor } from '../helpers/poll';

const PING_MS = 200;
/** Messages in each backlog, and the CPU each costs its reader: ~4 s of reading per connection. */
const BACKLOG = 4000;
const BURN_MS = 1;

/** A connection as the node makes it, with its log lines and states kept. */
async function nodeLink(server: NatsServer, name: string) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const states: ConnState[] = [];
  let stale = 0;
  const nc = await connectNats({ natsUrl: server.url, natsCreds: undefined, natsUser: undefined, natsPassword: undefined, natsToken: undefined, natsNkey: undefined, natsCa: undefined, natsCert: undefined, natsKey: undefined }, name, createLogger(name, 'info', sink), (s) => states.push(s), { pingMs: PING_MS, onStale: () => stale++ });
  return { nc, lines, states, stale: () => stale };
}

/** Subscribe `nc` to `subject`, spending BURN_MS of CPU on each message while `burn()`; counts them. */
function slowReader(nc: NatsConnection, subject: string, burn: () => boolean) {
  let read = 0;
  nc.subscribe(subject, {
    callback: () => {
      read++;
      const until = performance.now() + BURN_MS;
      while (burn() && performance.now() < until);
    },
  });
  return () => read;
}

let server: NatsServer;
beforeEach(async () => {
  server = await startNatsServer();
});
afterEach(async () => {
  await server.cleanup();
});

test('a node reading a backlog its PONGs sit behind keeps its link; nats.js pinging alone drops it', async () => {
  const watched = await nodeLink(server, 'watched');
  const plain = await connect({ servers: server.url, pingInterval: PING_MS, maxPingOut: NATS_MAX_PING_OUT, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  const plainStatus: string[] = [];
  void (async () => {
    for await (const s of plain.status()) plainStatus.push(s.type);
  })();
  const pub = await connect({ servers: server.url });
  let burning = true;
  try {
    const watchedRead = slowReader(watched.nc, 'flood.watched', () => burning);
    const plainRead = slowReader(plain, 'flood.plain', () => burning);
    await watched.nc.flush();
    await plain.flush();
    const body = new Uint8Array(100);
    for (let i = 0; i < BACKLOG; i++) {
      pub.publish('flood.watched', body);
      pub.publish('flood.plain', body);
    }
    await pub.flush();

    await waitFor('the watched connection to read its whole backlog', () => watchedRead() === BACKLOG || `${watchedRead()} of ${BACKLOG} read; plain ${plainRead()}, plain status ${plainStatus.join(',')}`, { timeoutMs: 120_000, until: (v) => v === true });
    // The control: the same backlog behind nats.js's own pings, judged before the socket is read.
    expect(plainStatus).toContain('staleConnection');
    // The watched link: never judged stale, never dropped, no nats.js backstop either.
    expect(watched.stale()).toBe(0);
    expect(watched.lines.filter((l) => l.event === 'nats_stale_connection' || l.event === 'nats_disconnected')).toEqual([]);
    expect(watched.states).toEqual(['connected']);
    // …and it still answers afterwards.
    expect(await watched.nc.rtt()).toBeGreaterThanOrEqual(0);
  } finally {
    burning = false;
    await Promise.all([watched.nc.close(), plain.close(), pub.close()]);
  }
});

test('a server that stops answering (SIGSTOP) is found dead by the watch and the link made again once it runs', async () => {
  const watched = await nodeLink(server, 'watched');
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
