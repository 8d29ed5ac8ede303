// The membership actor on an in-memory bus under a manual clock: several nodes heartbeat on one
// hub; suspicion, refutation by incarnation, a graceful leave, a member back after dead, malformed
// heartbeats, two processes sharing one node id, and clock offsets from heartbeats (gauges, log
// events, the report MEMBERS carries).
import pino from 'pino';
import { membership, type DuplicateFound, type MembersChanged } from '../../actors/membership';
import { claimNodeId } from '../../actors/node-claim';
import { DuplicateNodeId } from '../../protocol/node-identity';
import { ManualClock, type Clock } from '../../runtime/clock';
import { createMetrics, type Metrics } from '../../runtime/metrics';
import { subjects } from '../../runtime/subjects';
import { FakeHub, type FakeConnection } from '../helpers/fake-bus';
import { flush, host, run, type Hosted } from '../helpers/actor-host';

const s = subjects('lookout');
const timing = { heartbeatMs: 100, suspectAfterMs: 400, deadAfterMs: 1000 };

type Out = MembersChanged | DuplicateFound;

interface TestNode {
  name: string;
  conn: FakeConnection;
  actor: Hosted<Out>;
  /** The latest MEMBERS the actor sent. */
  view(): MembersChanged;
  /** Every member change this node reported, as "node from→to@incarnation". */
  changes(): string[];
  metrics: Metrics;
  /** Its log lines (info and above), parsed. */
  logs: any[];
}

interface StartOptions {
  /** This node's wall clock runs ahead (+) or behind (−) the shared clock by skew.ms (changeable). */
  skew?: { ms: number };
  /** Whether the node says `starting` in its heartbeat (its slots not all running yet). */
  starting?: () => boolean;
  /** How long its slots have run (the heartbeat's runningMs). */
  runningMs?: () => number | undefined;
}

/** The shared clock's timers with a wall clock `skew.ms` off. */
function skewed(clock: ManualClock, skew: { ms: number }): Clock {
  return { now: () => clock.now() + skew.ms, monotonic: () => clock.monotonic(), setTimeout: (fn, ms) => clock.setTimeout(fn, ms), clearTimeout: (h) => clock.clearTimeout(h) };
}

function cluster() {
  const clock = new ManualClock();
  const hub = new FakeHub();
  const start = (name: string, instance = `${name}-0001`, opts: StartOptions = {}): TestNode => {
    const conn = hub.connect(`${name}/${instance}`);
    const metrics = createMetrics();
    const logs: any[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    const input = { bus: conn, subjects: s, node: name, instance, version: '1.0.0', clock: opts.skew ? skewed(clock, opts.skew) : clock, log, ...timing, load: () => ({ shards: 2, checks: 7 }), ...(opts.starting ? { starting: opts.starting } : {}), ...(opts.runningMs ? { runningMs: opts.runningMs } : {}), clockSkewWarnMs: 1000, clockGauges: metrics };
    const actor = host<Out>(membership, input, clock);
    const members = () => actor.events.filter((e): e is MembersChanged & { at: number } => e.type === 'MEMBERS');
    return {
      name,
      conn,
      actor,
      view: () => members().at(-1)!,
      changes: () => members().flatMap((e) => e.changes.map((c) => `${c.node} ${c.from}→${c.to}@${c.incarnation}`)),
      metrics,
      logs,
    };
  };
  return { clock, hub, start };
}

const stateOf = (n: TestNode, member: string) => n.view().members.find((m) => m.node === member)?.state;

test('nodes that heartbeat see each other alive, with what each holds', async () => {
  const { clock, start } = cluster();
  const [a, b, c] = ['a', 'b', 'c'].map((n) => start(n));
  await run(clock, 1000);
  for (const n of [a!, b!, c!]) {
    expect(n.view().live).toEqual(['a', 'b', 'c']);
    expect(n.view().members.map((m) => [m.node, m.state, m.checks])).toEqual([['a', 'alive', 7], ['b', 'alive', 7], ['c', 'alive', 7]]);
  }
  expect(a!.changes()).toEqual(['a new→alive@0', 'b new→alive@0', 'c new→alive@0']);
});

test('a node heard of nobody suspects it, says so, and the suspected node refutes with a higher incarnation', async () => {
  const { clock, hub, start } = cluster();
  const [a, b] = ['a', 'b'].map((n) => start(n));
  await run(clock, 500);
  // b's heartbeats stop reaching anyone (it still hears the others).
  const publish = b!.conn.publish.bind(b!.conn);
  let muted = true;
  b!.conn.publish = (subject, payload) => (muted && subject.endsWith('heartbeat') ? undefined : publish(subject, payload));
  await run(clock, 500);
  expect(stateOf(a!, 'b')).toBe('suspect');
  expect(hub.published('lookout._node.suspect').map((p) => p.msg)).toContainEqual({ node: 'b', incarnation: 0, by: 'a' });
  // b heard the suspicion and raised its incarnation; once its heartbeats flow again, a takes it as fresh.
  muted = false;
  await run(clock, 200);
  expect(stateOf(a!, 'b')).toBe('alive');
  expect(a!.changes()).toEqual(['a new→alive@0', 'b new→alive@0', 'b alive→suspect@0', 'b suspect→alive@1']);
  expect(a!.view().members.find((m) => m.node === 'b')!.incarnation).toBe(1);
});

test('a suspicion is refuted at once; a suspicion of an older incarnation is not refuted again', async () => {
  const { clock, hub, start } = cluster();
  const b = start('b');
  await run(clock, 200);
  const peer = hub.connect('peer');
  peer.publish('lookout._node.suspect', { node: 'b', incarnation: 0, by: 'x' });
  await flush();
  const beats = () => hub.published('lookout._node.heartbeat').filter((p) => p.msg.node === 'b').map((p) => p.msg.incarnation);
  expect(beats().at(-1)).toBe(1); // refuted at once, not at the next tick
  const n = beats().length;
  peer.publish('lookout._node.suspect', { node: 'b', incarnation: 0, by: 'x' }); // older than 1: ignored
  await flush();
  expect(beats().length).toBe(n);
  await run(clock, 100);
  expect(b.view().members[0]!.incarnation).toBe(1);
});

test('a graceful leave is announced, not detected: left, never suspect or dead', async () => {
  const { clock, hub, start } = cluster();
  const [a, c] = ['a', 'c'].map((n) => start(n));
  await run(clock, 500);
  c!.actor.send({ type: 'LEAVE' });
  await flush();
  expect(hub.published('lookout._node.heartbeat').filter((p) => p.msg.node === 'c').at(-1)!.msg.leaving).toBe(true);
  expect(stateOf(a!, 'c')).toBe('left');
  c!.actor.stop();
  await run(clock, 3000);
  expect(a!.changes().filter((x) => x.startsWith('c '))).toEqual(['c new→alive@0', 'c alive→left@0']);
  expect(a!.view().live).toEqual(['a']);
});

test('a member cut off goes suspect then dead, and comes back alive when it is heard again', async () => {
  const { clock, start } = cluster();
  const [a, b] = ['a', 'b'].map((n) => start(n));
  await run(clock, 500);
  b!.conn.setConnected(false);
  await run(clock, 1500);
  expect(stateOf(a!, 'b')).toBe('dead');
  b!.conn.setConnected(true);
  await run(clock, 200);
  expect(stateOf(a!, 'b')).toBe('alive');
  expect(a!.changes().filter((x) => x.startsWith('b '))).toEqual(['b new→alive@0', 'b alive→suspect@0', 'b suspect→dead@0', 'b dead→alive@0']);
});

test('a restarted member (a new instance, whatever its wall clock) is a new life', async () => {
  const { clock, start } = cluster();
  const a = start('a');
  const b1 = start('b', 'b-old');
  await run(clock, 500);
  b1.actor.stop();
  await run(clock, 1500);
  expect(stateOf(a, 'b')).toBe('dead');
  clock.stepWall(-3_600_000); // the restarted process's wall clock is an hour behind
  start('b', 'b-new');
  await run(clock, 200);
  expect(stateOf(a, 'b')).toBe('alive');
});

test('a restart heard before its old life is held dead is returning while it says starting: logged, reported at once, cleared when it runs', async () => {
  const { clock, hub, start } = cluster();
  const a = start('a');
  const b1 = start('b', 'b-old', { starting: () => false });
  await run(clock, 500);
  b1.actor.stop(); // SIGKILL, restarted at once: never silent long enough to be suspected
  let starting = true;
  start('b', 'b-new', { starting: () => starting });
  await run(clock, 50);
  const beats = hub.published('lookout._node.heartbeat').filter((p) => p.msg.instance === 'b-new');
  expect(beats.length).toBeGreaterThan(0);
  expect(beats.every((p) => p.msg.starting === true)).toBe(true);
  const member = () => a.view().members.find((m) => m.node === 'b')!;
  expect([member().state, member().returning]).toEqual(['alive', true]);
  expect(a.logs.filter((l) => l.event === 'member_returning').map((l) => l.instance)).toEqual(['b-new']);
  starting = false;
  await run(clock, 200);
  expect(member().returning).toBeUndefined();
  expect(a.logs.filter((l) => l.event === 'member_running').map((l) => l.instance)).toEqual(['b-new']);
  expect(hub.published('lookout._node.heartbeat').filter((p) => p.msg.instance === 'b-new').at(-1)!.msg.starting).toBeUndefined();
});

test('a node that joins later counts a member\'s running time from the duration its heartbeat carries, not from when it first heard it', async () => {
  const { clock, hub, start } = cluster();
  // b has run its slots for 45 s when a starts (b's own monotonic count, a duration on the wire).
  const bRanFrom = clock.monotonic() - 45_000;
  start('b', 'b-1', { starting: () => false, runningMs: () => clock.monotonic() - bRanFrom });
  await run(clock, 300);
  const a = start('a');
  await run(clock, 300);
  const heardB = a.view().members.find((m) => m.node === 'b')!;
  // Heard within one heartbeat interval: runningSince is b's start of running, give or take that beat.
  expect(heardB.runningSince).toBeGreaterThanOrEqual(bRanFrom);
  expect(heardB.runningSince).toBeLessThanOrEqual(bRanFrom + timing.heartbeatMs);
  expect(hub.published('lookout._node.heartbeat').filter((p) => p.msg.node === 'b').at(-1)!.msg.runningMs).toBeGreaterThanOrEqual(45_000);
  // A starting node sends no runningMs.
  start('c', 'c-1', { starting: () => true, runningMs: () => 1 });
  await run(clock, 200);
  expect(hub.published('lookout._node.heartbeat').filter((p) => p.msg.node === 'c').every((p) => p.msg.runningMs === undefined)).toBe(true);
});

test('a first life still starting (a cluster forming) is not returning', async () => {
  const { clock, start } = cluster();
  const a = start('a');
  start('b', 'b-1', { starting: () => true });
  await run(clock, 300);
  expect(a.view().members.find((m) => m.node === 'b')?.returning).toBeUndefined();
  expect(a.logs.filter((l) => l.event === 'member_returning')).toEqual([]);
});

test('malformed heartbeats are ignored: not JSON, missing fields, wrong types, oversized names', async () => {
  const { clock, hub, start } = cluster();
  const a = start('a');
  await run(clock, 200);
  const raw = hub.connect('raw');
  const good = { node: 'x', instance: 'i', startedAt: 0, incarnation: 0, seq: 1, version: '1', shards: 0, checks: 0, leaving: false };
  for (const bad of ['not json', '', 'null', '[]', '{"node":"x"}', JSON.stringify({ ...good, seq: -1 }), JSON.stringify({ ...good, incarnation: 'high' }), JSON.stringify({ ...good, node: 'x'.repeat(65) }), JSON.stringify({ ...good, instance: 7 }), JSON.stringify({ ...good, leaving: 'yes' })]) {
    raw.publishBytes('lookout._node.heartbeat', bad);
  }
  await run(clock, 200);
  expect(a.view().members.map((m) => m.node)).toEqual(['a']);
  raw.publishBytes('lookout._node.heartbeat', JSON.stringify(good)); // the same, well formed, is heard
  await run(clock, 100);
  expect(a.view().members.map((m) => m.node)).toEqual(['a', 'x']);
});

test('two processes with one node id: the greater instance stops without a leave, the other stays, peers never see it left', async () => {
  const { clock, hub, start } = cluster();
  const a = start('a');
  const b1 = start('b', '0001');
  await run(clock, 500);
  const b2 = start('b', 'ffff');
  await run(clock, 300);
  expect(b2.actor.events.filter((e) => e.type === 'DUPLICATE')).toEqual([expect.objectContaining({ type: 'DUPLICATE', other: '0001' })]);
  expect(b1.actor.events.filter((e) => e.type === 'DUPLICATE')).toEqual([]);
  // The one that yields publishes nothing more, and never a leave.
  const fromB2 = () => hub.log.filter((p) => p.from === 'b/ffff' && p.subject.endsWith('heartbeat'));
  const n = fromB2().length;
  await run(clock, 1000);
  expect(fromB2().length).toBe(n);
  expect(fromB2().every((p) => p.msg.leaving === false)).toBe(true);
  expect(stateOf(a, 'b')).toBe('alive');
  expect(a.changes().filter((x) => x.startsWith('b '))).toEqual(['b new→alive@0']);
});

test('a leave from one instance of a shared node id does not mark the live instance left', async () => {
  const { clock, start } = cluster();
  const a = start('a');
  const b1 = start('b', '0001');
  const b2 = start('b', 'ffff');
  await flush();
  // Both run for a moment (the claim missed); the yielding one is told to leave (SIGTERM) meanwhile.
  b2.actor.send({ type: 'LEAVE' });
  await run(clock, 1500);
  expect(stateOf(a, 'b')).toBe('alive');
  expect(a.changes().filter((x) => x.includes('left'))).toEqual([]);
  void b1;
});

test('a node id is claimed before start: a running process answers, the newcomer gets DuplicateNodeId', async () => {
  const { clock, hub, start } = cluster();
  start('b', '0001');
  await run(clock, 100);
  const newcomer = hub.connect('newcomer');
  await expect(claimNodeId(newcomer, s, 'b', '0002', 1000)).rejects.toBeInstanceOf(DuplicateNodeId);
  await expect(claimNodeId(newcomer, s, 'b', '0002', 1000)).rejects.toMatchObject({ code: 'duplicate_node_id', node: 'b', other: '0001' });
  await expect(claimNodeId(newcomer, s, 'c', '0003', 50)).resolves.toBeUndefined(); // nobody holds c
});

test('while leading, member changes are published on the public subjects', async () => {
  const { clock, hub, start } = cluster();
  const a = start('a');
  a.actor.send({ type: 'LEADING', leading: true });
  const b = start('b');
  await run(clock, 300);
  b.actor.send({ type: 'LEAVE' });
  await flush();
  expect(hub.published('lookout.cluster.member.>').map((p) => [p.subject, p.msg.node, p.msg.state, p.msg.by])).toEqual([
    ['lookout.cluster.member.joined', 'b', 'alive', 'a'],
    ['lookout.cluster.member.left', 'b', 'left', 'a'],
  ]);
});

/** A node's clock view from its latest MEMBERS: node → [offsetMs, skewMs]. */
const clocksOf = (n: TestNode) => Object.fromEntries([...n.view().clocks.nodes].map(([node, c]) => [node, [c.offsetMs, c.skewMs]]));
const skewEvents = (n: TestNode) => n.logs.filter((l) => l.event === 'clock_skew' || l.event === 'clock_skew_cleared').map((l) => `${l.event} ${l.peer} ${l.offsetMs} ${l.skewMs} ${l.boundMs}`);
async function gauge(n: TestNode, name: string): Promise<Record<string, number>> {
  const m = (await n.metrics.registry.getMetricsAsJSON()).find((x) => x.name === name)!;
  return Object.fromEntries(m.values.map((v) => [String(v.labels.peer ?? ''), v.value]));
}

test('a node 30 s behind: every node names it, logs clock_skew once, sets the gauges; cleared once it is set right', async () => {
  const { clock, start } = cluster();
  const skew = { ms: -30_000 };
  const [a, b] = ['a', 'b'].map((n) => start(n));
  const c = start('c', 'c-0001', { skew });
  await run(clock, 1000);
  expect(clocksOf(a!)).toEqual({ a: [0, 0], b: [0, 0], c: [-30_000, -30_000] });
  expect(clocksOf(c)).toEqual({ c: [0, -30_000], a: [30_000, 0], b: [30_000, 0] });
  for (const n of [a!, b!]) expect(skewEvents(n)).toEqual(['clock_skew c -30000 -30000 1000']);
  expect(skewEvents(c)).toEqual(['clock_skew c 0 -30000 1000']); // the skewed node names itself
  expect(await gauge(a!, 'lookout_clock_offset_seconds')).toEqual({ b: 0, c: -30 });
  expect(await gauge(a!, 'lookout_clock_skew_seconds')).toEqual({ '': 0 });
  expect(await gauge(c, 'lookout_clock_skew_seconds')).toEqual({ '': -30 });
  expect(a!.logs.find((l) => l.event === 'clock_skew')).toMatchObject({ level: 40 }); // warn
  // NTP steps c's clock right: once the old samples age out of the window, cleared once.
  skew.ms = 0;
  await run(clock, 3000);
  expect(clocksOf(a!)).toEqual({ a: [0, 0], b: [0, 0], c: [0, 0] });
  for (const n of [a!, b!]) expect(skewEvents(n)).toEqual(['clock_skew c -30000 -30000 1000', 'clock_skew_cleared c 0 0 1000']);
  expect(await gauge(c, 'lookout_clock_skew_seconds')).toEqual({ '': 0 });
  // Membership itself never noticed: nobody was suspected.
  expect(a!.changes()).toEqual(['a new→alive@0', 'b new→alive@0', 'c new→alive@0']);
});

test('clocks in step: no clock_skew, every offset within the bound', async () => {
  const { clock, start } = cluster();
  const nodes = ['a', 'b', 'c'].map((n, i) => start(n, `${n}-0001`, { skew: { ms: [0, 300, -400][i]! } }));
  await run(clock, 1000);
  for (const n of nodes) expect(skewEvents(n)).toEqual([]);
  expect(clocksOf(nodes[0]!)).toEqual({ a: [0, 0], b: [300, 300], c: [-400, -400] });
});

test('a peer without sentAt (an earlier version) is a member with no clock estimate; a forgotten peer loses its gauge series', async () => {
  const { clock, hub, start } = cluster();
  const a = start('a');
  const b = start('b', 'b-0001', { skew: { ms: 5000 } });
  const raw = hub.connect('old');
  for (let seq = 1; seq <= 10; seq++) {
    raw.publishBytes('lookout._node.heartbeat', JSON.stringify({ node: 'old', instance: 'o', startedAt: 0, incarnation: 0, seq, version: '0.9', shards: 0, checks: 0, leaving: false }));
    await run(clock, 100);
  }
  expect(a.view().live).toEqual(['a', 'b', 'old']);
  expect([...a.view().clocks.nodes.keys()].sort()).toEqual(['a', 'b']);
  expect(await gauge(a, 'lookout_clock_offset_seconds')).toEqual({ b: 5 });
  b.actor.stop();
  await run(clock, 2000);
  expect(stateOf(a, 'b')).toBe('dead');
  expect(await gauge(a, 'lookout_clock_offset_seconds')).toEqual({ b: 5 }); // kept while it is remembered
  await run(clock, 10 * 60_000 + 1000, 1000);
  expect(a.view().members.map((m) => m.node)).toEqual(['a']);
  expect(await gauge(a, 'lookout_clock_offset_seconds')).toEqual({});
});
