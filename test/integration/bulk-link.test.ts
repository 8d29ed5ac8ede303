// The node's bulk link (runtime/bulk-link.ts) against a real nats-server: a node's specs
// (app/node-specs.ts) load a lone shard (its emptiness get and its filtered consumer), a snapshot of
// many shards and the leader's legacy-key look on the bulk link, and nothing of these on the node's
// own link, which keeps only the one tail per node and the API's reads and writes — so a consumer
// the server takes seconds to create (1M specs, BENCHMARKS.md §16) holds no heartbeat behind it.
// Every JetStream API request of either link is recorded at the connection (subject and payload).
// A bulk link that closes is opened again by the next load.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { ClusterView } from '../../protocol/cluster-view';
import { shardOf } from '../../protocol/hash';
import { specKey } from '../../protocol/spec-key';
import { startNodeSpecs, type BulkParts, type NodeSpecs } from '../../app/node-specs';
import { BULK_API_TIMEOUT_MS, BulkLink } from '../../runtime/bulk-link';
import { createMetrics } from '../../runtime/metrics';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { silentLog } from '../helpers/actor-host';
import { waitFor } from '../helpers/poll';

jest.setTimeout(60_000);

const SHARDS = 16;
const BUCKET = 'bulktest_specs';
const spec = (n: number) => ({ kind: 'tcp', target: `127.0.0.1:${1000 + n}`, intervalMs: 60_000, timeoutMs: 1000 });

/** One JetStream API request as sent: its subject and what its payload says of a consumer. */
interface ApiRequest {
  subject: string;
  filter?: string;
  deliver?: string;
}

/** `nc` with every `$JS.API.` request it sends recorded into `into` (the rest passed through). */
function recorded(nc: NatsConnection, into: ApiRequest[]): NatsConnection {
  const note = (subject: unknown, data: unknown) => {
    if (typeof subject !== 'string' || !subject.startsWith('$JS.API.')) return;
    let body: { config?: { filter_subject?: string; deliver_policy?: string } } = {};
    try {
      body = data instanceof Uint8Array && data.length > 0 ? JSON.parse(new TextDecoder().decode(data)) : {};
    } catch {
      // not JSON: only the subject is kept
    }
    into.push({ subject, filter: body.config?.filter_subject, deliver: body.config?.deliver_policy });
  };
  return new Proxy(nc, {
    get(target, key) {
      const v = Reflect.get(target, key, target) as unknown;
      if (typeof v !== 'function') return v;
      if (key === 'request' || key === 'publish') {
        return (subject: unknown, data: unknown, ...rest: unknown[]) => {
          note(subject, data);
          return (v as (...a: unknown[]) => unknown).call(target, subject, data, ...rest);
        };
      }
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

/** A consumer create that loads (every message, or the latest per subject), as opposed to a tail (from a sequence on). */
const loads = (rs: ApiRequest[]) => rs.filter((r) => r.subject.startsWith('$JS.API.CONSUMER.CREATE.') && r.deliver !== 'by_start_sequence');
const directGets = (rs: ApiRequest[]) => rs.filter((r) => r.subject.startsWith('$JS.API.DIRECT.GET.'));

interface Fixture {
  server: NatsServer;
  own: NatsConnection;
  ownRequests: ApiRequest[];
  bulkRequests: ApiRequest[];
  bulkConns: NatsConnection[];
  link: BulkLink<NatsConnection, BulkParts>;
  specs: NodeSpecs;
  put(id: string, n: number): Promise<void>;
  stop(): Promise<void>;
}

async function fixture(): Promise<Fixture> {
  const server = await startNatsServer();
  const ownRequests: ApiRequest[] = [];
  const bulkRequests: ApiRequest[] = [];
  const raw = await connect({ servers: server.url });
  const own = recorded(raw, ownRequests);
  const kv = await new Kvm(own).create(BUCKET, { history: 5 });
  const jsm = await jetstreamManager(own);
  const bulkConns: NatsConnection[] = [];
  const link = new BulkLink<NatsConnection, BulkParts>(
    async () => {
      const nc = await connect({ servers: server.url, name: 'bulk' });
      bulkConns.push(nc);
      return recorded(nc, bulkRequests);
    },
    async (nc) => {
      const js = jetstream(nc, { timeout: BULK_API_TIMEOUT_MS });
      return { kv: await new Kvm(js).open(BUCKET), jsm: await js.jetstreamManager() };
    },
    silentLog,
  );
  const specs = startNodeSpecs({ kv, jsm, bucket: BUCKET, shards: SHARDS, metrics: createMetrics(), log: silentLog, onDeleted: async () => {}, view: () => null, bulk: () => link.parts() });
  return {
    server,
    own,
    ownRequests,
    bulkRequests,
    bulkConns,
    link,
    specs,
    put: async (id, n) => void (await kv.put(specKey(id, SHARDS), JSON.stringify(spec(n)))),
    stop: async () => {
      await specs.stop();
      await link.close();
      await raw.close();
      await server.cleanup();
    },
  };
}

const ids = (n: number, p = 'c') => Array.from({ length: n }, (_, i) => `${p}${i}`);
const inShard = (shard: number, xs: string[]) => xs.filter((id) => shardOf(id, SHARDS) === shard).sort();

let f: Fixture;
afterEach(async () => {
  await f?.stop();
});

test('a lone shard loads on the bulk link (its emptiness get and its filtered consumer); the node link only tails it', async () => {
  f = await fixture();
  const all = ids(80);
  for (const [i, id] of all.entries()) await f.put(id, i);
  const shard = shardOf('c0', SHARDS);
  await f.specs.holder.hold(shard);
  expect(f.specs.holder.catalog.inShard(shard).map((s) => s.id).sort()).toEqual(inShard(shard, all));

  expect(loads(f.bulkRequests).map((r) => r.filter)).toEqual([`$KV.${BUCKET}.${shard}.*`]);
  expect(directGets(f.bulkRequests)).toHaveLength(1);
  expect([loads(f.ownRequests), directGets(f.ownRequests)]).toEqual([[], []]);

  // A change after the load is heard through the node's tail, on its own link.
  const later = ids(400, 'n').find((id) => shardOf(id, SHARDS) === shard)!;
  await f.put(later, 1);
  await waitFor('the later spec through the tail', () => f.specs.holder.catalog.get(later) ?? null);
  expect(f.ownRequests.filter((r) => r.subject.startsWith('$JS.API.CONSUMER.CREATE.')).map((r) => r.deliver)).toEqual(['by_start_sequence']);
});

test('a snapshot of many shards and the leader\'s legacy-key look go out on the bulk link too', async () => {
  f = await fixture();
  const all = ids(120);
  for (const [i, id] of all.entries()) await f.put(id, i);
  const every = Array.from({ length: SHARDS }, (_, s) => s);
  await f.specs.holder.holdOnly(every); // 16 shards in one turn: one snapshot (SNAPSHOT_MIN_SHARDS)
  expect(f.specs.holder.catalog.size).toBe(all.length);
  // A small bucket is read whole (every message: snapshotPolicy), a large one by the last per subject.
  expect(loads(f.bulkRequests).map((r) => [r.filter, r.deliver])).toEqual([[undefined, 'all']]);
  expect(loads(f.ownRequests)).toEqual([]);

  // An older version's bare key: the leader moves it to its sharded key, looking on the bulk link.
  const kv = await new Kvm(f.own).open(BUCKET);
  await kv.put('legacy1', JSON.stringify(spec(7)));
  const ownBefore = f.ownRequests.length;
  const bulkBefore = f.bulkRequests.length;
  f.specs.noteView({ leading: true } as ClusterView);
  await waitFor('the legacy key moved', async () => ((await kv.get(specKey('legacy1', SHARDS)))?.operation === 'PUT' ? true : null));
  expect(f.bulkRequests.length).toBeGreaterThan(bulkBefore);
  expect(loads(f.ownRequests.slice(ownBefore))).toEqual([]);
});

test('a bulk link that closed is opened again by the next load', async () => {
  f = await fixture();
  for (const [i, id] of ids(40).entries()) await f.put(id, i);
  const [a, b] = [shardOf('c0', SHARDS), shardOf(ids(40).find((id) => shardOf(id, SHARDS) !== shardOf('c0', SHARDS))!, SHARDS)];
  await f.specs.holder.hold(a);
  expect(f.bulkConns).toHaveLength(1);
  await f.bulkConns[0]!.close();
  await f.specs.holder.hold(b);
  expect(f.bulkConns).toHaveLength(2);
  expect(f.specs.holder.catalog.inShard(b).map((s) => s.id).sort()).toEqual(inShard(b, ids(40)));
  // (a load that found the closed link before it was forgotten failed and was retried: the same filter twice)
  expect([...new Set(loads(f.bulkRequests).map((r) => r.filter))]).toEqual([`$KV.${BUCKET}.${a}.*`, `$KV.${BUCKET}.${b}.*`]);
});
