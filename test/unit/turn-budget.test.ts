// The node's budget of bulk work per turn (runtime/turn-budget.ts), on a manual clock and manual
// turns: work opens a slice at once, waits once it is spent, and waiters get one slice per turn in
// the order they asked. Then many spec feeds loading from memory at once share it: a turn holds at
// most one slice of entries however many feeds load (a count per feed let 20 feeds move 20 × 256),
// and shards loaded together start their runners in slices, not all in one turn.

import { syncHolds } from '../../actors/owner-slots';
import type { SpecHolder } from '../../actors/shard-specs';
import { SpecCatalog } from '../../actors/spec-catalog';
import { followSpecs } from '../../actors/spec-feed';
import { snapshotThenTail, type SnapshotEntry } from '../../runtime/spec-snapshot';
import type { SpecWatch } from '../../runtime/spec-watch';
import { PIECE_SLICE_MS, TurnBudget } from '../../runtime/turn-budget';
import { loadConfig } from '../../runtime/config';
import { silentLog } from '../helpers/actor-host';

/** A budget whose clock and turns the test moves. */
function manual(sliceMs = 10, pieceSliceMs = sliceMs) {
  let t = 0;
  let deferred: (() => void)[] = [];
  const budget = new TurnBudget({ sliceMs, pieceSliceMs, now: () => t, defer: (fn) => void deferred.push(fn) });
  return {
    budget,
    advance: (ms: number) => (t += ms),
    /** One turn: what was deferred runs, then the microtasks it started. */
    async turn() {
      const run = deferred;
      deferred = [];
      for (const fn of run) fn();
      await new Promise((r) => setImmediate(r));
    },
  };
}

test('work while no slice is open goes on at once; once the slice is sliceMs old it waits for a later turn', async () => {
  const m = manual(10);
  expect(m.budget.spent()).toBe(false);
  m.advance(9);
  expect(m.budget.spent()).toBe(false);
  m.advance(1);
  expect(m.budget.spent()).toBe(true);
  let resumed = false;
  void m.budget.next().then(() => (resumed = true));
  await new Promise((r) => setImmediate(r));
  expect(resumed).toBe(false);
  await m.turn();
  expect(resumed).toBe(true);
  // The resumed waiter has a fresh slice.
  expect(m.budget.spent()).toBe(false);
});

test('a slice goes to a waiting continuation first; else pieces run one after another while it lasts, in the order asked', async () => {
  // A continuation's slice 5 ms, a run of pieces' 10 ms.
  const m = manual(5, 10);
  m.budget.spent();
  m.advance(10);
  const order: string[] = [];
  // Pieces of 4 ms each: three fit a 10 ms run (the third spends it).
  const piece = (name: string) => () => (order.push(name), m.advance(4));
  for (const name of ['a', 'b', 'c', 'd']) m.budget.run(piece(name));
  void m.budget.next().then(() => order.push('feed'));
  m.budget.run(piece('e'));
  await new Promise((r) => setImmediate(r));
  expect(m.budget.queued).toBe(6);
  const seen: string[][] = [];
  for (let i = 0; i < 3; i++) {
    await m.turn();
    seen.push([...order]);
  }
  expect(seen).toEqual([['feed'], ['feed', 'a', 'b', 'c'], ['feed', 'a', 'b', 'c', 'd', 'e']]);
});

test('pieces wait while a load is under way, and run once the last has ended', async () => {
  const m = manual(10);
  const order: string[] = [];
  const endA = m.budget.loading();
  const endB = m.budget.loading();
  m.budget.run(() => order.push('start'));
  for (let i = 0; i < 3; i++) await m.turn();
  expect(order).toEqual([]);
  endA();
  endA(); // idempotent: B is still under way
  for (let i = 0; i < 3; i++) await m.turn();
  expect(order).toEqual([]);
  endB();
  await m.turn();
  expect(order).toEqual(['start']);
  // Nothing under way: a piece in an open slice runs at once.
  m.budget.run(() => order.push('next'));
  expect(order).toEqual(['start', 'next']);
});

test('work under way (next(true)) goes ahead of the other continuations, and pieces after them', async () => {
  const m = manual(10);
  m.budget.spent();
  m.advance(10);
  const order: string[] = [];
  m.budget.run(() => order.push('start 1'));
  m.budget.run(() => order.push('start 2'));
  // A feed with three slices of work left, each wait ahead of the queue.
  void (async () => {
    for (let slice = 1; slice <= 3; slice++) {
      await m.budget.next(true);
      order.push(`load ${slice}`);
      m.advance(10);
    }
  })();
  for (let i = 0; i < 5; i++) await m.turn();
  expect(order).toEqual(['load 1', 'load 2', 'load 3', 'start 1', 'start 2']);
});

test('a close with no waiter leaves the budget idle: the next work opens a slice at once, however late', async () => {
  const m = manual(10);
  m.budget.spent();
  await m.turn();
  m.advance(1_000);
  const before = m.budget.slices;
  expect(m.budget.spent()).toBe(false);
  expect(m.budget.slices).toBe(before + 1);
  let ran = false;
  m.budget.run(() => (ran = true));
  expect(ran).toBe(true);
});

test('feeds loading at once share the budget: a turn of the event loop holds at most one slice of entries', async () => {
  const FEEDS = 20;
  const PER_FEED = 600;
  const SLICE = 10;
  const catalog = new SpecCatalog(16);
  // "1 ms" of the budget's clock per entry catalogued: a slice is SLICE entries across all feeds.
  const budget = new TurnBudget({ sliceMs: SLICE, now: () => catalog.size });
  const enc = new TextEncoder();
  const never: SpecWatch = { changes: (async function* () {})(), stop: () => {} };
  const stops: (() => Promise<void>)[] = [];
  let loaded = 0;
  for (let f = 0; f < FEEDS; f++) {
    const entries: SnapshotEntry[] = [];
    for (let i = 0; i < PER_FEED; i++) entries.push({ id: `f${f}-${i}`, revision: f * PER_FEED + i + 1, deleted: false, value: enc.encode(JSON.stringify({ kind: 'tcp', target: `127.0.0.1:${1000 + i}`, intervalMs: 5000, timeoutMs: 1000 })) });
    const source = { count: async () => PER_FEED, watch: async () => snapshotThenTail(entries, FEEDS * PER_FEED, async () => never) };
    stops.push(followSpecs(source, catalog, silentLog, (e) => e.type === 'SPECS_LOADED' && loaded++, { turns: budget }));
  }
  // The entries catalogued in each turn: a probe that notes the catalog's size once per turn.
  const perTurn: number[] = [];
  let last = 0;
  const deadline = performance.now() + 20_000;
  while (catalog.size < FEEDS * PER_FEED && performance.now() < deadline) {
    await new Promise((r) => setImmediate(r));
    perTurn.push(catalog.size - last);
    last = catalog.size;
  }
  expect(catalog.size).toBe(FEEDS * PER_FEED);
  // One slice, and at most one entry more per feed that passed its check just before the slice was spent.
  expect(Math.max(...perTurn)).toBeLessThanOrEqual(SLICE + FEEDS);
  await Promise.all(stops.map((s) => s()));
});

test('shards loaded in one turn start their runners in slices: one start per turn once a start spends the slice', async () => {
  const m = manual(10);
  const catalog = new SpecCatalog(16);
  const specs: SpecHolder = { catalog, hold: async () => {}, drop: () => {} };
  const want = new Map([0, 1, 2, 3].map((shard) => [`${shard}/0`, { shard, rank: 0 }]));
  const started: number[][] = [];
  let now: number[] = [];
  // Each runner start costs "10 ms" of the budget's clock: a slice each.
  const self = { send: (e: { shard: number }) => (now.push(e.shard), m.advance(10)) };
  syncHolds({ specs, holdSeq: { n: 0 }, turns: m.budget }, want, new Map(), new Set(), self);
  await new Promise((r) => setImmediate(r));
  started.push(now);
  for (let i = 0; i < 4; i++) {
    now = [];
    await m.turn();
    started.push(now);
  }
  expect(started).toEqual([[0], [1], [2], [3], []]);
});

test('off (LOOKOUT_LOAD_SLICE_MS 0, the default): nothing is ever spent and pieces run at once, loads under way or not', async () => {
  const m = manual(10);
  m.budget.configure(0);
  expect(m.budget.on).toBe(false);
  m.advance(1_000);
  expect(m.budget.spent()).toBe(false);
  const end = m.budget.loading();
  const order: string[] = [];
  m.budget.run(() => order.push('start'));
  expect(order).toEqual(['start']);
  end();
  // Set again, it slices: a run of pieces gets at least PIECE_SLICE_MS.
  m.budget.configure(5);
  expect({ on: m.budget.on, slice: m.budget.sliceMs, pieces: m.budget.pieceSliceMs }).toEqual({ on: true, slice: 5, pieces: PIECE_SLICE_MS });
});

test('LOOKOUT_LOAD_SLICE_MS: 0 (off) by default; from the environment or --load-slice-ms; at most 1,000', () => {
  expect(loadConfig({}).loadSliceMs).toBe(0);
  expect(loadConfig({ LOOKOUT_LOAD_SLICE_MS: '5' }).loadSliceMs).toBe(5);
  expect(loadConfig({}, ['--load-slice-ms', '20']).loadSliceMs).toBe(20);
  expect(() => loadConfig({ LOOKOUT_LOAD_SLICE_MS: '5000' })).toThrow(/LOOKOUT_LOAD_SLICE_MS/);
  expect(() => loadConfig({ LOOKOUT_LOAD_SLICE_MS: 'fast' })).toThrow(/LOOKOUT_LOAD_SLICE_MS/);
});
