// The node's lifecycle machine under a manual clock: a leave that waits for a map without this
// node and then until its releases were claimed (HANDED_OVER, never a wall-clock instant); a leave
// with nobody to hand over to; a leave that times out; a duplicate node id that stops without leaving. The host records what the machine tells
// the node (LEAVING, and its final output: why the node stops) and when.
import pino from 'pino';
import { LEAVE_FLUSH_MS, lifecycleMachine, type LifecycleOutput } from '../../actors/node-lifecycle';
import type { Slot } from '../../protocol/assignment-record';
import { emptyView, type ClusterView } from '../../protocol/cluster-view';
import type { AssignmentRecord } from '../../protocol/records';
import { ManualClock } from '../../runtime/clock';
import { host, type Hosted } from '../helpers/actor-host';

const LEAVE_TIMEOUT_MS = 5000;

type Told = { type: 'LEAVING' } | { type: 'xstate.done.actor.child'; output: LifecycleOutput };

const record = (at: number): AssignmentRecord => ({ term: 3, epoch: 9, leader: 'b', at, members: ['a', 'b'], shards: [['a'], ['b']] });
const view = (live: string[], assignment: AssignmentRecord | null): ClusterView => ({ ...emptyView('a'), live, assignment });
const assigned = (at: number, slots: Slot[]) => ({ type: 'ASSIGNED', record: record(at), slots });

/** Let a resolved flush reach the machine. */
const settle = () => new Promise((r) => setImmediate(r));

function start(initial: ClusterView, flush: () => Promise<void> = async () => {}) {
  const clock = new ManualClock();
  const lines: any[] = [];
  const log = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const t0 = clock.monotonic();
  const lc: Hosted<Told> = host<Told>(lifecycleMachine, { log, view: initial, leaveTimeoutMs: LEAVE_TIMEOUT_MS, flush }, clock);
  /** What the machine told the node, as "type@ms since start" (the final output as "stop:<reason>"). */
  const told = () => lc.events.map((e) => `${e.type === 'LEAVING' ? 'LEAVING' : `stop:${(e as any).output.reason}`}@${e.at - t0}`);
  const events = () => lines.map((l) => l.event);
  return { clock, lc, lines, told, events };
}

const ours: Slot[] = [{ shard: 0, rank: 0 }];

test('leave with a handover map: stops once the releases were claimed and written out, whatever the map’s `at` says', async () => {
  const { clock, lc, lines, told, events } = start(view(['a', 'b'], record(0)));
  clock.advance(1000);
  expect(told()).toEqual([]); // active: nothing until SHUTDOWN
  lc.send({ type: 'SHUTDOWN' });
  expect(told()).toEqual(['LEAVING@1000']);
  expect(lines.at(-1)).toMatchObject({ level: 30, event: 'node_leaving', leaveTimeoutMs: LEAVE_TIMEOUT_MS });

  // A map that still gives us a slot is not the handover map; a second SHUTDOWN changes nothing.
  clock.advance(500);
  lc.send(assigned(clock.now(), ours));
  lc.send({ type: 'SHUTDOWN' });
  expect(told()).toEqual(['LEAVING@1000']);

  // The map without us, stamped 30 s in the future by a skewed leader: its `at` plays no part.
  clock.advance(500);
  lc.send(assigned(clock.now() + 30_000, []));
  expect(lines.at(-1)).toMatchObject({ event: 'leave_handover_map' });
  // Once handing over, a view that says we are alone does not cut the handover short.
  lc.send({ type: 'VIEW', view: view(['a'], record(0)) });
  clock.advance(LEAVE_TIMEOUT_MS - 1);
  expect(told()).toEqual(['LEAVING@1000']);
  lc.send({ type: 'HANDED_OVER' });
  await settle(); // the flush of the last releases
  expect(told()).toEqual(['LEAVING@1000', `stop:shutdown@${2000 + LEAVE_TIMEOUT_MS - 1}`]);
  expect(events()).toEqual(['node_leaving', 'leave_handover_map', 'leave_handed_over']);
});

test.each([
  ['alone (no other live member)', view(['a'], record(0))],
  ['unassigned (no map followed yet)', view(['a', 'b'], null)],
])('leave %s: stops at once, after announcing the leave', (_name, initial) => {
  const { clock, lc, told, events } = start(initial);
  clock.advance(100);
  lc.send({ type: 'SHUTDOWN' });
  expect(told()).toEqual(['LEAVING@100', 'stop:shutdown@100']);
  expect(events()).toEqual(['node_leaving']);
});

test('leave while the others go: a view without another live member stops the wait for a map', () => {
  const { clock, lc, told } = start(view(['a', 'b'], record(0)));
  lc.send({ type: 'SHUTDOWN' });
  clock.advance(700);
  lc.send({ type: 'VIEW', view: view(['a', 'b', 'c'], record(0)) });
  expect(told()).toEqual(['LEAVING@0']);
  lc.send({ type: 'VIEW', view: view(['a'], record(0)) });
  expect(told()).toEqual(['LEAVING@0', 'stop:shutdown@700']);
});

test('leave timeout: no map without this node within leaveTimeoutMs, the node stops anyway (warned)', () => {
  const { clock, lc, lines, told } = start(view(['a', 'b'], record(0)));
  lc.send({ type: 'SHUTDOWN' });
  for (let t = 1000; t < LEAVE_TIMEOUT_MS; t += 1000) {
    clock.advance(1000);
    lc.send(assigned(clock.now(), ours)); // maps keep coming, each still with a slot of ours
  }
  clock.advance(999);
  expect(told()).toEqual(['LEAVING@0']);
  clock.advance(1);
  expect(told()).toEqual(['LEAVING@0', `stop:shutdown@${LEAVE_TIMEOUT_MS}`]);
  expect(lines.at(-1)).toMatchObject({ level: 40, event: 'leave_timeout' });
  expect(clock.pending).toBe(0);
});

test('a duplicate node id stops at once and skips the leave: no LEAVING, no leave log', () => {
  const { clock, lc, told, events } = start(view(['a', 'b'], record(0)));
  clock.advance(250);
  lc.send({ type: 'DUPLICATE' });
  expect(told()).toEqual(['stop:duplicate_node_id@250']);
  expect(events()).toEqual([]);
  lc.send({ type: 'SHUTDOWN' }); // the machine is done: nothing more
  expect(told()).toEqual(['stop:duplicate_node_id@250']);
});

test('a duplicate node id found while leaving stops at once, without waiting for the releases', () => {
  const { clock, lc, told } = start(view(['a', 'b'], record(0)));
  lc.send({ type: 'SHUTDOWN' });
  lc.send(assigned(clock.now(), []));
  clock.advance(1000);
  lc.send({ type: 'DUPLICATE' });
  expect(told()).toEqual(['LEAVING@0', 'stop:duplicate_node_id@1000']);
  expect(clock.pending).toBe(0);
});

test('releases never claimed: the leave stops after leaveTimeoutMs of handing over (warned)', async () => {
  const { clock, lc, lines, told } = start(view(['a', 'b'], record(0)));
  lc.send({ type: 'SHUTDOWN' });
  clock.advance(400);
  lc.send(assigned(clock.now(), []));
  clock.advance(LEAVE_TIMEOUT_MS - 1);
  expect(told()).toEqual(['LEAVING@0']);
  clock.advance(1);
  await settle();
  expect(told()).toEqual(['LEAVING@0', `stop:shutdown@${400 + LEAVE_TIMEOUT_MS}`]);
  expect(lines.at(-1)).toMatchObject({ level: 40, event: 'leave_handover_timeout' });
});

test('the last releases are written out before the node stops: it waits for NATS to confirm, at most LEAVE_FLUSH_MS (warned)', async () => {
  let confirm: () => void = () => {};
  const flushes: number[] = [];
  const { clock, lc, told } = start(view(['a', 'b'], record(0)), () => {
    flushes.push(clock.monotonic());
    return new Promise<void>((resolve) => (confirm = resolve));
  });
  lc.send({ type: 'SHUTDOWN' });
  lc.send(assigned(clock.now(), []));
  clock.advance(100);
  lc.send({ type: 'HANDED_OVER' });
  await settle();
  expect(flushes).toEqual([100]);
  expect(told()).toEqual(['LEAVING@0']); // not before NATS confirmed
  clock.advance(50);
  confirm();
  await settle();
  expect(told()).toEqual(['LEAVING@0', 'stop:shutdown@150']);

  // A server that never answers: the stop waits LEAVE_FLUSH_MS, no longer.
  const hung = start(view(['a', 'b'], record(0)), () => new Promise<void>(() => {}));
  hung.lc.send({ type: 'SHUTDOWN' });
  hung.lc.send(assigned(hung.clock.now(), []));
  hung.lc.send({ type: 'HANDED_OVER' });
  hung.clock.advance(LEAVE_FLUSH_MS - 1);
  await settle();
  expect(hung.told()).toEqual(['LEAVING@0']);
  hung.clock.advance(1);
  expect(hung.told()).toEqual(['LEAVING@0', `stop:shutdown@${LEAVE_FLUSH_MS}`]);
  expect(hung.lines.at(-1)).toMatchObject({ level: 40, event: 'leave_flush_timeout' });
});
