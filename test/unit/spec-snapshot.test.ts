// One snapshot, then tail (runtime/spec-snapshot.ts, runtime/shard-spec-sources.ts), on in-memory
// ports: which entries a snapshot keeps, the sequence each tail starts at, a shard's feed replaying
// its entries before its tail, and which shards share a snapshot. The real bucket (a change
// between the snapshot and the tails) is test/integration/spec-shards.test.ts.
import { shardOf } from '../../protocol/hash';
import { specKey } from '../../protocol/spec-key';
import { ShardSources, SNAPSHOT_RETRY_MS, SNAPSHOT_TRIES, type ShardSourcePorts } from '../../runtime/shard-spec-sources';
import { loadThenTail, SNAPSHOT_ALL_MAX_PER_KEY, snapshotPolicy, snapshotThenTail, SnapshotCollector, type SpecSnapshot } from '../../runtime/spec-snapshot';
import type { SpecChange, SpecFeedSource, SpecWatch } from '../../runtime/spec-watch';
import { silentLog } from '../helpers/actor-host';

const SHARDS = 8;
const bytes = (s: string) => new TextEncoder().encode(s);
const idIn = (shard: number, n = 0) => Array.from({ length: 400 }, (_, i) => `c${i}`).filter((id) => shardOf(id, SHARDS) === shard)[n]!;

describe('SnapshotCollector', () => {
  const a = idIn(1);
  const b = idIn(1, 1);
  const other = idIn(2);
  test.each([
    ['a wanted shard is kept', [[specKey(a, SHARDS), 3, false]], { 1: [[a, 3, false]] }, 3],
    ['a delete is kept (no value)', [[specKey(a, SHARDS), 5, true]], { 1: [[a, 5, true]] }, 5],
    ['another shard is skipped, its sequence noted', [[specKey(a, SHARDS), 3, false], [specKey(other, SHARDS), 9, false]], { 1: [[a, 3, false]] }, 9],
    ['a legacy key is skipped', [['bare', 4, false]], {}, 4],
    ['a key under the wrong shard is skipped', [[`1.${other}`, 4, false]], {}, 4],
    ['entries stay in stream order', [[specKey(b, SHARDS), 2, false], [specKey(a, SHARDS), 6, false]], { 1: [[b, 2, false], [a, 6, false]] }, 6],
    ['a key read again (every message read: its older revisions first) keeps its latest, in that one\'s place', [[specKey(b, SHARDS), 2, false], [specKey(a, SHARDS), 6, false], [specKey(b, SHARDS), 7, true]], { 1: [[a, 6, false], [b, 7, true]] }, 7],
  ] as [string, [string, number, boolean][], Record<number, [string, number, boolean][]>, number][])('%s', (_name, input, kept, seq) => {
    const c = new SnapshotCollector(new Set([1, 3]), SHARDS);
    for (const [key, rev, deleted] of input) {
      c.add(key, rev, deleted, () => {
        if (!key.startsWith('1.')) throw new Error(`value of ${key} read`);
        return bytes(`{"n":${rev}}`);
      });
    }
    expect(Object.fromEntries([...c.result().entries].map(([s, l]) => [s, l.map((e) => [e.id, e.revision, e.deleted])]))).toEqual(kept);
    expect(c.seq).toBe(seq);
  });
});

test.each([
  ['one revision per key: every message', 1_000_000, 1_000_000, 'all'],
  ['up to the ratio: every message', SNAPSHOT_ALL_MAX_PER_KEY * 1000, 1000, 'all'],
  ['past it: the last per subject', SNAPSHOT_ALL_MAX_PER_KEY * 1000 + 1, 1000, 'lastPerSubject'],
  ['a server that does not say how many keys: every message', 5000, undefined, 'all'],
  ['no key counted: every message', 5, 0, 'all'],
] as const)('snapshotPolicy: %s', (_name, messages, subjects, policy) => {
  expect(snapshotPolicy(messages, subjects)).toBe(policy);
});

function fakeWatch(items: SpecChange[]): SpecWatch & { stopped: boolean } {
  const w = {
    stopped: false,
    changes: (async function* () {
      yield* items;
    })(),
    stop: () => {
      w.stopped = true;
    },
  };
  return w;
}

const change = (key: string, revision: number, deleted = false): SpecChange => ({ key, revision, deleted, json: () => ({ revision }), initialDone: false });

async function drain(w: SpecWatch): Promise<[string | null, number, boolean, boolean, unknown][]> {
  const out: [string | null, number, boolean, boolean, unknown][] = [];
  for await (const c of w.changes) out.push([c.key, c.revision, c.deleted, c.initialDone, c.json()]);
  return out;
}

test("a shard's feed: its entries, the end of the load, then its tail (opened after them, from the snapshot's sequence + 1) as changes", async () => {
  const tail = fakeWatch([change('z', 12), change('a', 13, true)]);
  const opened: number[] = [];
  const w = snapshotThenTail([{ id: 'a', revision: 4, deleted: false, value: bytes('{"v":1}') }, { id: 'b', revision: 9, deleted: false, value: bytes('not json') }], 11, async (from) => {
    opened.push(from);
    return tail;
  });
  const it = w.changes[Symbol.asyncIterator]();
  for (let i = 0; i < 3; i++) await it.next();
  expect(opened).toEqual([]);
  const rest = await drain({ changes: { [Symbol.asyncIterator]: () => it }, stop: () => {} });
  expect(opened).toEqual([12]);
  expect(rest).toEqual([
    ['z', 12, false, true, { revision: 12 }],
    ['a', 13, true, true, { revision: 13 }],
  ]);
  w.stop();
  expect(tail.stopped).toBe(true);
});

test('a feed stopped before its tail opens stops the tail once it exists; its entries still end the load', async () => {
  const tail = fakeWatch([change('z', 12)]);
  let open: (w: SpecWatch) => void = () => {};
  const w = snapshotThenTail([{ id: 'a', revision: 4, deleted: false, value: bytes('{}') }], 11, () => new Promise((r) => (open = r)));
  const it = w.changes[Symbol.asyncIterator]();
  expect((await it.next()).value).toMatchObject({ key: 'a', initialDone: false });
  expect((await it.next()).value).toMatchObject({ key: null, initialDone: true });
  const last = it.next();
  await new Promise((r) => setImmediate(r));
  w.stop();
  open(tail);
  expect((await last).done).toBe(true);
  expect(tail.stopped).toBe(true);
});

test("a shard loaded on a watch of its own: its values to the end of the load, that watch stopped, then its tail from after the last it delivered", async () => {
  const own = fakeWatch([change('a', 4), change('b', 9, true), { ...change('c', 7), initialDone: true }, change('late', 12)]);
  const tail = fakeWatch([change('d', 13)]);
  const from: number[] = [];
  const w = loadThenTail(own, async (at) => (from.push(at), tail));
  const read = await drain(w);
  expect(read.map(([k, r, d, done]) => [k, r, d, done])).toEqual([['a', 4, false, false], ['b', 9, true, false], ['c', 7, false, true], ['d', 13, false, true]]);
  expect([own.stopped, from]).toEqual([true, [10]]);
});

test('a watch of its own that ends before its initial values fails the feed (no tail opened)', async () => {
  const from: number[] = [];
  const w = loadThenTail(fakeWatch([change('a', 4)]), async (at) => (from.push(at), fakeWatch([])));
  await expect(drain(w)).rejects.toThrow('the spec watch ended before its initial values');
  expect(from).toEqual([]);
});

describe('ShardSources', () => {
  const places = { acquire: async () => () => {} };
  /** `fail`: how many snapshot reads fail before they succeed. */
  function ports(fail = 0) {
    const calls = { snapshots: [] as number[][], tails: [] as [number, number][], own: [] as number[] };
    const own = (shard: number): SpecFeedSource => ({
      count: async () => 7,
      watch: async () => {
        calls.own.push(shard);
        return fakeWatch([]);
      },
    });
    const p: ShardSourcePorts = {
      perShard: own,
      tail: async (shard, from) => {
        calls.tails.push([shard, from]);
        return fakeWatch([]);
      },
      lastSeq: async () => 50,
      snapshot: async (shards): Promise<SpecSnapshot> => {
        calls.snapshots.push([...shards].sort((x, y) => x - y));
        if (calls.snapshots.length <= fail) throw new Error('no snapshot');
        return { seq: 41, entries: new Map([[2, [{ id: idIn(2), revision: 40, deleted: false, value: bytes('{}') }]], [5, [{ id: idIn(5), revision: 30, deleted: true, value: bytes('') }]]]) };
      },
    };
    return { calls, p };
  }

  test('shards asked for in one turn share one snapshot; each tail starts after it; counts come from it', async () => {
    const { calls, p } = ports();
    const s = new ShardSources(p, silentLog, places, 3);
    const sources = [2, 4, 5].map((shard) => s.sourceOf(shard));
    expect(await Promise.all(sources.map((x) => x.count()))).toEqual([1, 0, 0]);
    const feeds = await Promise.all(sources.map((x) => x.watch()));
    expect(calls.snapshots).toEqual([[2, 4, 5]]);
    const read = await Promise.all(feeds.map((f) => drain(f)));
    expect(read[0]!.map(([k, r, , d]) => [k, r, d])).toEqual([[idIn(2), 40, false], [null, 41, true]]);
    expect(calls.tails.sort()).toEqual([[2, 42], [4, 42], [5, 42]]);
    expect(calls.own).toEqual([]);
    await s.settled();
    // Alone in a later turn (a retry, a shard gained later): a watch of its own.
    const later = s.sourceOf(2);
    expect(await later.count()).toBe(7);
    await later.watch();
    expect(calls.own).toEqual([2]);
    expect(calls.snapshots).toHaveLength(1);
  });

  test('fewer shards than the threshold: a watch each; failed snapshots: retried, then a watch each', async () => {
    const few = ports();
    const s = new ShardSources(few.p, silentLog, places, 3);
    const two = [1, 2].map((shard) => s.sourceOf(shard));
    for (const x of two) {
      expect(await x.count()).toBe(7);
      await x.watch();
    }
    expect(few.calls.snapshots).toEqual([]);
    expect(few.calls.own).toEqual([1, 2]);
    // A failed snapshot is read again for the same shards (their counts wait); after SNAPSHOT_TRIES
    // failures they load on watches of their own.
    const failing = ports(Infinity);
    const f = new ShardSources(failing.p, silentLog, places, 2);
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const both = [1, 2].map((shard) => f.sourceOf(shard));
    const counts = Promise.all(both.map((x) => x.count()));
    try {
      await jest.advanceTimersByTimeAsync(SNAPSHOT_RETRY_MS * 2 ** SNAPSHOT_TRIES);
    } finally {
      jest.useRealTimers();
    }
    expect(await counts).toEqual([7, 7]);
    for (const x of both) await x.watch();
    expect(failing.calls.snapshots).toEqual(Array.from({ length: SNAPSHOT_TRIES }, () => [1, 2]));
    expect(failing.calls.own).toEqual([1, 2]);
    expect(failing.calls.tails).toEqual([]);
  });
  test('a snapshot that fails once is read again for the same shards, and used', async () => {
    const { calls, p } = ports(1);
    const s = new ShardSources(p, silentLog, places, 2);
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const sources = [2, 5].map((shard) => s.sourceOf(shard));
    const counts = Promise.all(sources.map((x) => x.count()));
    try {
      await jest.advanceTimersByTimeAsync(SNAPSHOT_RETRY_MS);
    } finally {
      jest.useRealTimers();
    }
    expect(await counts).toEqual([1, 0]);
    expect(calls.snapshots).toEqual([[2, 5], [2, 5]]);
    await Promise.all(sources.map((x) => x.watch().then((f) => drain(f))));
    expect([calls.own, calls.tails.sort()]).toEqual([[], [[2, 42], [5, 42]]]);
  });

  test('one snapshot is read at a time: shards asked for while one is read wait for it and share the next; a shard asked for twice gets its entries twice', async () => {
    const reads: { shards: number[]; done: () => void }[] = [];
    let inFlight = 0;
    let most = 0;
    const entry = (shard: number) => ({ id: idIn(shard), revision: 40, deleted: false, value: bytes('{}') });
    const p: ShardSourcePorts = {
      perShard: () => ({
        count: () => Promise.reject(new Error('no watch of its own in this test')),
        watch: () => Promise.reject(new Error('no watch of its own in this test')),
      }),
      tail: async () => fakeWatch([]),
      lastSeq: async () => 50,
      snapshot: (shards) => {
        most = Math.max(most, ++inFlight);
        return new Promise<SpecSnapshot>((resolve) => {
          reads.push({ shards: [...shards].sort((x, y) => x - y), done: () => (inFlight--, resolve({ seq: 41, entries: new Map([2, 3, 5, 6].filter((x) => shards.has(x)).map((x) => [x, [entry(x)]])) })) });
        });
      },
    };
    const s = new ShardSources(p, silentLog, places, 2);
    const turn = async (shards: number[]) => {
      const sources = shards.map((shard) => s.sourceOf(shard));
      await new Promise((r) => setImmediate(r));
      return sources.map((x) => x.count());
    };
    const first = await turn([2, 4]);
    const second = await turn([2, 5]);
    const third = await turn([2, 6]);
    expect(reads.map((r) => r.shards)).toEqual([[2, 4]]);
    reads[0]!.done();
    expect(await Promise.all(first)).toEqual([1, 0]);
    await new Promise((r) => setImmediate(r));
    // The second and third turns share one read; each of their attempts at shard 2 gets its entry.
    expect(reads.map((r) => r.shards)).toEqual([[2, 4], [2, 5, 6]]);
    reads[1]!.done();
    expect([await Promise.all(second), await Promise.all(third)]).toEqual([[1, 1], [1, 1]]);
    expect(most).toBe(1);
    // Nothing in flight: the next turn's read starts at once.
    await turn([3, 4]);
    expect(reads.map((r) => r.shards)).toHaveLength(3);
  });

  test('settled waits for a tail still waiting for a place, until it is created', async () => {
    const { calls, p } = ports();
    let grant: () => void = () => {};
    const places = { acquire: () => new Promise<() => void>((r) => (grant = () => r(() => {}))) };
    const s = new ShardSources(p, silentLog, places, 1);
    const src = s.sourceOf(2);
    await src.count();
    const feed = await src.watch();
    const it = feed.changes[Symbol.asyncIterator]();
    await it.next();
    await it.next();
    const next = it.next();
    await new Promise((r) => setImmediate(r));
    let settled = false;
    const done = s.settled().then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect([settled, calls.tails]).toEqual([false, []]);
    feed.stop();
    grant();
    await done;
    expect(calls.tails).toEqual([[2, 42]]);
    expect((await next).done).toBe(true);
  });
});
