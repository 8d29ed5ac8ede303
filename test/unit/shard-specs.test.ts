// Holding the specs of owned shards only, on in-memory per-shard sources: hold resolves once the
// shard's specs are in, later changes are told, a dropped shard's specs are forgotten and its
// later changes neither told nor kept, and a shard held again is loaded afresh.
import { LOAD_STALL_MS, Places } from '../../actors/shard-load';
import { LOAD_CONCURRENCY, RETRY_MIN_MS, ShardSpecs, type ShardSpecEvent } from '../../actors/shard-specs';
import { SpecCatalog } from '../../actors/spec-catalog';
import { shardOf } from '../../protocol/hash';
import { flush, silentLog } from '../helpers/actor-host';
import { FakeSpecBucket } from '../helpers/fake-spec-store';
import { ShardSources } from '../../runtime/shard-spec-sources';
import type { SpecWatch } from '../../runtime/spec-watch';

const SHARDS = 4;
const spec = (n: number) => ({ kind: 'tcp', target: `127.0.0.1:${1000 + n}`, intervalMs: 5000, timeoutMs: 1000 });
const idsIn = (shard: number, n: number) => Array.from({ length: 200 }, (_, i) => `c${i}`).filter((id) => shardOf(id, SHARDS) === shard).slice(0, n);

async function setup() {
  const buckets = Array.from({ length: SHARDS }, () => new FakeSpecBucket());
  for (let s = 0; s < SHARDS; s++) for (const [i, id] of idsIn(s, 3).entries()) await buckets[s]!.put(id, spec(i) as never);
  const events: string[] = [];
  const tell = (e: ShardSpecEvent) => events.push(e.type === 'SPEC_SET' ? `set ${e.spec.id}` : `removed ${e.id}`);
  const h = new ShardSpecs(new SpecCatalog(SHARDS), (s) => buckets[s]!, silentLog, tell);
  return { buckets, events, h };
}

test('hold loads a shard before resolving; only later changes are told', async () => {
  const { buckets, events, h } = await setup();
  await h.holdOnly([1, 3]);
  expect(h.shards).toEqual([1, 3]);
  expect(h.catalog.page(null, 100).ids).toEqual([...idsIn(1, 3), ...idsIn(3, 3)].sort());
  expect(events).toEqual([]);
  const [a] = idsIn(1, 4).slice(3);
  await buckets[1]!.put(a!, spec(9) as never);
  await buckets[3]!.delete(idsIn(3, 1)[0]!);
  await flush();
  expect(events).toEqual([`set ${a}`, `removed ${idsIn(3, 1)[0]}`]);
});

test('a dropped shard is forgotten; its later changes are neither kept nor told; held again, it is loaded afresh', async () => {
  const { buckets, events, h } = await setup();
  await h.holdOnly([0, 2]);
  await h.holdOnly([0]);
  expect(h.shards).toEqual([0]);
  expect(h.catalog.inShard(2)).toEqual([]);
  const late = idsIn(2, 4)[3]!;
  await buckets[2]!.put(late, spec(7) as never);
  await flush();
  expect(events).toEqual([]);
  expect(h.catalog.get(late)).toBeUndefined();
  await h.hold(2);
  expect(h.catalog.inShard(2).map((s) => s.id).sort()).toEqual([...idsIn(2, 3), late].sort());
  h.stop();
  expect(h.catalog.size).toBe(0);
  expect(h.shards).toEqual([]);
});

test('a shard whose watch fails is logged and watched again until it loads; the hold resolves then', async () => {
  const bucket = new FakeSpecBucket();
  const id = idsIn(2, 1)[0]!;
  await bucket.put(id, spec(1) as never);
  let attempts = 0;
  const flaky = {
    count: () => bucket.count(),
    watch: () => (++attempts < 3 ? Promise.reject(new Error('consumer create timed out')) : bucket.watch()),
  };
  const warned: unknown[] = [];
  const log = { ...silentLog, child: () => log, warn: (o: unknown) => warned.push(o), error: () => {}, info: () => {}, debug: () => {} } as unknown as typeof silentLog;
  const h = new ShardSpecs(new SpecCatalog(SHARDS), () => flaky, log, () => {});
  await h.hold(2);
  expect(attempts).toBe(3);
  expect(warned).toEqual([expect.objectContaining({ event: 'shard_specs_failed', failures: 1 }), expect.objectContaining({ event: 'shard_specs_failed', failures: 2 })]);
  expect(h.catalog.get(id)?.revision).toBe(1);
  h.stop();
});

test('at most LOAD_CONCURRENCY shards load at once; the others start as those finish', async () => {
  const SH = LOAD_CONCURRENCY + 4;
  let loading = 0;
  let most = 0;
  const gates: (() => void)[] = [];
  const source = () => ({
    count: async () => 0,
    watch: async () => {
      most = Math.max(most, ++loading);
      await new Promise<void>((r) => gates.push(r));
      loading--;
      return new FakeSpecBucket().watch();
    },
  });
  const h = new ShardSpecs(new SpecCatalog(SH), source, silentLog, () => {});
  const all = h.holdOnly(Array.from({ length: SH }, (_, s) => s));
  await flush();
  expect(gates).toHaveLength(LOAD_CONCURRENCY);
  while (gates.length) {
    gates.shift()!();
    await flush();
  }
  await all;
  expect(most).toBe(LOAD_CONCURRENCY);
  h.stop();
});

test('sources read from memory (a snapshot, `local`) all load at once, past LOAD_CONCURRENCY, while the places are taken', async () => {
  const SH = 2 * (LOAD_CONCURRENCY + 2);
  const buckets = Array.from({ length: SH }, () => new FakeSpecBucket());
  for (let s = 0; s < SH; s++) await buckets[s]!.put(`c${s}`, spec(s) as never);
  const gates: (() => void)[] = [];
  // Half the shards on watches that never open (their places stay taken), half local.
  const source = (s: number) =>
    s % 2 === 0
      ? { count: async () => 1, watch: () => new Promise<never>(() => gates.push(() => {})) }
      : { local: true, count: () => buckets[s]!.count(), watch: () => buckets[s]!.watch() };
  const h = new ShardSpecs(new SpecCatalog(SH), source, silentLog, () => {});
  const loaded = new Set<number>();
  for (let s = 0; s < SH; s++) void h.hold(s).then(() => loaded.add(s));
  await flush(20);
  expect(gates.length).toBe(LOAD_CONCURRENCY);
  expect([...loaded].sort((a, b) => a - b)).toEqual(Array.from({ length: SH / 2 }, (_, i) => 2 * i + 1));
  void h.stop();
});

test('an empty shard is loaded on its count, before its watch exists; a shard with specs waits for its watch', async () => {
  const SH = LOAD_CONCURRENCY + 4;
  const gates: (() => void)[] = [];
  const buckets = Array.from({ length: SH }, () => new FakeSpecBucket());
  await buckets[0]!.put('c0', spec(0) as never);
  const source = (s: number) => ({
    count: () => buckets[s]!.count(),
    watch: async () => {
      await new Promise<void>((r) => gates.push(r));
      return buckets[s]!.watch();
    },
  });
  const h = new ShardSpecs(new SpecCatalog(SH), source, silentLog, () => {});
  const loaded = new Set<number>();
  const all = Array.from({ length: SH }, (_, s) => h.hold(s).then(() => loaded.add(s)));
  await flush(20);
  expect(gates).toHaveLength(LOAD_CONCURRENCY); // watches still bounded
  expect([...loaded].sort((a, b) => a - b)).toEqual(Array.from({ length: SH - 1 }, (_, i) => i + 1));
  while (gates.length) {
    gates.shift()!();
    await flush();
  }
  await Promise.all(all);
  expect(loaded.has(0)).toBe(true);
  await h.stop();
});

test('a load that stalls (its watch never delivers the initial values) is started again, and loads', async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
  try {
    const bucket = new FakeSpecBucket();
    await bucket.put('c0', spec(0) as never);
    let attempts = 0;
    const source = () => ({
      count: () => bucket.count(),
      // The first watch stalls: it exists but never delivers (an ordered consumer that lost its messages).
      watch: async () => (++attempts === 1 ? { changes: { [Symbol.asyncIterator]: () => ({ next: () => new Promise<never>(() => {}) }) }, stop: () => {} } : bucket.watch()),
    });
    const h = new ShardSpecs(new SpecCatalog(1), source, silentLog, () => {});
    let loaded = false;
    void h.hold(0).then(() => (loaded = true));
    await flush(10);
    expect({ loaded, attempts }).toEqual({ loaded: false, attempts: 1 });
    await jest.advanceTimersByTimeAsync(LOAD_STALL_MS + RETRY_MIN_MS);
    await flush(10);
    expect({ loaded, attempts }).toEqual({ loaded: true, attempts: 2 });
    expect(h.catalog.get('c0')).toBeDefined();
    await h.stop();
  } finally {
    jest.useRealTimers();
  }
});

test('a source read from memory (a snapshot) is not given up as stalled, however long its entries take to load', async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
  try {
    const bucket = new FakeSpecBucket();
    await bucket.put('c0', spec(0) as never);
    let attempts = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    // Its load waits (for CPU, in production) past LOAD_STALL_MS, then goes on.
    const source = () => ({
      local: true,
      count: () => bucket.count(),
      watch: async () => {
        attempts++;
        const w = await bucket.watch();
        const it = w.changes[Symbol.asyncIterator]();
        return { changes: { [Symbol.asyncIterator]: () => ({ next: () => gate.then(() => it.next()) }) }, stop: w.stop };
      },
    });
    const h = new ShardSpecs(new SpecCatalog(1), source, silentLog, () => {});
    let loaded = false;
    void h.hold(0).then(() => (loaded = true));
    await flush(10);
    await jest.advanceTimersByTimeAsync(LOAD_STALL_MS * 3);
    expect({ loaded, attempts }).toEqual({ loaded: false, attempts: 1 });
    release();
    await flush(10);
    expect({ loaded, attempts }).toEqual({ loaded: true, attempts: 1 });
    await h.stop();
  } finally {
    jest.useRealTimers();
  }
});

test('a watch that fails after its load is started again, and what changed while no watch ran is told (put, changed, deleted)', async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
  try {
    const bucket = new FakeSpecBucket();
    const [a, b, c] = idsIn(1, 3) as [string, string, string];
    await bucket.put(a, spec(1) as never);
    await bucket.put(b, spec(2) as never);
    let breakFirst: (e: Error) => void = () => {};
    let attempts = 0;
    const source = {
      count: () => bucket.count(),
      watch: async () => {
        const w = await bucket.watch();
        if (++attempts > 1) return w;
        // The first watch fails after the load (a consumer deleted under it, a timeout).
        const broken = new Promise<never>((_, reject) => (breakFirst = reject));
        const it = w.changes[Symbol.asyncIterator]();
        const changes = { [Symbol.asyncIterator]: () => ({ next: () => Promise.race([it.next(), broken]) }) };
        return { changes, stop: w.stop };
      },
    };
    const events: string[] = [];
    const tell = (e: ShardSpecEvent) => events.push(e.type === 'SPEC_SET' ? `set ${e.spec.id}:${e.spec.intervalMs}` : `removed ${e.id}`);
    const h = new ShardSpecs(new SpecCatalog(SHARDS), () => source, silentLog, tell);
    await h.hold(1);
    breakFirst(new Error('consumer deleted'));
    await flush(10);
    await bucket.put(c, spec(3) as never);
    await bucket.put(a, { ...spec(1), intervalMs: 6000 } as never);
    await bucket.delete(b);
    expect(events).toEqual([]); // no watch runs: nothing heard yet
    await jest.advanceTimersByTimeAsync(RETRY_MIN_MS);
    await flush(10);
    expect(attempts).toBe(2);
    expect([...events].sort()).toEqual([`removed ${b}`, `set ${a}:6000`, `set ${c}:5000`].sort());
    expect(h.catalog.inShard(1).map((s) => s.id).sort()).toEqual([a, c].sort());
    await h.stop();
  } finally {
    jest.useRealTimers();
  }
});

/** A watch that goes deaf while `deaf()` (its messages were lost with the link). */
function deafWhile(w: SpecWatch, deaf: () => boolean): SpecWatch {
  const it = w.changes[Symbol.asyncIterator]();
  const changes = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        const r = await it.next();
        return deaf() ? new Promise<never>(() => {}) : r;
      },
    }),
  };
  return { changes, stop: w.stop };
}

/** One shard's bucket behind ShardSources (no snapshot): full watches and tails counted, watches deaf while `deaf`. */
function reconnectable(bucket: FakeSpecBucket) {
  const seen = { watches: 0, tails: [] as number[], deaf: false };
  const sources = new ShardSources(
    {
      perShard: () => ({ count: () => bucket.count(), watch: async () => (seen.watches++, deafWhile(await bucket.watch(), () => seen.deaf)) }),
      tail: async (_shard, from) => (seen.tails.push(from), deafWhile(await bucket.tail(from), () => seen.deaf)),
      snapshot: () => Promise.reject(new Error('no snapshot in this test')),
      lastSeq: async () => bucket.lastSeq(),
    },
    silentLog,
    new Places(LOAD_CONCURRENCY),
    Infinity,
  );
  const events: string[] = [];
  const h = new ShardSpecs(new SpecCatalog(SHARDS), (s, from) => (from === undefined ? sources.sourceOf(s) : sources.resumeOf(s, from)), silentLog, (e) => events.push(e.type === 'SPEC_SET' ? `set ${e.spec.id}` : `removed ${e.id}`));
  return { seen, events, h };
}

test('restartAll (a NATS reconnect): a loaded shard resumes after its last applied change, not reloaded, and what its old watch missed is told', async () => {
  const bucket = new FakeSpecBucket();
  const [a, b, c] = idsIn(1, 3) as [string, string, string];
  await bucket.put(a, spec(1) as never);
  await bucket.put(c, spec(3) as never);
  const { seen, events, h } = reconnectable(bucket);
  await h.hold(1);
  await flush(10);
  const heard = await bucket.put(c, { ...spec(3), intervalMs: 7000 } as never);
  await flush(10);
  expect(events).toEqual([`set ${c}`]);
  seen.deaf = true;
  await bucket.put(b, spec(2) as never);
  await bucket.delete(a);
  await flush(10);
  expect(events).toEqual([`set ${c}`]);
  seen.deaf = false;
  h.restartAll();
  await flush(20);
  // Loaded on a watch of its own up to revision 2, then the node's tail from 3; resumed from after 3.
  expect(seen).toEqual({ watches: 1, tails: [3, heard + 1], deaf: false });
  expect(events).toEqual([`set ${c}`, `set ${b}`, `removed ${a}`]);
  expect(h.catalog.inShard(1).map((s) => s.id).sort()).toEqual([b, c].sort());
  // The tail goes on: a later change is told once.
  await bucket.put(b, { ...spec(2), intervalMs: 9000 } as never);
  await flush(10);
  expect(events).toEqual([`set ${c}`, `set ${b}`, `removed ${a}`, `set ${b}`]);
  await h.stop();
});

test('restartAll: an empty shard (complete at the bucket\'s last sequence when counted) resumes from there too', async () => {
  const bucket = new FakeSpecBucket();
  const [a] = idsIn(1, 1) as [string];
  const { seen, events, h } = reconnectable(bucket);
  await h.hold(1);
  await flush(10);
  seen.deaf = true;
  await bucket.put(a, spec(1) as never);
  await flush(10);
  expect(events).toEqual([]);
  seen.deaf = false;
  h.restartAll();
  await flush(20);
  expect(seen).toEqual({ watches: 0, tails: [1, 1], deaf: false });
  expect(events).toEqual([`set ${a}`]);
  await h.stop();
});
