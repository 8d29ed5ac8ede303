// Leader election on a KV lease, under a simulated clock, with an in-memory key that has KV's
// compare-and-set semantics: one leader per term, takeover only after the lease, a cut-off
// leader steps down before anyone else can win, release hands over at once.
import pino from 'pino';
import { createActor, createMachine, sendTo, type AnyActorRef } from 'xstate';
import { actsAsLeader, leaderMachine, type LeaderOutput } from '../../actors/leader';
import type { LeaseConfig } from '../../protocol/lease';
import type { Standing } from '../../protocol/overload-leadership';
import { STEP_DOWN_COOLDOWN_LEASES } from '../../protocol/overload-leadership';
import { ManualClock } from '../../runtime/clock';
import { FakeLeaseKey } from '../helpers/fake-kv';

const cfg: LeaseConfig = { leaseMs: 4000, renewMs: 1000, pollMs: 250, takeoverMarginMs: 200 };

interface Node {
  name: string;
  events: (LeaderOutput & { at: number })[];
  parent: AnyActorRef;
  leader: () => AnyActorRef;
  store: ReturnType<FakeLeaseKey['storeFor']>;
}

function startNode(name: string, key: FakeLeaseKey, clock: ManualClock, startHoldMs = 0): Node {
  const store = key.storeFor(name);
  const events: Node['events'] = [];
  const parent = createActor(
    createMachine({
      invoke: { id: 'leader', src: leaderMachine, input: { store, node: name, cfg, startHoldMs, clock, log: pino({ level: 'silent' }), announce: () => {} } },
      on: {
        ELECTED: { actions: ({ event }) => events.push({ ...(event as LeaderOutput), at: clock.monotonic() }) },
        DEPOSED: { actions: ({ event }) => events.push({ ...(event as LeaderOutput), at: clock.monotonic() }) },
        RELEASE: { actions: sendTo('leader', { type: 'RELEASE' }) },
        MEMBERS: { actions: sendTo('leader', ({ event }) => event) },
      },
    }),
    { clock },
  );
  parent.start();
  return { name, events, parent, store, leader: () => parent.getSnapshot().children.leader as AnyActorRef };
}

async function run(clock: ManualClock, ms: number, step = 10, each?: () => void) {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    for (let i = 0; i < 5; i++) await Promise.resolve();
    each?.();
  }
}

const leading = (n: Node) => actsAsLeader(n.leader().getSnapshot());

/** Node a starts first and leads; b joins as a follower. */
async function aLeadsBFollows() {
  const clock = new ManualClock();
  const key = new FakeLeaseKey();
  const a = startNode('a', key, clock);
  await run(clock, 500);
  const b = startNode('b', key, clock);
  await run(clock, 1000);
  return { clock, key, a, b };
}

test('exactly one of three candidates wins; the term is the winning revision and is written into the record', async () => {
  const clock = new ManualClock();
  const key = new FakeLeaseKey();
  const nodes = ['a', 'b', 'c'].map((n) => startNode(n, key, clock));
  await run(clock, 3000);
  const leaders = nodes.filter(leading);
  expect(leaders).toHaveLength(1);
  const elected = leaders[0]!.events.find((e) => e.type === 'ELECTED')!;
  expect(key.writes[0]).toMatchObject({ node: leaders[0]!.name, revision: elected.type === 'ELECTED' ? elected.term : -1, term: null });
  expect(key.record).toEqual({ holder: leaders[0]!.name, term: (elected as { term: number }).term });
  // Renewals keep it: 20 s later, still the same single leader and no other ELECTED.
  await run(clock, 20_000, 50);
  expect(nodes.filter(leading)).toEqual(leaders);
  expect(nodes.flatMap((n) => n.events).filter((e) => e.type === 'ELECTED')).toHaveLength(1);
});

test('a leader cut off from the store steps down when its lease ends, before a follower takes over', async () => {
  const { clock, a, b } = await aLeadsBFollows();
  expect(leading(a)).toBe(true);
  a.store.down(); // a's writes now hang forever (a NATS partition, or a frozen request)
  await run(clock, 10_000, 10);
  const deposed = a.events.find((e) => e.type === 'DEPOSED')!;
  const electedB = b.events.find((e) => e.type === 'ELECTED')!;
  expect(deposed).toMatchObject({ reason: 'lease expired' });
  expect(electedB).toBeDefined();
  expect(deposed.at).toBeLessThan(electedB.at);
  expect((electedB as { term: number }).term).toBeGreaterThan((a.events[0] as { term: number }).term);
  expect(leading(a)).toBe(false);
  expect(leading(b)).toBe(true);
});

test('a paused leader that wakes after its lease does not act as leader', async () => {
  const { clock, a, b } = await aLeadsBFollows();
  expect(leading(a)).toBe(true);
  // SIGSTOP a: its actor gets no turns; b keeps running.
  const frozen = a.leader();
  a.parent.stop();
  await run(clock, 6000);
  expect(leading(b)).toBe(true);
  // a's view on waking: its lease ran out by its own monotonic clock.
  expect(actsAsLeader(frozen.getSnapshot())).toBe(false);
  expect(frozen.getSnapshot().matches('leading')).toBe(true); // it had no turn to notice, yet does not act
});

test('release hands the lease over on the next poll, not after the lease', async () => {
  const { clock, a, b } = await aLeadsBFollows();
  const t0 = clock.monotonic();
  a.parent.send({ type: 'RELEASE' });
  await run(clock, 1000);
  const electedB = b.events.find((e) => e.type === 'ELECTED')!;
  expect(electedB.at - t0).toBeLessThanOrEqual(cfg.pollMs + 50);
  expect(a.events.at(-1)).toMatchObject({ type: 'DEPOSED', reason: 'released' });
});

test('losing the compare-and-set on renewal (someone else holds the lease) steps down at once', async () => {
  const clock = new ManualClock();
  const key = new FakeLeaseKey();
  const a = startNode('a', key, clock);
  await run(clock, 500);
  expect(leading(a)).toBe(true);
  // An operator (or a bug) overwrote the key.
  key.revision += 1;
  key.record = { holder: 'intruder', term: 99 };
  await run(clock, 1500);
  expect(leading(a)).toBe(false);
  expect(a.events.at(-1)).toMatchObject({ type: 'DEPOSED', reason: 'lease taken by another node' });
});

describe('an overloaded node and the lease (protocol/overload-leadership.ts)', () => {
  const member = (node: string, overloaded: boolean): Standing => ({ node, state: 'alive', instance: `${node}-i`, leaving: false, overloaded });
  /** What the membership actor sends on every heartbeat tick (every 500 ms here): the same list to every node. */
  const tell = (nodes: Node[], members: Standing[]) => {
    for (const n of nodes) n.parent.send({ type: 'MEMBERS', members });
  };
  /** Run, telling the members every 500 ms, and record at each step how many act as leader. */
  async function runTelling(clock: ManualClock, ms: number, nodes: Node[], members: () => Standing[]) {
    const most = { leaders: 0 };
    let t = 0;
    await run(clock, ms, 10, () => {
      t += 10;
      if (t % 500 === 0) tell(nodes, members());
      most.leaders = Math.max(most.leaders, nodes.filter(leading).length);
    });
    return most;
  }
  const terms = (n: Node) => n.events.filter((e) => e.type === 'ELECTED').map((e) => (e as { term: number }).term);

  test('an overloaded leader hands the lease over to a clear member: one leader at a time, a higher term, and it stays a follower', async () => {
    const { clock, key, a, b } = await aLeadsBFollows();
    expect(leading(a)).toBe(true);
    const most = await runTelling(clock, 20_000, [a, b], () => [member('a', true), member('b', false)]);
    expect(a.events.filter((e) => e.type === 'DEPOSED')).toEqual([expect.objectContaining({ reason: 'overloaded' })]);
    expect(leading(b)).toBe(true);
    expect(terms(b)).toHaveLength(1);
    expect(terms(b)[0]).toBeGreaterThan(terms(a)[0]!);
    expect(terms(a)).toHaveLength(1); // it never stood again
    expect(most.leaders).toBe(1);
    // b took over a deleted key (create), not after the lease ran out: the step-down released it.
    expect(key.writes.filter((w) => w.node === 'b')[0]).toMatchObject({ term: null });
    const deposedAt = a.events.find((e) => e.type === 'DEPOSED')!.at;
    expect(b.events.find((e) => e.type === 'ELECTED')!.at - deposedAt).toBeLessThan(cfg.leaseMs);
  });

  test('a clear leader keeps the lease when the overloaded node recovers (no election after recovery)', async () => {
    const { clock, a, b } = await aLeadsBFollows();
    let aHot = true;
    await runTelling(clock, 5000, [a, b], () => [member('a', aHot), member('b', false)]);
    expect(leading(b)).toBe(true);
    aHot = false;
    await runTelling(clock, 20_000, [a, b], () => [member('a', aHot), member('b', false)]);
    expect(leading(b)).toBe(true);
    expect(terms(a)).toHaveLength(1);
    expect(terms(b)).toHaveLength(1);
  });

  test('an overloaded follower does not stand while a clear member can; the clear one wins', async () => {
    const clock = new ManualClock();
    const key = new FakeLeaseKey();
    const a = startNode('a', key, clock);
    const b = startNode('b', key, clock);
    tell([a, b], [member('a', true), member('b', false)]);
    await runTelling(clock, 10_000, [a, b], () => [member('a', true), member('b', false)]);
    expect(terms(a)).toEqual([]);
    expect(leading(b)).toBe(true);
  });

  test('overloaded and alone, or everyone overloaded: it stands (a cluster always has a leader)', async () => {
    for (const others of [[], ['b']]) {
      const clock = new ManualClock();
      const key = new FakeLeaseKey();
      const a = startNode('a', key, clock);
      const members = () => [member('a', true), ...others.map((o) => member(o, true))];
      tell([a], members());
      await runTelling(clock, 3000, [a], members);
      expect(leading(a)).toBe(true);
      await runTelling(clock, 20_000, [a], members);
      expect(terms(a)).toHaveLength(1); // and it keeps it: nobody to hand it to
    }
  });

  test('a leader overloaded right after its start keeps the lease until it has run for the start hold, then hands it over', async () => {
    const hold = 10_000;
    const clock = new ManualClock();
    const key = new FakeLeaseKey();
    const a = startNode('a', key, clock, hold);
    await run(clock, 500);
    const b = startNode('b', key, clock, hold);
    await run(clock, 1000);
    expect(leading(a)).toBe(true);
    // a says starting, then runs from `ranAt` (the failure detector's runningSince), overloaded all along; b runs and is clear.
    let ranFrom: number | null = null; // null: a says starting
    const members = (): Standing[] => [
      { ...member('a', true), ...(ranFrom === null ? { starting: true } : { runningSince: ranFrom }) },
      { ...member('b', false), runningSince: 0 },
    ];
    await runTelling(clock, 5000, [a, b], members);
    expect(leading(a)).toBe(true); // starting: its overload is its start's
    ranFrom = clock.monotonic();
    await runTelling(clock, hold - 1000, [a, b], members);
    expect(a.events.filter((e) => e.type === 'DEPOSED')).toEqual([]);
    expect(leading(a)).toBe(true); // running, but not for the hold yet
    await runTelling(clock, 3000, [a, b], members);
    const deposed = a.events.filter((e) => e.type === 'DEPOSED');
    expect(deposed).toEqual([expect.objectContaining({ reason: 'overloaded' })]);
    expect(deposed[0]!.at - ranFrom).toBeGreaterThanOrEqual(hold);
    await runTelling(clock, 2 * cfg.leaseMs, [a, b], members);
    expect(leading(b)).toBe(true);
  });

  test('the clear member never takes the lease (cannot reach the store): the overloaded one stands after a lease, and keeps it for the cooldown', async () => {
    const { clock, a, b } = await aLeadsBFollows();
    b.store.down();
    const members = () => [member('a', true), member('b', false)];
    await runTelling(clock, 2 * cfg.leaseMs, [a, b], members);
    expect(a.events.filter((e) => e.type === 'DEPOSED')).toHaveLength(1);
    expect(leading(a)).toBe(true); // elected again: deferred_too_long
    expect(terms(a)).toHaveLength(2);
    // Within the cooldown it keeps the lease although b still looks clear.
    await runTelling(clock, STEP_DOWN_COOLDOWN_LEASES * cfg.leaseMs - 3 * cfg.leaseMs, [a, b], members);
    expect(terms(a)).toHaveLength(2);
    expect(leading(a)).toBe(true);
  });
});
