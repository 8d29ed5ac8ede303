// The assigner relieves overloaded members (protocol/overload-relief.ts wired in actors/assigner.ts),
// under a simulated clock with an in-memory map key and membership reports every 100 ms: a member
// whose heartbeat says overloaded gets half its fair share of primary shards in the next map (which
// lists it in `relieved`), keeps it while it says overloaded and until it has said clear for the
// hold, then gets its full share back; a new leader keeps relieving whom its predecessor's map did.
import type { AnyActorRef } from 'xstate';
import type { AssignedMember } from '../../actors/assigner';
import { shardsPerNode } from '../../protocol/assignment-moves';
import type { ManualClock } from '../../runtime/clock';
import { run, start } from '../helpers/assigner-host';
import { FakeMapKey } from '../helpers/fake-kv';

const RELIEF = { holdMs: 2_000, maxHoldMs: 20_000 };
/**
 * Since when each member runs, as the failure detector tracks it (failure-detector.ts
 * Member.runningSince): absent for a member never reported starting (it ran long before), undefined
 * while it starts, the first report after a start once it runs.
 */
const runningSince = new Map<string, number | undefined>();

const members = (overloaded: string[] = [], starting: string[] = []): AssignedMember[] =>
  ['a', 'b', 'c'].map((node) => ({ node, instance: `${node}1`, state: 'alive', overloaded: overloaded.includes(node), ...(starting.includes(node) ? { starting: true } : {}), runningSince: runningSince.get(node) }));

async function report(actor: AnyActorRef, clock: ManualClock, overloaded: string[], ms: number, starting: string[] = []): Promise<void> {
  for (let t = 0; t < ms; t += 100) {
    for (const node of ['a', 'b', 'c']) {
      if (starting.includes(node)) runningSince.set(node, undefined);
      else if (runningSince.has(node)) runningSince.set(node, runningSince.get(node) ?? clock.monotonic());
    }
    actor.send({ type: 'MEMBERS', live: ['a', 'b', 'c'], members: members(overloaded, starting) });
    await run(clock, 100);
  }
}

beforeEach(() => runningSince.clear());

const primaries = (store: FakeMapKey, i: number) => Object.fromEntries(Object.entries(shardsPerNode(store.writes[i]!.shards)).map(([n, c]) => [n, c.primary]));

test('an overloaded member gets half its share of primaries until it has been clear for the hold', async () => {
  const store = new FakeMapKey();
  const { clock, actor, events } = start(store, { live: ['a', 'b', 'c'], members: members(), overloadRelief: RELIEF });
  await report(actor, clock, [], 500);
  expect(store.writes).toHaveLength(1);
  expect(Object.values(primaries(store, 0)).sort()).toEqual([5, 5, 6]);

  await report(actor, clock, ['c'], 1_000);
  expect(events('member_relieved')).toEqual([expect.objectContaining({ member: 'c', reason: 'overloaded', holdMs: 2_000, reliefs: 1 })]);
  expect(store.writes).toHaveLength(2);
  expect(store.writes[1]).toMatchObject({ members: ['a', 'b', 'c'], relieved: ['c'] });
  expect(primaries(store, 1)).toEqual({ a: 7, b: 7, c: 2 });

  // Clear, but not for the hold yet: nothing changes.
  await report(actor, clock, [], 1_500);
  expect(store.writes).toHaveLength(2);
  await report(actor, clock, [], 1_000);
  expect(events('member_unrelieved')).toEqual([expect.objectContaining({ member: 'c', reason: 'clear' })]);
  expect(store.writes).toHaveLength(3);
  expect(store.writes[2]!.relieved).toBeUndefined();
  expect(Object.values(primaries(store, 2)).sort()).toEqual([5, 5, 6]);
  actor.stop();
});

test.each([[['a', 'b', 'c']], [['b', 'c']]])('most members overloaded (%j of 3): nobody is relieved, the map stays balanced (no room to move load to)', async (overloaded) => {
  const store = new FakeMapKey();
  const { clock, actor, events } = start(store, { live: ['a', 'b', 'c'], members: members(), overloadRelief: RELIEF });
  await report(actor, clock, [], 500);
  await report(actor, clock, overloaded, 1_000);
  expect(store.writes).toHaveLength(1);
  // The log says the members are relieved and why the map does not apply it.
  expect(events('relief_withheld')).toEqual([expect.objectContaining({ reason: 'no_room', members: overloaded, running: 3, room: 3 - overloaded.length })]);
  actor.stop();
});

test('a cluster starting together: overload while starting, or right after, relieves nobody; once they have run for the hold, it does', async () => {
  const store = new FakeMapKey();
  const all = ['a', 'b', 'c'];
  const { clock, actor, events } = start(store, { live: all, members: members([], all), overloadRelief: RELIEF });
  // c overloaded while all three start: not relieved (its lag is its start's).
  await report(actor, clock, ['c'], 1_000, all);
  expect(events('member_relieved')).toEqual([]);
  // c runs, still overloaded, while a and b start: not relieved for the hold (2 s) after it ran.
  await report(actor, clock, ['c'], 1_900, ['a', 'b']);
  expect(events('member_relieved')).toEqual([]);
  // Past it: relieved, but no map moves its shards (most of the cluster starts).
  await report(actor, clock, ['c'], 500, ['a', 'b']);
  expect(events('member_relieved')).toEqual([expect.objectContaining({ member: 'c', reason: 'overloaded' })]);
  expect(events('relief_withheld')).toEqual([expect.objectContaining({ reason: 'starting', members: ['c'], running: 1, room: 2, eligible: 3 })]);
  expect(store.writes).toHaveLength(1);
  // b runs clear, a still starts (clear: room too): the map relieves c.
  await report(actor, clock, ['c'], 1_000, ['a']);
  expect(store.writes).toHaveLength(2);
  expect(store.writes[1]).toMatchObject({ relieved: ['c'] });
  expect(events('relief_unwithheld')).toEqual([expect.objectContaining({ members: ['c'] })]);
  actor.stop();
});

test('a new leader keeps relieving the members its predecessor relieved, for a fresh hold', async () => {
  const store = new FakeMapKey();
  const first = start(store, { live: ['a', 'b', 'c'], members: members(['c']), overloadRelief: RELIEF });
  await report(first.actor, first.clock, ['c'], 1_000);
  expect(store.writes.at(-1)).toMatchObject({ term: 7, relieved: ['c'] });
  first.actor.stop();
  // The next leader hears c clear from the start, yet relieves it for a hold before giving its share back.
  const next = start(store, { term: 8, live: ['a', 'b', 'c'], members: members(), overloadRelief: RELIEF });
  await report(next.actor, next.clock, [], 1_000);
  expect(next.events('member_relieved')).toEqual([expect.objectContaining({ member: 'c', reason: 'inherited' })]);
  expect(store.writes.at(-1)).toMatchObject({ term: 8, relieved: ['c'] });
  await report(next.actor, next.clock, [], 2_000);
  expect(store.writes.at(-1)!.term).toBe(8);
  expect(store.writes.at(-1)!.relieved).toBeUndefined();
  next.actor.stop();
});
