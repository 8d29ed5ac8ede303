// The shard primary combines its vantages (actors/runner-quorum.ts): three runners of one shard,
// ranks 0..2 on three fake nodes sharing one in-memory bus, under manual clocks moved in lockstep.
import { createActor, type Actor } from 'xstate';
import { checkRunnerMachine } from '../../actors/check-runner';
import { normalizeSpec, type CheckSpec } from '../../checks/spec';
import type { QuorumRecord } from '../../protocol/quorum-record';
import { FakeHub } from '../helpers/fake-bus';
import { failWith, fakePorts, pass, type FakePorts } from '../helpers/fake-ports';

const INTERVAL = 10_000;
const spec = (id: string, extra: Partial<CheckSpec> = {}) =>
  normalizeSpec(id, { kind: 'http', target: 'http://127.0.0.1:1/', intervalMs: INTERVAL, timeoutMs: 1000, replicas: 3, ...extra });

interface Node {
  f: FakePorts;
  actor: Actor<typeof checkRunnerMachine>;
  down: boolean;
}

function cluster(specs: ReturnType<typeof spec>[], opts: { stored?: QuorumRecord; hub?: FakeHub } = {}) {
  const hub = opts.hub ?? new FakeHub();
  const nodes: Node[] = [0, 1, 2].map((rank) => {
    const f = fakePorts({ hub, nodeId: `n${rank}` });
    if (rank === 0 && opts.stored) f.ports.quorumRecords = { last: (_id, done) => void Promise.resolve().then(() => done(null, opts.stored!)) };
    const node: Node = { f, actor: undefined as never, down: false };
    f.auto = () => (node.down ? failWith('refused') : pass());
    node.actor = createActor(checkRunnerMachine, { input: { shard: 0, rank, gen: 1, epoch: 7, specs: specs.filter((s) => s.replicas > rank), start: { type: 'fresh' }, ports: f.ports }, clock: f.clock });
    node.actor.start();
    return node;
  });
  const advance = async (ms: number) => {
    for (let t = 0; t < ms; t += 1000) {
      for (const n of nodes) n.f.clock.advance(1000);
      await hub.settle();
    }
  };
  const statuses = () => hub.published('lookout.status.>').map((p) => p.msg);
  return { hub, nodes, advance, statuses };
}

describe('quorum on the shard primary', () => {
  test('a target down for one vantage stays up; only the primary publishes status, with the vantages', async () => {
    const c = cluster([spec('a')]);
    c.nodes[2]!.down = true;
    await c.advance(6 * INTERVAL);
    const s = c.statuses();
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ checkId: 'a', from: 'unknown', to: 'up', node: 'n0', epoch: 7, seq: 1, quorum: { type: 'majority', need: 2, replicas: 3, formed: true } });
    expect(s[0].vantage).toBeUndefined();
    // Results stay per vantage, each with its own verdict.
    const downResults = c.hub.published('lookout.result.a').filter((p) => (p.msg).vantage === 2);
    expect(downResults.length).toBeGreaterThan(3);
    expect(downResults.every((p) => (p.msg).ok === false)).toBe(true);
    // The combined verdict is stored on the quorum record.
    expect(c.hub.published('lookout._resume.a.quorum').map((p) => p.msg)).toEqual([{ status: 'up', seq: 1, formed: true }]);
  });

  test('a target down for all goes down once, with the reason; replicas 1 keeps its per-vantage status', async () => {
    const c = cluster([spec('a'), spec('one', { replicas: 1 })]);
    await c.advance(4 * INTERVAL);
    for (const n of c.nodes) n.down = true;
    await c.advance(8 * INTERVAL);
    const s = c.statuses().filter((m) => m.checkId === 'a');
    expect(s.map((m) => `${m.from}>${m.to}`)).toEqual(['unknown>up', 'up>down']);
    expect(s[1]).toMatchObject({ reason: 'refused', seq: 2, quorum: { formed: true } });
    expect(s[1].quorum.down).toBeGreaterThanOrEqual(2);
    const one = c.statuses().filter((m) => m.checkId === 'one');
    expect(one.map((m) => `${m.from}>${m.to}`)).toEqual(['unknown>up', 'up>down']);
    expect(one[0]).toMatchObject({ vantage: 0, node: 'n0' });
    expect(one[0].quorum).toBeUndefined();
  });

  test('a stopped vantage turns unknown after two intervals without flipping the verdict', async () => {
    const c = cluster([spec('a')]);
    await c.advance(4 * INTERVAL);
    c.nodes[1]!.actor.send({ type: 'STOP' });
    await c.advance(5 * INTERVAL);
    expect(c.statuses().map((m) => `${m.from}>${m.to}`)).toEqual(['unknown>up']);
    // Lose a second vantage: 1 up, 2 unknown — the quorum is held, and said so once.
    c.nodes[2]!.actor.send({ type: 'STOP' });
    await c.advance(5 * INTERVAL);
    const s = c.statuses();
    expect(s.map((m) => `${m.from}>${m.to}`)).toEqual(['unknown>up', 'up>up']);
    expect(s[1].quorum).toMatchObject({ formed: false, up: 1, unknown: 2, down: 0 });
    expect(s[1].vantages.map((v: any) => v.status)).toEqual(['up', 'unknown', 'unknown']);
  });

  test('a new primary reading the stored record does not announce unknown → up again', async () => {
    const c = cluster([spec('a')], { stored: { status: 'up', seq: 5, formed: true } });
    await c.advance(6 * INTERVAL);
    expect(c.statuses()).toEqual([]);
    for (const n of c.nodes) n.down = true;
    await c.advance(8 * INTERVAL);
    expect(c.statuses().map((m) => [m.from, m.to, m.seq])).toEqual([['up', 'down', 6]]);
  });

  test('while the primary may not publish (a held queue, a cut link) nothing is announced, and the change comes after', async () => {
    const c = cluster([spec('a')]);
    let open = false;
    c.nodes[0]!.f.ports.canPublishVerdicts = () => open;
    await c.advance(4 * INTERVAL);
    expect(c.statuses()).toEqual([]);
    open = true;
    await c.advance(INTERVAL);
    expect(c.statuses().map((m) => `${m.from}>${m.to}:${m.seq}`)).toEqual(['unknown>up:1']);
  });

  test('a combined change the publish gate dropped is announced by the next evaluation, with the seq no one saw', async () => {
    const c = cluster([spec('a')]);
    c.nodes[0]!.f.gateDrops = (subject) => subject.startsWith('lookout.status.') || subject.startsWith('lookout._resume.');
    await c.advance(4 * INTERVAL);
    expect(c.statuses()).toEqual([]);
    c.nodes[0]!.f.gateDrops = null;
    await c.advance(INTERVAL);
    expect(c.statuses().map((m) => `${m.from}>${m.to}:${m.seq}`)).toEqual(['unknown>up:1']);
    for (const n of c.nodes) n.down = true;
    c.nodes[0]!.f.gateDrops = (subject) => subject.startsWith('lookout.status.') || subject.startsWith('lookout._resume.');
    await c.advance(10 * INTERVAL); // every vantage down well within it
    c.nodes[0]!.f.gateDrops = null;
    await c.advance(INTERVAL);
    expect(c.statuses().map((m) => `${m.from}>${m.to}:${m.seq}`)).toEqual(['unknown>up:1', 'up>down:2']);
    expect(c.hub.published('lookout._resume.a.quorum').map((p) => p.msg)).toEqual([{ status: 'up', seq: 1, formed: true }, { status: 'down', seq: 2, formed: true }]);
  });

  test("the primary's release carries the combined verdict", async () => {
    const c = cluster([spec('a')]);
    await c.advance(4 * INTERVAL);
    c.nodes[0]!.actor.send({ type: 'STOP', handover: true, atOnce: true });
    await c.hub.settle();
    await c.advance(2000);
    const [release] = c.hub.published('lookout._node.shard.0.0.release').map((p) => p.msg);
    expect(release.checks[0]).toMatchObject({ id: 'a', quorum: { status: 'up', seq: 1, formed: true } });
    // Vantages do not carry one.
    c.nodes[1]!.actor.send({ type: 'STOP', handover: true, atOnce: true });
    await c.advance(2000);
    const [r1] = c.hub.published('lookout._node.shard.0.1.release').map((p) => p.msg);
    expect(r1.checks[0].quorum).toBeUndefined();
  });
});
