// The shard owner follows assignments: runners for gained shards once their specs are held (loaded
// with them), drain-and-stop for lost ones (their specs dropped), spec changes routed to the
// owning runner only.
import { createActor } from 'xstate';
import { shardOwnerMachine } from '../../actors/shard-owner';
import { SpecCatalog } from '../../actors/spec-catalog';
import type { SpecHolder } from '../../actors/shard-specs';
import { normalizeSpec } from '../../checks/spec';
import { fakePorts, pass } from '../helpers/fake-ports';

const spec = (id: string) => normalizeSpec(id, { kind: 'tcp', target: '127.0.0.1:1', intervalMs: 1000, timeoutMs: 500 });

/** A holder whose holds resolve when the test says (`load`), or at once (`auto`). */
class FakeHolder implements SpecHolder {
  readonly held = new Set<number>();
  readonly dropped: number[] = [];
  private readonly waiting = new Map<number, () => void>();
  constructor(
    readonly catalog: SpecCatalog,
    public auto = true,
  ) {}
  /** Shards in the order their holds started. */
  readonly order: number[] = [];
  hold(shard: number): Promise<void> {
    this.held.add(shard);
    this.order.push(shard);
    if (this.auto) return Promise.resolve();
    return new Promise((r) => this.waiting.set(shard, r));
  }
  load(shard: number): void {
    this.waiting.get(shard)?.();
    this.waiting.delete(shard);
  }
  drop(shard: number): void {
    this.held.delete(shard);
    this.dropped.push(shard);
  }
}

function setup(ids: string[]) {
  const f = fakePorts();
  f.auto = () => pass();
  const catalog = new SpecCatalog(4);
  ids.forEach((id, i) => catalog.set(spec(id), i + 1));
  const specs = new FakeHolder(catalog, false);
  const owner = createActor(shardOwnerMachine, { input: { specs, ports: f.ports }, clock: f.clock });
  owner.start();
  return { f, catalog, owner, specs };
}

const probedIds = (f: ReturnType<typeof fakePorts>) => new Set(f.published.filter((p) => p.subject.startsWith('lookout.result.')).map((p) => p.msg.checkId));

test('holds start with the shards this node is the primary of: their watches come first (a spec put meanwhile waits for its watch)', () => {
  const { owner, specs } = setup([]);
  owner.send({ type: 'ASSIGN', slots: [{ shard: 0, rank: 1 }, { shard: 1, rank: 2 }, { shard: 2, rank: 0 }, { shard: 3, rank: 1 }, { shard: 5, rank: 0 }], epoch: 1 });
  expect(specs.order).toEqual([2, 5, 0, 3, 1]);
});

test('tells the node it runs once, when every slot of the followed map has its runner (the heartbeat stops saying starting)', async () => {
  const f = fakePorts();
  f.auto = () => pass();
  const catalog = new SpecCatalog(4);
  ['c0', 'c1', 'c2'].forEach((id, i) => catalog.set(spec(id), i + 1));
  const specs = new FakeHolder(catalog, false);
  let running = 0;
  const owner = createActor(shardOwnerMachine, { input: { specs, ports: f.ports, onRunning: () => running++ }, clock: f.clock });
  owner.start();
  owner.send({ type: 'ASSIGN', slots: [0, 1].map((shard) => ({ shard, rank: 0 })), epoch: 1 });
  specs.load(0);
  await f.settle();
  expect(running).toBe(0); // shard 1 still loading
  // A newer map while loading: what counts is the map followed now.
  owner.send({ type: 'ASSIGN', slots: [0, 1, 2].map((shard) => ({ shard, rank: 0 })), epoch: 2 });
  specs.load(1);
  await f.settle();
  expect(running).toBe(0);
  specs.load(2);
  await f.settle();
  expect(running).toBe(1);
  expect(f.logs.filter((l) => l.event === 'slots_running')).toEqual([expect.objectContaining({ slots: 3 })]);
  // Once per life: a later map with shards still to load does not make it starting again.
  owner.send({ type: 'ASSIGN', slots: [0, 1, 2, 3].map((shard) => ({ shard, rank: 0 })), epoch: 3 });
  specs.load(3);
  await f.settle();
  expect(running).toBe(1);
  owner.stop();
});

test('a node whose followed map gives it no slot runs at once', () => {
  const { owner } = setup([]);
  let running = 0;
  const o2 = createActor(shardOwnerMachine, { input: { specs: owner.getSnapshot().context.specs, ports: owner.getSnapshot().context.ports, onRunning: () => running++ } });
  o2.start();
  o2.send({ type: 'ASSIGN', slots: [], epoch: 1 });
  expect(running).toBe(1);
  o2.stop();
  owner.stop();
});

test('runs exactly the checks of the assigned shards, follows changes, stops on STOP', async () => {
  const ids = Array.from({ length: 40 }, (_, i) => `c${i}`);
  const { f, catalog, owner, specs } = setup(ids);
  expect(owner.getSnapshot().value).toBe('waiting');
  owner.send({ type: 'ASSIGN', slots: [0, 1].map((shard) => ({ shard, rank: 0 })), epoch: 3 });
  expect([...specs.held].sort()).toEqual([0, 1]);
  expect(owner.getSnapshot().context.runners.size).toBe(0); // until each shard's specs are held
  specs.load(0);
  await f.settle();
  expect([...owner.getSnapshot().context.runners.keys()]).toEqual(['0/0']);
  specs.load(1);
  await f.settle();
  expect(owner.getSnapshot().context.runners.size).toBe(2);
  await f.settle(); // no map followed before: each runner claims, nobody answers (no responders), it starts
  f.clock.advance(1000);
  await f.settle();
  const mine = ids.filter((id) => catalog.shardOf(id) <= 1);
  expect(probedIds(f)).toEqual(new Set(mine));
  expect(f.published.find((p) => p.subject.startsWith('lookout.result.'))!.msg.epoch).toBe(3);

  // Lose shard 0, gain shard 2. Shard 0's runner probes on until its new owner claims it, or
  // LOOKOUT_CLAIM_WAIT_MS (1 s here) passes: then it releases.
  owner.send({ type: 'ASSIGN', slots: [1, 2].map((shard) => ({ shard, rank: 0 })), epoch: 4 });
  expect(specs.dropped).toEqual([0]);
  specs.load(2);
  await f.settle();
  f.clock.advance(f.ports.claimWaitMs);
  await f.settle();
  f.published.length = 0;
  f.clock.advance(1000);
  await f.settle();
  expect(probedIds(f)).toEqual(new Set(ids.filter((id) => [1, 2].includes(catalog.shardOf(id)))));
  expect(f.published.find((p) => p.subject.startsWith('lookout.result.'))!.msg.epoch).toBe(4);

  // A new spec in an owned shard is routed; one in an unowned shard is not.
  const owned = Array.from({ length: 100 }, (_, i) => `n${i}`).find((id) => catalog.shardOf(id) === 2)!;
  const unowned = Array.from({ length: 100 }, (_, i) => `n${i}`).find((id) => catalog.shardOf(id) === 3)!;
  for (const id of [owned, unowned]) {
    catalog.set(spec(id), 100);
    owner.send({ type: 'SPEC_SET', spec: spec(id) });
  }
  f.published.length = 0;
  f.clock.advance(1000);
  await f.settle();
  expect(probedIds(f).has(owned)).toBe(true);
  expect(probedIds(f).has(unowned)).toBe(false);

  owner.send({ type: 'STOP' });
  await f.settle();
  expect(owner.getSnapshot().status).toBe('done');
  expect(f.clock.pending).toBe(0);
});

test('a map that takes every slot: the owner says handed over once each release was claimed; slots without checks at once', async () => {
  const f = fakePorts();
  f.auto = () => pass();
  const catalog = new SpecCatalog(4);
  const id = Array.from({ length: 100 }, (_, i) => `h${i}`).find((x) => catalog.shardOf(x) === 1)!;
  catalog.set(spec(id), 1);
  let told = 0;
  const owner = createActor(shardOwnerMachine, { input: { specs: new FakeHolder(catalog), ports: f.ports, onHandedOver: () => told++ }, clock: f.clock });
  owner.start();
  owner.send({ type: 'ASSIGN', slots: [0, 1].map((shard) => ({ shard, rank: 0 })), epoch: 1, shards: [['n1'], ['n1'], ['x'], ['x']], live: ['n1', 'x'] });
  await f.settle();
  f.clock.advance(1000);
  await f.settle();
  // Both slots go to n2: shard 0 (no checks) is handed over at once, shard 1 once n2 claims it.
  owner.send({ type: 'ASSIGN', slots: [], epoch: 2, shards: [['n2'], ['n2'], ['x'], ['x']], live: ['n1', 'n2', 'x'] });
  await f.settle();
  expect(told).toBe(0);
  const n2 = f.hub.connect('n2');
  const answer = await n2.request('lookout._node.shard.1.0.claim', { shard: 1, rank: 0, epoch: 2, node: 'n2', instance: 'i-n2', gen: 1, holder: 'n1' }, 500);
  expect(answer.json()).toEqual({ answer: 'releasing' });
  await f.settle();
  expect(f.hub.published('lookout._node.shard.1.0.release').map((p) => p.msg.checks.map((c: any) => c.id))).toEqual([[id]]);
  expect(told).toBe(1);
  owner.send({ type: 'STOP' });
  await f.settle();
  expect(owner.getSnapshot().status).toBe('done');
});
