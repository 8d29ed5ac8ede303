// Leader election on a KV lease, under a simulated clock, with an in-memory key that has KV's
// compare-and-set semantics: one leader per term, takeover only after the lease, a cut-off
// leader steps down before anyone else can win, release hands over at once.
import pino from 'pino';
import { createActor, createMachine, sendTo, type AnyActorRef } from 'xstate';
import { actsAsLeader, leaderMachine, type LeaderOutput } from '../../actors/leader';
import type { LeaseConfig } from '../../protocol/lease';
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

function startNode(name: string, key: FakeLeaseKey, clock: ManualClock): Node {
  const store = key.storeFor(name);
  const events: Node['events'] = [];
  const parent = createActor(
    createMachine({
      invoke: { id: 'leader', src: leaderMachine, input: { store, node: name, cfg, clock, log: pino({ level: 'silent' }), announce: () => {} } },
      on: {
        ELECTED: { actions: ({ event }) => events.push({ ...(event as LeaderOutput), at: clock.monotonic() }) },
        DEPOSED: { actions: ({ event }) => events.push({ ...(event as LeaderOutput), at: clock.monotonic() }) },
        RELEASE: { actions: sendTo('leader', { type: 'RELEASE' }) },
      },
    }),
    { clock },
  );
  parent.start();
  return { name, events, parent, store, leader: () => parent.getSnapshot().children.leader as AnyActorRef };
}

async function run(clock: ManualClock, ms: number, step = 10) {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    for (let i = 0; i < 5; i++) await Promise.resolve();
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
