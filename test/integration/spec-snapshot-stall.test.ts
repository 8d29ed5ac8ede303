// A spec snapshot read (runtime/spec-snapshot.ts) through a real nats-server and a TCP proxy
// (testkit/tcp-proxy.ts) between the reader and the server: a read that keeps getting messages is
// not given up however long it runs — a throttled link makes it outlast the stall limit several
// times over — and a read whose link freezes is given up once no message came for the limit, as a
// storage_unavailable naming the read step (a slow consumer create or stream info is named as
// such). At 1M specs a limit on the whole read gave up reads that were still moving (BENCHMARKS.md §16).
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { errorCode } from '../../protocol/errors';
import { shardOf } from '../../protocol/hash';
import { specKey } from '../../protocol/spec-key';
import { readSpecSnapshot } from '../../runtime/spec-snapshot';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { startTcpProxy, type TcpProxy } from '../../testkit/tcp-proxy';
import { waitFor } from '../helpers/poll';

jest.setTimeout(60_000);

const SHARDS = 16;
const BUCKET = 'stall_specs';
const SPECS = 120;
const ids = Array.from({ length: SPECS }, (_, i) => `s${i}`);
const all = new Set(Array.from({ length: SHARDS }, (_, i) => i));

let server: NatsServer;
let direct: NatsConnection;
let proxy: TcpProxy;
let viaProxy: NatsConnection;
let kv: KV;

beforeAll(async () => {
  server = await startNatsServer();
  direct = await connect({ servers: server.url });
  const writer = await new Kvm(direct).create(BUCKET, { history: 1 });
  const value = JSON.stringify({ kind: 'tcp', target: '127.0.0.1:9', intervalMs: 60_000, timeoutMs: 1000, pad: 'x'.repeat(100) });
  for (const id of ids) await writer.put(specKey(id, SHARDS), value);
  proxy = await startTcpProxy(server.port);
  viaProxy = await connect({ servers: proxy.url, reconnect: false });
  kv = await new Kvm(viaProxy).open(BUCKET);
});

afterAll(async () => {
  proxy.thaw();
  await viaProxy.close().catch(() => undefined);
  await proxy.close();
  await direct.close();
  await server.cleanup();
});

test('a read that keeps getting messages is not given up, however long it runs', async () => {
  const stallMs = 1_500;
  // ~250 bytes a message on the wire: ~30 KB at 6 KB/s, ~5 s — messages every few ms, the read over 3x the limit.
  proxy.throttle(6_000);
  const t0 = performance.now();
  try {
    const snap = await readSpecSnapshot(kv, all, SHARDS, stallMs, 7);
    const ms = performance.now() - t0;
    const read = [...snap.entries.values()].flat().map((e) => e.id);
    expect(read.sort()).toEqual([...ids].sort());
    expect([...snap.entries.keys()].every((s) => snap.entries.get(s)!.every((e) => shardOf(e.id, SHARDS) === s))).toBe(true);
    // The point of the test: the read outlasted the stall limit (a slower host only lengthens it).
    expect(ms).toBeGreaterThan(stallMs);
  } finally {
    proxy.throttle(null);
  }
});

test('a read whose link froze is given up once no message came for the limit, naming the read step', async () => {
  // Slow enough that the read is still running when the link freezes: frozen once the server has
  // delivered the first pull to this read's consumer (one the earlier test's read left is not it).
  const jsm = await jetstreamManager(direct);
  const consumers = async () => {
    const out = new Map<string, number>();
    for await (const ci of await jsm.consumers.list(`KV_${BUCKET}`)) out.set(ci.name, ci.delivered.consumer_seq);
    return out;
  };
  const before = await consumers();
  proxy.throttle(2_000);
  const reading = readSpecSnapshot(kv, all, SHARDS, 500, 7).then(
    () => null,
    (err: unknown) => err,
  );
  await waitFor('the snapshot consumer has delivered its first pull', async () => {
    const mine = [...(await consumers())].filter(([name]) => !before.has(name));
    return mine.some(([, delivered]) => delivered >= 7) || `new consumers: ${JSON.stringify(mine)}`;
  }, { until: (v) => v === true });
  proxy.freeze();
  const err = (await reading) as (Error & { cause?: Error }) | null;
  expect(err).not.toBeNull();
  expect(errorCode(err)).toBe('storage_unavailable');
  expect(err!.message).toBe('spec snapshot: read failed');
  expect(err!.cause?.message).toMatch(/^no message for \d+ ms \(\d+ read\)$/);
  proxy.thaw();
  proxy.throttle(null);
});
