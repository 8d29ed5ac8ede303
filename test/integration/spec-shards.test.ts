// Specs keyed by shard against a real nats-server: any id is stored, read, listed and deleted
// from any node; a node following only some shards holds only their specs and hears only their
// changes; shards loaded from one snapshot then tailed lose no change made between the two; a
// shard moving between two holders loses no spec; specs under legacy bare-id keys are
// found, deleted, and migrated idempotently.
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Places } from '../../actors/shard-load';
import { ShardSpecs, type ShardSpecEvent } from '../../actors/shard-specs';
import { SpecCatalog } from '../../actors/spec-catalog';
import { shardOf } from '../../protocol/hash';
import { listOrderBefore, specKey } from '../../protocol/spec-key';
import { migrateLegacySpecs, shardedSpecStore, type ShardedSpecStore } from '../../runtime/shard-spec-store';
import { ShardSources } from '../../runtime/shard-spec-sources';
import { shardSpecFeedSource } from '../../runtime/shard-spec-watch';
import { readSpecSnapshot, type SpecSnapshot } from '../../runtime/spec-snapshot';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { silentLog } from '../helpers/actor-host';
import { waitFor } from '../helpers/poll';

jest.setTimeout(60_000);

const SHARDS = 16;
const BUCKET = 'shardtest_specs';
const spec = (n: number) => ({ kind: 'tcp', target: `127.0.0.1:${1000 + n}`, intervalMs: 60_000, timeoutMs: 1000 });

let server: NatsServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
let kv: KV;
let store: ShardedSpecStore;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  await nc.close();
  await server.cleanup();
});

beforeEach(async () => {
  await new Kvm(nc).create(BUCKET, { history: 5 }).then((b) => b.destroy()).catch(() => {});
  kv = await new Kvm(nc).create(BUCKET, { history: 5 });
  store = shardedSpecStore(kv, jsm, BUCKET, SHARDS);
});

const ids = (n: number, p = 'c') => Array.from({ length: n }, (_, i) => `${p}${i}`);
const inListOrder = (xs: string[]) => [...xs].sort((a, b) => (a === b ? 0 : listOrderBefore(a, b, SHARDS) ? -1 : 1));

async function listAll(limit: number): Promise<string[][]> {
  const pages: string[][] = [];
  let after: string | null = null;
  do {
    const p = await store.list(after, limit);
    pages.push(p.ids);
    after = p.next;
  } while (after !== null);
  return pages;
}

test.each([
  ['read at once (a small bucket)', undefined],
  ['read a shard at a time (a large bucket)', 0],
])('any id is put under its shard key, read back, listed in pages (shard, then id) and deleted: keys %s', async (_, wholeReadMax) => {
  store = shardedSpecStore(kv, jsm, BUCKET, SHARDS, undefined, wholeReadMax);
  const all = ids(60);
  for (const [i, id] of all.entries()) await store.put(id, spec(i) as never);
  expect((await kv.get(specKey('c7', SHARDS)))?.operation).toBe('PUT');
  expect(await kv.get('c7')).toBeNull();
  expect((await store.get('c7'))?.spec).toEqual(spec(7));
  expect(await store.get('nope')).toBeNull();
  const pages = await listAll(7);
  expect(pages.flat()).toEqual(inListOrder(all));
  expect(pages.map((p) => p.length)).toEqual([...Array(8).fill(7), 4]);
  expect((await store.list(null, 1000)).next).toBeNull();
  expect(await store.delete('c7')).toBe(true);
  expect(await store.delete('c7')).toBe(false);
  expect(await store.get('c7')).toBeNull();
  expect((await listAll(1000)).flat()).toEqual(inListOrder(all.filter((id) => id !== 'c7')));
});

test.each([
  ['at once', undefined],
  ['by shard', 0],
])('a list of an empty bucket is one empty page; a cursor past the last id ends it (%s)', async (_, wholeReadMax) => {
  store = shardedSpecStore(kv, jsm, BUCKET, SHARDS, undefined, wholeReadMax);
  expect(await store.list(null, 10)).toEqual({ ids: [], next: null });
  await store.put('only', spec(1) as never);
  expect(await store.list(null, 1)).toEqual({ ids: ['only'], next: null });
  expect(await store.list('only', 10)).toEqual({ ids: [], next: null });
});

test('specs under legacy bare-id keys are found, replaced, deleted, and migrated idempotently', async () => {
  for (const [i, id] of ids(5, 'old').entries()) await kv.put(id, JSON.stringify(spec(i)));
  expect((await store.get('old1'))?.spec).toEqual(spec(1));
  // A put writes the shard key and purges the legacy one; a delete purges a legacy key.
  await store.put('old2', spec(22) as never);
  expect((await kv.get('old2'))?.operation).toBe('PURGE');
  expect((await store.get('old2'))?.spec).toEqual(spec(22));
  expect(await store.delete('old3')).toBe(true);
  expect(await store.get('old3')).toBeNull();
  // Not listed until migrated.
  expect((await store.list(null, 100)).ids).toEqual(['old2']);
  expect(await migrateLegacySpecs(kv, SHARDS)).toEqual({ found: 3, moved: 3 });
  expect((await store.list(null, 100)).ids).toEqual(inListOrder(['old0', 'old1', 'old2', 'old4']));
  for (const id of ['old0', 'old1', 'old4']) {
    expect((await kv.get(id))?.operation).toBe('PURGE');
    expect((await store.get(id))?.spec).toEqual(spec(Number(id.slice(3))));
  }
  expect((await store.get('old2'))?.spec).toEqual(spec(22));
  expect(await migrateLegacySpecs(kv, SHARDS)).toEqual({ found: 0, moved: 0 });
  // A legacy key written beside a sharded one (an old node still writing): the sharded value wins.
  await kv.put('old2', JSON.stringify(spec(99)));
  expect(await migrateLegacySpecs(kv, SHARDS)).toEqual({ found: 1, moved: 0 });
  expect((await store.get('old2'))?.spec).toEqual(spec(22));
});

function holder(events: ShardSpecEvent[] = []): ShardSpecs {
  return new ShardSpecs(new SpecCatalog(SHARDS), (s) => shardSpecFeedSource(kv, jsm, BUCKET, s, SHARDS), silentLog, (e) => events.push(e));
}

test('a holder of some shards holds only their specs and hears only their changes', async () => {
  const all = ids(80);
  for (const [i, id] of all.entries()) await store.put(id, spec(i) as never);
  const mine = [0, 3, 5, 9];
  const events: ShardSpecEvent[] = [];
  const h = holder(events);
  await h.holdOnly(mine);
  const expected = all.filter((id) => mine.includes(shardOf(id, SHARDS))).sort();
  expect(expected.length).toBeGreaterThan(0);
  expect(expected.length).toBeLessThan(all.length);
  expect(h.catalog.page(null, 1000).ids).toEqual(expected);
  const inMine = ids(200, 'n').find((id) => mine.includes(shardOf(id, SHARDS)))!;
  const notMine = ids(200, 'n').find((id) => !mine.includes(shardOf(id, SHARDS)))!;
  await store.put(notMine, spec(1) as never);
  await store.put(inMine, spec(2) as never);
  await store.delete(expected[0]!);
  const seen = await waitFor('the changes of held shards', () => (events.length >= 2 ? events : null));
  expect(seen.map((e) => (e.type === 'SPEC_SET' ? `set ${e.spec.id}` : `removed ${e.id}`))).toEqual([`set ${inMine}`, `removed ${expected[0]}`]);
  expect(h.catalog.get(notMine)).toBeUndefined();
  expect(h.catalog.size).toBe(expected.length);
  h.drop(3);
  expect(h.catalog.page(null, 1000).ids).toEqual([...expected.slice(1), inMine].filter((id) => shardOf(id, SHARDS) !== 3).sort());
  h.stop();
  expect(h.catalog.size).toBe(0);
});

test('a shard moving between two holders loses no spec, written before or during the move', async () => {
  for (const [i, id] of ids(60).entries()) await store.put(id, spec(i) as never);
  const a = holder();
  const b = holder();
  await a.holdOnly([0, 1, 2, 3, 4, 5, 6, 7]);
  await b.holdOnly([8, 9, 10, 11, 12, 13, 14, 15]);
  expect(a.catalog.size + b.catalog.size).toBe(60);
  // Shard 2 moves from a to b while specs of it are written.
  const during = ids(400, 'm').filter((id) => shardOf(id, SHARDS) === 2).slice(0, 5);
  const writes = Promise.all(during.map((id, i) => store.put(id, spec(i) as never)));
  const gained = b.hold(2);
  a.drop(2);
  await Promise.all([writes, gained]);
  const want = [...ids(60), ...during].filter((id) => shardOf(id, SHARDS) === 2).sort();
  const got = await waitFor('every spec of shard 2 on b', () => {
    const held = b.catalog.inShard(2).map((s) => s.id).sort();
    return held.length === want.length ? held : null;
  });
  expect(got).toEqual(want);
  expect(a.catalog.inShard(2)).toEqual([]);
  a.stop();
  b.stop();
});

test('many shards load from one snapshot of the bucket, keeping only theirs; a change between the snapshot and the tails is not lost', async () => {
  const all = ids(80);
  for (const [i, id] of all.entries()) await store.put(id, spec(i) as never);
  const mine = [0, 3, 5, 9];
  const expected = all.filter((id) => mine.includes(shardOf(id, SHARDS))).sort();
  const inMine = ids(200, 'n').find((id) => mine.includes(shardOf(id, SHARDS)))!;
  const snapshots: SpecSnapshot[] = [];
  const sources = new ShardSources(
    {
      perShard: (s) => shardSpecFeedSource(kv, jsm, BUCKET, s, SHARDS),
      tail: (s, from) => shardSpecFeedSource(kv, jsm, BUCKET, s, SHARDS, from).watch(),
      lastSeq: async () => (await jsm.streams.info(`KV_${BUCKET}`)).state.last_seq,
      // Between the snapshot and the tails: a put and a delete in held shards.
      snapshot: async (shards) => {
        const snap = await readSpecSnapshot(kv, shards, SHARDS);
        snapshots.push({ seq: snap.seq, entries: new Map(snap.entries) });
        await store.put(inMine, spec(2) as never);
        await store.delete(expected[0]!);
        return snap;
      },
    },
    silentLog,
    new Places(4),
    2,
  );
  const h = new ShardSpecs(new SpecCatalog(SHARDS), (s) => sources.sourceOf(s), silentLog, () => {});
  await h.holdOnly(mine);
  expect(snapshots).toHaveLength(1);
  expect([...snapshots[0]!.entries.keys()].sort((a, b) => a - b)).toEqual(mine);
  expect([...snapshots[0]!.entries.values()].flat().map((e) => e.id).sort()).toEqual(expected);
  const want = [...expected.slice(1), inMine].sort();
  const got = await waitFor('the put and the delete made between the snapshot and the tails', () => {
    const held = h.catalog.page(null, 1000).ids;
    return held.join() === want.join() ? held : null;
  });
  expect(got).toEqual(want);
  await h.stop();
  await sources.settled();
});

test('a snapshot pulled a few messages at a time reads every shard it wants whole, the latest revision of each spec only', async () => {
  const all = ids(60, 'b');
  for (const [i, id] of all.entries()) await store.put(id, spec(i) as never);
  await store.put(all[0]!, spec(99) as never); // a second revision: only it is read
  const wanted = new Set(all.map((id) => shardOf(id, SHARDS)));
  const snap = await readSpecSnapshot(kv, wanted, SHARDS, 60_000, 7); // 7 per pull: many pulls
  expect(snap.policy).toBe('all'); // 61 messages over 60 keys: every message read, the older revision dropped
  const read = [...snap.entries.values()].flat();
  expect(read.filter((e) => e.id.startsWith('b')).map((e) => e.id).sort()).toEqual([...all].sort());
  expect(read.filter((e) => e.id === all[0]).map((e) => JSON.parse(new TextDecoder().decode(e.value)).target)).toEqual([spec(99).target]);
  expect(snap.seq).toBe((await kv.status()).streamInfo.state.last_seq);
});

test('a bucket holding many revisions per key is read by the last per subject: the latest revision of each key, a delete kept as a delete', async () => {
  const few = ids(10, 'h');
  for (const [i, id] of few.entries()) await store.put(id, spec(i) as never);
  const wanted = new Set(few.map((id) => shardOf(id, SHARDS)));
  const latest = async () => {
    const snap = await readSpecSnapshot(kv, wanted, SHARDS, 60_000, 3);
    const byId = [...snap.entries.values()].flat().map((e) => [e.id, e.deleted, e.deleted ? null : JSON.parse(new TextDecoder().decode(e.value)).target]);
    return { policy: snap.policy, seq: snap.seq, entries: byId.sort((a, b) => String(a[0]).localeCompare(String(b[0]))) };
  };
  const once = await latest();
  expect(once.policy).toBe('all');
  // Four more revisions of each (history 5 keeps them), then one deleted: 5 messages a key.
  for (let r = 1; r <= 4; r++) for (const [i, id] of few.entries()) await store.put(id, spec(100 * r + i) as never);
  await store.delete(few[0]!);
  const many = await latest();
  expect(many.policy).toBe('lastPerSubject');
  expect(many.seq).toBe((await kv.status()).streamInfo.state.last_seq);
  expect(many.entries).toEqual(few.map((id, i) => (i === 0 ? [id, true, null] : [id, false, spec(400 + i).target])).sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
});

test('a snapshot of an empty bucket, or of one holding only a delete, is complete at its last sequence', async () => {
  const empty = await readSpecSnapshot(kv, new Set([0, 1]), SHARDS);
  expect([empty.seq, empty.entries.size]).toEqual([0, 0]);
  await store.put('x1', spec(1) as never);
  await store.delete('x1');
  const snap = await readSpecSnapshot(kv, new Set([shardOf('x1', SHARDS)]), SHARDS);
  expect(snap.seq).toBe((await kv.status()).streamInfo.state.last_seq);
});
