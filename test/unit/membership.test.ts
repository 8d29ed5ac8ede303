// The membership actor on an in-memory bus under a manual clock: several nodes heartbeat on one
// hub; suspicion, refutation by incarnation, a graceful leave, a member back after dead, malformed
// heartbeats, and two processes sharing one node id.
import { membership, type DuplicateFound, type MembersChanged } from '../../actors/membership';
import { claimNodeId } from '../../actors/node-claim';
import { DuplicateNodeId } from '../../protocol/node-identity';
import { ManualClock } from '../../runtime/clock';
import { subjects } from '../../runtime/subjects';
import { FakeHub, type FakeConnection } from '../helpers/fake-bus';
import { flush, host, run, silentLog, type Hosted } from '../helpers/actor-host';

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
}

function cluster() {
  const clock = new ManualClock();
  const hub = new FakeHub();
  const start = (name: string, instance = `${name}-0001`): TestNode => {
    const conn = hub.connect(`${name}/${instance}`);
    const actor = host<Out>(membership, { bus: conn, subjects: s, node: name, instance, version: '1.0.0', clock, log: silentLog, ...timing, load: () => ({ shards: 2, checks: 7 }) }, clock);
    const members = () => actor.events.filter((e): e is MembersChanged & { at: number } => e.type === 'MEMBERS');
    return {
      name,
      conn,
      actor,
      view: () => members().at(-1)!,
      changes: () => members().flatMap((e) => e.changes.map((c) => `${c.node} ${c.from}→${c.to}@${c.incarnation}`)),
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
