// The leader's assigner under a simulated clock with an in-memory map key: coalesced rebalances
// (a flapping node causes one write, not ten), the term stamped on every map, epochs that keep
// increasing, no write once the lease is gone, and the three ways a write fails, each with its
// own reaction and log line: a lost compare-and-set re-reads, a fencing refusal (NotLeader) stops
// writing, a store failure retries every ASSIGN_RETRY_MS.
import pino from 'pino';
import { createActor } from 'xstate';
import { ASSIGN_RETRY_MS, assignerMachine } from '../../actors/assigner';
import { ManualClock } from '../../runtime/clock';
import { run, start, TEST_CHURN } from '../helpers/assigner-host';
import { FakeMapKey } from '../helpers/fake-kv';

test('the first map is written after the quiet period, stamped with the term and epoch 1', async () => {
  const store = new FakeMapKey();
  const { clock, announced } = start(store);
  await run(clock, 250);
  expect(store.writes).toHaveLength(0);
  await run(clock, 100);
  expect(store.writes).toHaveLength(1);
  expect(store.writes[0]).toMatchObject({ term: 7, epoch: 1, leader: 'a', members: ['a', 'b', 'c'] });
  expect(announced[0]).toMatchObject({ term: 7, epoch: 1, moved: 16, minimalMoves: 16 });
});

test('a flapping member causes one rebalance, not ten', async () => {
  const store = new FakeMapKey();
  const { clock, actor } = start(store);
  await run(clock, 500);
  expect(store.writes).toHaveLength(1);
  // d flaps: joins and leaves ten times, 50 ms apart, and finally stays.
  for (let i = 0; i < 10; i++) {
    actor.send({ type: 'MEMBERS', live: i % 2 === 0 ? ['a', 'b', 'c', 'd'] : ['a', 'b', 'c'] });
    await run(clock, 50);
  }
  actor.send({ type: 'MEMBERS', live: ['a', 'b', 'c', 'd'] });
  await run(clock, 2000);
  expect(store.writes).toHaveLength(2);
  expect(store.writes[1]).toMatchObject({ epoch: 2, members: ['a', 'b', 'c', 'd'] });
});

test('a change that never goes quiet is still written within the maximum delay', async () => {
  const store = new FakeMapKey();
  const { clock, actor } = start(store);
  await run(clock, 500);
  const t0 = clock.monotonic();
  let written = -1;
  for (let i = 0; i < 40 && written < 0; i++) {
    actor.send({ type: 'MEMBERS', live: i % 2 === 0 ? ['a', 'b', 'c', 'd'] : ['a', 'b', 'c', 'e'] });
    await run(clock, 100);
    if (store.writes.length > 1) written = clock.monotonic() - t0;
  }
  expect(written).toBeGreaterThan(0);
  expect(written).toBeLessThanOrEqual(1000 + 100);
});

test('a new term continues the stored epoch and re-stamps the map even if nothing moved', async () => {
  const store = new FakeMapKey();
  const first = start(store, { term: 7 });
  await run(first.clock, 500);
  first.actor.stop();
  const second = start(store, { term: 12 });
  await run(second.clock, 500);
  expect(store.writes.map((w) => [w.term, w.epoch])).toEqual([
    [7, 1],
    [12, 2],
  ]);
  expect(store.writes[1]!.shards).toEqual(store.writes[0]!.shards);
});

test('no write once the lease is gone', async () => {
  const store = new FakeMapKey();
  const { clock } = start(store, { leaseValidUntil: 0 });
  await run(clock, 3000);
  expect(store.writes).toHaveLength(0);
});

test('the lease validity arrives by message: a renewal told by LEASE lets the pending write through', async () => {
  const store = new FakeMapKey();
  const { clock, actor } = start(store, { leaseValidUntil: 100 });
  await run(clock, 1000); // the first write is due after the quiet period, past the lease: refused
  expect(store.writes).toHaveLength(0);
  actor.send({ type: 'LEASE', validUntil: clock.monotonic() + 4000 });
  await run(clock, 1500);
  expect(store.writes).toHaveLength(1);
  // An older LEASE (out of order) never shortens what is known.
  actor.send({ type: 'LEASE', validUntil: 0 });
  actor.send({ type: 'MEMBERS', live: ['a', 'b'] });
  await run(clock, 1500);
  expect(store.writes).toHaveLength(2);
});

test('losing the compare-and-set re-reads the map and writes on top of it', async () => {
  const store = new FakeMapKey();
  const { clock } = start(store);
  await run(clock, 100);
  // Someone (a previous leader's late write) changes the key after we read it.
  store.revision = 5;
  store.record = { term: 3, epoch: 9, leader: 'z', at: 0, members: ['z'], shards: Array.from({ length: 16 }, () => ['z']) };
  await run(clock, 2000);
  expect(store.writes.at(-1)).toMatchObject({ term: 7, epoch: 10, members: ['a', 'b', 'c'] });
});

test('a freshly started leader waits for heartbeats before its first map only, not before every rebalance', async () => {
  const store = new FakeMapKey();
  const clock = new ManualClock();
  const actor = createActor(assignerMachine, {
    clock,
    input: {
      term: 3, node: 'a', store, shardCount: 16, vantagePoints: 1, quietMs: 300, maxDelayMs: 1000,
      firstMapNotBefore: clock.monotonic() + 1500, clock, log: pino({ level: 'silent' }), live: ['a'], churn: TEST_CHURN, leaseValidUntil: Infinity, announce: () => {},
    },
  });
  actor.start();
  await run(clock, 1400);
  expect(store.writes).toHaveLength(0);
  actor.send({ type: 'MEMBERS', live: ['a', 'b'] });
  await run(clock, 320);
  expect(store.writes.map((w) => w.members)).toEqual([['a', 'b']]);
  // Later changes wait only for the ordinary quiet period.
  actor.send({ type: 'MEMBERS', live: ['a', 'b', 'c'] });
  await run(clock, 310);
  expect(store.writes).toHaveLength(2);
});

describe('a failed write: each error code has its own reaction', () => {
  test('cas_conflict: re-reads the map at once and writes on top of it', async () => {
    const store = new FakeMapKey();
    const { clock, events } = start(store);
    await run(clock, 100);
    store.writeUnseen({ term: 7, epoch: 4, leader: 'a', at: 0, members: ['a'], shards: Array.from({ length: 16 }, () => ['a']) });
    await run(clock, 1000);
    expect(events('assignment_conflict')).toEqual([expect.objectContaining({ level: 40, code: 'cas_conflict', revision: 0 })]);
    expect(store.reads).toBe(2);
    expect(store.writes).toEqual([expect.objectContaining({ term: 7, epoch: 5, members: ['a', 'b', 'c'] })]);
    expect(events('assignment_write_failed')).toEqual([]);
  });

  test('not_leader (the lease ran out): no write, no retry loop, one log line', async () => {
    const store = new FakeMapKey();
    const { clock, events } = start(store, { leaseValidUntil: 100 });
    await run(clock, 5000);
    expect(store.writes).toEqual([]);
    expect(store.reads).toBe(1); // the first load only: fenced, it reads nothing more
    expect(events('assignment_fenced')).toEqual([expect.objectContaining({ level: 40, code: 'not_leader', term: 7, reason: 'lease_expired' })]);
    expect(events('assignment_write_failed')).toEqual([]);
  });

  test('not_leader (a newer term wrote the map): writes nothing over it, even after a renewal', async () => {
    const store = new FakeMapKey();
    store.writeUnseen({ term: 9, epoch: 3, leader: 'z', at: 0, members: ['z'], shards: Array.from({ length: 16 }, () => ['z']) });
    const { clock, actor, events } = start(store, { term: 7 });
    await run(clock, 1000);
    actor.send({ type: 'LEASE', validUntil: clock.monotonic() + 4000 });
    actor.send({ type: 'MEMBERS', live: ['a', 'b'] });
    await run(clock, 2000);
    expect(store.writes).toEqual([]);
    expect(store.reads).toBe(1);
    expect(events('assignment_fenced')).toEqual([expect.objectContaining({ code: 'not_leader', reason: 'newer_term' })]);
  });

  test('storage_unavailable: retries every ASSIGN_RETRY_MS until the store is back, then writes', async () => {
    const store = new FakeMapKey();
    store.writeError = new Error('TIMEOUT');
    const { clock, events } = start(store);
    while (events('assignment_write_failed').length === 0) await run(clock, 10); // the first write, after the quiet period
    const failedAt = clock.monotonic();
    expect(events('assignment_write_failed')).toEqual([expect.objectContaining({ level: 40, code: 'storage_unavailable', retryMs: ASSIGN_RETRY_MS })]);
    expect(events('assignment_write_failed')[0].err.message).toMatch(/write of map failed: TIMEOUT/);
    const reads = store.reads;
    await run(clock, ASSIGN_RETRY_MS - 20);
    expect(store.reads).toBe(reads); // backs off: no re-read before ASSIGN_RETRY_MS
    await run(clock, 40);
    expect(store.reads).toBe(reads + 1);
    await run(clock, 2000);
    const failures = events('assignment_write_failed').length;
    expect(failures).toBeGreaterThan(2);
    expect(failures).toBeLessThanOrEqual(Math.ceil((clock.monotonic() - failedAt) / ASSIGN_RETRY_MS) + 1);
    store.writeError = null;
    await run(clock, ASSIGN_RETRY_MS + 300 + 50); // the retry, then the quiet period
    expect(store.writes).toEqual([expect.objectContaining({ term: 7, epoch: 1 })]);
    expect(events('assignment_fenced')).toEqual([]);
  });
});
