// The assigner damps membership churn (protocol/churn.ts wired in actors/assigner.ts), under a
// simulated clock with an in-memory map key and membership reports every 100 ms as the membership
// actor sends them: a member that crash-restarts again and again costs two maps per restart until
// its third return, then none, and it gets shards again once it has been alive for the hold; a new
// member and a single restart are written as fast as before; a new leader keeps holding out the
// members its predecessor's map held out.
import type { AnyActorRef } from 'xstate';
import type { MemberLife } from '../../protocol/churn';
import type { MemberState } from '../../protocol/failure-detector';
import type { ManualClock } from '../../runtime/clock';
import { run, start, TEST_CHURN } from '../helpers/assigner-host';
import { FakeMapKey } from '../helpers/fake-kv';

type Lives = Record<string, [instance: string, state: MemberState]>;

const membersOf = (lives: Lives): MemberLife[] => Object.entries(lives).map(([node, [instance, state]]) => ({ node, instance, state }));
const liveOf = (lives: Lives): string[] => membersOf(lives).filter((m) => m.state === 'alive' || m.state === 'suspect').map((m) => m.node);

/** Membership reports every 100 ms for `ms`, like the membership actor's ticks. */
async function report(actor: AnyActorRef, clock: ManualClock, lives: Lives, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 100) {
    actor.send({ type: 'MEMBERS', live: liveOf(lives), members: membersOf(lives) });
    await run(clock, 100);
  }
}

const steady: Lives = { a: ['a1', 'alive'], b: ['b1', 'alive'], c: ['c1', 'alive'] };

function startSteady(store: FakeMapKey) {
  return start(store, { live: liveOf(steady), members: membersOf(steady) });
}

/** c crash-restarts: dead for `deadMs` (its shards move), then alive as instance c<n>; the others as in `base`. */
async function crashRestart(actor: AnyActorRef, clock: ManualClock, n: number, deadMs = 1000, upMs = 1000, base: Lives = steady): Promise<void> {
  await report(actor, clock, { ...base, c: [`c${n - 1}`, 'dead'] }, deadMs);
  await report(actor, clock, { ...base, c: [`c${n}`, 'alive'] }, upMs);
}

test('a member that crash-restarts again and again is held out after its third return, then let back in once stable for the hold', async () => {
  const store = new FakeMapKey();
  const { clock, actor, events, announced } = startSteady(store);
  await report(actor, clock, steady, 500);
  expect(store.writes.map((w) => w.members)).toEqual([['a', 'b', 'c']]);

  // Restarts 1 and 2: each one map without c (it is dead) and one with it (it is back).
  for (const n of [2, 3]) await crashRestart(actor, clock, n);
  expect(store.writes.map((w) => w.members)).toEqual([['a', 'b', 'c'], ['a', 'b'], ['a', 'b', 'c'], ['a', 'b'], ['a', 'b', 'c']]);
  expect(events('member_damped')).toEqual([]);

  // Restart 3: the map without c, then c's return damps it: one map that moves nothing and says
  // so. Five more restarts: no map at all.
  for (const n of [4, 5, 6, 7, 8]) await crashRestart(actor, clock, n);
  expect(events('member_damped')).toEqual([expect.objectContaining({ level: 40, member: 'c', reason: 'flapping', returns: 3, windowMs: TEST_CHURN.windowMs, holdMs: TEST_CHURN.holdMs, dampings: 1 })]);
  expect(store.writes).toHaveLength(7);
  expect(store.writes[5]).toMatchObject({ epoch: 6, members: ['a', 'b'] });
  expect(store.writes[6]).toMatchObject({ epoch: 7, members: ['a', 'b'], damped: ['c'], shards: store.writes[5]!.shards });

  // c stays up (instance c8): held out until alive for the hold, counted from its last restart.
  const upSince = clock.monotonic() - 1000;
  await report(actor, clock, { ...steady, c: ['c8', 'alive'] }, TEST_CHURN.holdMs - 1000 - 100);
  expect(store.writes).toHaveLength(7);
  expect(events('member_undamped')).toEqual([]);
  await report(actor, clock, { ...steady, c: ['c8', 'alive'] }, 1000);
  expect(events('member_undamped')).toEqual([expect.objectContaining({ level: 30, member: 'c', reason: 'stable', holdMs: TEST_CHURN.holdMs })]);
  expect(events('member_undamped')[0].stableMs).toBeGreaterThanOrEqual(TEST_CHURN.holdMs);
  expect(clock.monotonic() - upSince).toBeGreaterThanOrEqual(TEST_CHURN.holdMs);
  expect(store.writes).toHaveLength(8);
  expect(store.writes[7]).toMatchObject({ epoch: 8, members: ['a', 'b', 'c'] });
  expect(store.writes[7]).not.toHaveProperty('damped');
  // The public announcements say who was held out.
  expect(announced.map((a) => a.damped)).toEqual([[], [], [], [], [], [], ['c'], []]);
});

test('a map written while a member is damped lists it, and the announcement too', async () => {
  const store = new FakeMapKey();
  const { clock, actor, announced } = startSteady(store);
  await report(actor, clock, steady, 500);
  // Quick restarts: new instances, never dead — the third return damps c, which held shards.
  for (const n of [2, 3, 4]) await report(actor, clock, { ...steady, c: [`c${n}`, 'alive'] }, 200);
  await report(actor, clock, { ...steady, c: ['c4', 'alive'] }, 600);
  expect(store.writes.map((w) => [w.members, w.damped])).toEqual([
    [['a', 'b', 'c'], undefined],
    [['a', 'b'], ['c']],
  ]);
  expect(announced.at(-1)).toMatchObject({ members: ['a', 'b'], damped: ['c'] });
});

test('a new member and a single restart are written after the quiet period, as without damping', async () => {
  const store = new FakeMapKey();
  const { clock, actor, events } = startSteady(store);
  await report(actor, clock, steady, 500);
  const withD: Lives = { ...steady, d: ['d1', 'alive'] };
  await report(actor, clock, withD, 400);
  expect(store.writes.at(-1)).toMatchObject({ epoch: 2, members: ['a', 'b', 'c', 'd'] });
  await crashRestart(actor, clock, 2, 1000, 400, withD);
  expect(store.writes.map((w) => w.members)).toEqual([['a', 'b', 'c'], ['a', 'b', 'c', 'd'], ['a', 'b', 'd'], ['a', 'b', 'c', 'd']]);
  // A quick restart (a new instance before anyone suspects it) changes nothing.
  await report(actor, clock, { ...withD, c: ['c3', 'alive'] }, 1000);
  expect(store.writes).toHaveLength(4);
  expect(events('member_damped')).toEqual([]);
});

test('a new leader keeps holding out the members its predecessor held out, for a fresh hold', async () => {
  const store = new FakeMapKey();
  store.writeUnseen({ term: 5, epoch: 8, leader: 'b', at: 0, members: ['a', 'b'], shards: Array.from({ length: 16 }, (_, i) => [i % 2 ? 'a' : 'b']), damped: ['c'] });
  const { clock, actor, events } = start(store, { term: 7, live: liveOf(steady), members: membersOf(steady) });
  await report(actor, clock, steady, 500);
  expect(events('member_damped')).toEqual([expect.objectContaining({ member: 'c', reason: 'inherited', holdMs: TEST_CHURN.holdMs })]);
  expect(store.writes).toEqual([expect.objectContaining({ term: 7, epoch: 9, members: ['a', 'b'], damped: ['c'] })]);
  await report(actor, clock, steady, TEST_CHURN.holdMs);
  expect(events('member_undamped')).toEqual([expect.objectContaining({ member: 'c', reason: 'stable' })]);
  expect(store.writes.at(-1)).toMatchObject({ term: 7, epoch: 10, members: ['a', 'b', 'c'] });
});

test('a damped member that leaves gracefully gets a map without it at once (the map a leaving node waits for)', async () => {
  const store = new FakeMapKey();
  const { clock, actor } = startSteady(store);
  await report(actor, clock, steady, 500);
  for (const n of [2, 3, 4]) await crashRestart(actor, clock, n);
  const writes = store.writes.length;
  expect(store.writes.at(-1)).toMatchObject({ members: ['a', 'b'], damped: ['c'] });
  await report(actor, clock, { ...steady, c: ['c4', 'left'] }, 400);
  expect(store.writes).toHaveLength(writes + 1);
  expect(store.writes.at(-1)).toMatchObject({ members: ['a', 'b'] });
  expect(store.writes.at(-1)).not.toHaveProperty('damped');
  // Dead instead of left: nothing changes (a crash of a damped member costs no map).
  await report(actor, clock, { ...steady, c: ['c5', 'alive'] }, 400);
  const again = store.writes.length;
  await report(actor, clock, { ...steady, c: ['c5', 'dead'] }, 1000);
  expect(store.writes).toHaveLength(again);
});
