// Handover by message between two runners on one in-memory bus, each node with its own manual
// clock (one of them skewed): claim → releasing → release → continue; the holder learning of the
// move by the map before the claim; a late claim answered from the kept release; no responders;
// silence until LOOKOUT_CLAIM_WAIT_MS; a takeover's clock-free catch-up; a late release counted
// as duplicates; and the node-wide timer queue keyed by runner.
import { createActor } from 'xstate';
import { checkRunnerMachine, type RunnerPorts, type RunnerStart } from '../../actors/check-runner';
import { normalizeSpec, type CheckSpec } from '../../checks/spec';
import { phaseOf } from '../../protocol/hash';
import { MOVED_WAITS } from '../../protocol/handover';
import { nextSlot } from '../../protocol/slots';
import { TimerQueue } from '../../runtime/timer-queue';
import { FakeHub } from '../helpers/fake-bus';
import { failWith, fakePorts, pass, type FakePorts } from '../helpers/fake-ports';

const I = 10_000;
const spec = (id: string, extra: Partial<CheckSpec> = {}) => normalizeSpec(id, { kind: 'http', target: 'http://127.0.0.1:1/', intervalMs: I, timeoutMs: 1000, ...extra });
const BASE = 1_700_000_000_000;

function runner(f: FakePorts, ids: string[], gen: number, start: RunnerStart = { type: 'fresh' }, onHandedOver?: () => void) {
  const actor = createActor(checkRunnerMachine, { input: { shard: 0, rank: 0, gen, epoch: gen, specs: ids.map((id) => spec(id)), start, ports: f.ports, ...(onHandedOver ? { onHandedOver } : {}) }, clock: f.clock });
  actor.start();
  return actor;
}

const results = (f: FakePorts, id?: string) => f.published.filter((p) => p.subject.startsWith('lookout.result.') && (!id || p.msg.checkId === id)).map((p) => p.msg);
const events = (f: FakePorts) => f.published.filter((p) => p.subject.startsWith('lookout._node.')).map((p) => p.subject);

/** Step both nodes' clocks together; let the bus deliver after each step. */
async function advance(nodes: FakePorts[], totalMs: number, stepMs = 100): Promise<void> {
  for (let t = 0; t < totalMs; t += stepMs) {
    for (const f of nodes) f.clock.advance(stepMs);
    await nodes[0]!.hub.settle(20);
  }
}

/** Two nodes on one hub; `skewMs`: the new owner's wall clock minus the holder's. */
async function pair(ids: string[], skewMs = 0, jitter = 0.5) {
  const hub = new FakeHub();
  // Jitter bound 100 ms (1% of the interval); random() = `jitter` on both nodes.
  const old = fakePorts({ start: BASE, hub, nodeId: 'a', jitterMs: 100 });
  old.ports.random = () => jitter;
  old.auto = () => pass();
  const holder = runner(old, ids, 1);
  await advance([old], 3 * I); // a few rounds: seq 3 or so per check
  const neu = fakePorts({ start: old.clock.now() + skewMs, hub, nodeId: 'b', jitterMs: 100 });
  neu.ports.random = () => jitter;
  neu.auto = () => pass();
  return { hub, old, neu, holder };
}

/** Every check probed once per interval across both nodes (by the holder's clock), seq by one. */
function expectSeamless(old: FakePorts, neu: FakePorts, ids: string[], skewMs: number) {
  for (const id of ids) {
    const starts = [...results(old, id).map((r) => Date.parse(r.at)), ...results(neu, id).map((r) => Date.parse(r.at) - skewMs)].sort((x, y) => x - y);
    const steps = starts.slice(1).map((t, i) => t - starts[i]!);
    expect({ id, steps: steps.filter((d) => Math.abs(d - I) > I / 10) }).toEqual({ id, steps: [] });
    const seqs = [...results(old, id), ...results(neu, id)].map((r) => r.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  }
}

/**
 * A holder on `hub` (node `nodeId`) that probed `ids` for three intervals, then had the slot moved
 * to `nextOwner` (seen alive): it probes on, `moved`, waiting for that node's claim.
 */
async function movedHolder(hub: FakeHub, nodeId: string, ids: string[], nextOwner: string) {
  const ports = fakePorts({ start: BASE, hub, nodeId, claimWaitMs: 200 });
  ports.auto = () => pass();
  ports.ports.peerAlive = () => true;
  const holder = runner(ports, ids, 1);
  await advance([ports], 3 * I);
  holder.send({ type: 'STOP', handover: true, nextOwner });
  await advance([ports], 500);
  expect(holder.getSnapshot().value).toBe('moved');
  return { ports, holder };
}

/** A runner that took check d0 over (its last state: seq 5) and probed it for three intervals. */
async function tookOver(): Promise<FakePorts> {
  const f = fakePorts({ start: BASE });
  f.history.set('d0', { seq: 5, status: 'up', history: '1', slot: BASE - I });
  f.auto = () => pass();
  runner(f, ['d0'], 2, { type: 'takeover' });
  await advance([f], 3 * I);
  return f;
}

describe('handover by message', () => {
  test.each([
    ['clocks agree', 0, 0.5],
    ['clocks agree, start jitter at its maximum', 0, 0.999],
    ['new owner 30 s behind', -30_000, 0.5],
    ['new owner 4.3 s ahead', 4_300, 0.5],
  ])('claim → releasing → release → continue (%s): no slot missed or doubled, seq continues', async (_name, skew, jitter) => {
    const ids = ['h0', 'h1', 'h2', 'h3'];
    const { old, neu, holder } = await pair(ids, skew, jitter);
    const claimant = runner(neu, ids, 2, { type: 'claim', holder: 'a' });
    await advance([old, neu], 4 * I);
    expect(holder.getSnapshot().value).toBe('stopped'); // released, kept for a while, then stopped
    expect(claimant.getSnapshot().value).toBe('running');
    expect(events(old)).toContain('lookout._node.shard.0.0.release');
    expect(results(neu).length).toBeGreaterThanOrEqual(3 * ids.length);
    expectSeamless(old, neu, ids, skew);
  });

  test('the holder learns of the move by the map before the claim: it releases, and answers the late claim from the kept release', async () => {
    const ids = ['m0', 'm1'];
    const { old, neu, holder } = await pair(ids);
    let handedOver = 0;
    holder.send({ type: 'STOP', handover: true });
    await advance([old, neu], 3000); // the new owner gets the map 3 s later
    expect(holder.getSnapshot().value).toBe('released');
    const claimant = runner(neu, ids, 2, { type: 'claim', holder: 'a' }, () => handedOver++);
    await advance([old, neu], 3 * I);
    expect(claimant.getSnapshot().value).toBe('running');
    // A slot that came due while the new owner had not got the map yet runs late, at once, under
    // its own slot; none is missed or doubled, seq continues.
    for (const id of ids) {
      const rs = [...results(old, id), ...results(neu, id)];
      expect(rs.map((r) => r.slot - rs[0].slot)).toEqual(rs.map((_, i) => i * I));
      expect(rs.map((r) => r.seq)).toEqual(rs.map((_, i) => i + 1));
    }
    expect(results(neu).length).toBeGreaterThanOrEqual(2 * ids.length);
    expect(handedOver).toBe(0); // the claimant's callback is for its own release, not this one
  });

  test.each([
    // name, ids, the new owner the holder sees alive (null: none named), claim delay
    ['the holder learns of the move by the map 0.7 s before the claim (below LOOKOUT_CLAIM_WAIT_MS, 1 s)', ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'], null, 700],
    ['the new owner is alive but claims 4 s after the map (loading its specs: four claim waits)', ['w0', 'w1', 'w2', 'w3', 'w4', 'w5'], 'b', 4000],
  ])('%s: the holder keeps probing until the claim, no slot missed or doubled', async (_name, ids, alive, delayMs) => {
    const { old, neu, holder } = await pair(ids);
    if (alive) old.ports.peerAlive = (node) => node === alive;
    holder.send({ type: 'STOP', handover: true, ...(alive ? { nextOwner: alive } : {}) });
    await advance([old, neu], delayMs);
    expect(holder.getSnapshot().value).toBe('moved');
    const claimant = runner(neu, ids, 2, { type: 'claim', holder: 'a' });
    await advance([old, neu], 3 * I);
    expect(claimant.getSnapshot().value).toBe('running');
    expect(events(old).filter((s) => s.endsWith('.release'))).toHaveLength(1);
    expectSeamless(old, neu, ids, 0);
  });

  test('a claim to a holder that never ran the slot goes unanswered: the takeover claim after it stops the moved holder before it, and seq never repeats', async () => {
    // a held the slot, its map moved it to x; x never ran it (the next map moved it on before x
    // had loaded the shard) and b claims from x. a, moved, waits for x's claim (x is alive) and
    // ignores b's claim (addressed to x). pause-node chaos, 2026-12-02: a and b probed one slot
    // side by side, uncounted, seq repeated.
    const hub = new FakeHub();
    const { ports: old, holder } = await movedHolder(hub, 'a', ['u0', 'u1'], 'x');
    const neu = fakePorts({ start: old.clock.now(), hub, nodeId: 'b', claimWaitMs: 200 });
    neu.auto = () => pass();
    const claimant = runner(neu, ['u0', 'u1'], 2, { type: 'claim', holder: 'x' });
    await advance([old, neu], 3 * I);
    expect(claimant.getSnapshot().value).toBe('running');
    expect(holder.getSnapshot().value).not.toBe('moved');
    expect(events(old).filter((s) => s.endsWith('.release'))).toHaveLength(1);
    for (const id of ['u0', 'u1']) {
      const rs = [...results(old, id), ...results(neu, id)].sort((x, y) => x.slot - y.slot);
      const seqs = rs.map((r) => r.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    }
    const twice = ['u0', 'u1'].map((id) => {
      const cells = [...results(old, id), ...results(neu, id)].map((r) => Math.floor((r.slot - phaseOf(id, I)) / I));
      return cells.length - new Set(cells).size;
    });
    const counted = ((await neu.ports.metrics.duplicateRuns.get()).values[0]?.value ?? 0) as number;
    expect(twice.reduce((x, y) => x + y, 0)).toBe(counted);
  });

  test('a holder that answers with a release older than the map that named it (kept from an earlier life of the slot) is not continued from: the stream, seq skipped, and the takeover claim finds the fresher release', async () => {
    // b held the slot (map 1) and was paused; c took it over (map 2) and got further; map 3 named b
    // again, but b never ran it (still loading the shard) and map 4 gave it to us. Our claim to b
    // (since 3) is answered from b's kept release of map 1; c's moved runner has the fresher state.
    const hub = new FakeHub();
    const stale = { shard: 0, rank: 0, node: 'b', instance: 'i-b', gen: 1, epoch: 1, checks: [{ id: 'k0', seq: 4, status: 'up' as const, history: '1', slot: BASE, dueInMs: 500 }] };
    hub.connect('b').subscribe('lookout._node.shard.0.0.claim', (m) => {
      const claim = m.json() as { holder: string | null };
      if (claim.holder === 'b') m.respond({ answer: 'released', release: stale });
    });
    const { ports: c, holder: moved } = await movedHolder(hub, 'c', ['k0'], 'b');
    const neu = fakePorts({ start: c.clock.now(), hub, nodeId: 'd', claimWaitMs: 200 });
    neu.auto = () => pass();
    neu.history.set('k0', results(c, 'k0').at(-1)!);
    const claimant = runner(neu, ['k0'], 2, { type: 'claim', holder: 'b', since: 3 });
    await advance([c, neu], 2 * I);
    expect(claimant.getSnapshot().value).toBe('running');
    expect(neu.logs.some((l) => l.event === 'release_stale' && l.releaseEpoch === 1 && l.since === 3)).toBe(true);
    expect(moved.getSnapshot().value).not.toBe('moved'); // the takeover claim made it release
    const cSeqs = results(c, 'k0').map((r) => r.seq);
    const ours = results(neu, 'k0').map((r) => r.seq);
    expect(ours.length).toBeGreaterThan(0);
    expect(Math.min(...ours)).toBeGreaterThan(Math.max(...cSeqs)); // never b's seq 5, 6, … again
  });

  test('a new owner that had none of the shard\'s specs when it started claims when the first comes: the moved holder releases, no slot twice', async () => {
    const { old, neu, holder } = await pair(['l0']);
    old.ports.peerAlive = () => true;
    // The new owner's shard watch has not delivered the spec yet: its runner starts with no checks.
    const claimant = createActor(checkRunnerMachine, { input: { shard: 0, rank: 0, gen: 2, epoch: 2, specs: [], start: { type: 'claim', holder: 'a', since: 1 }, ports: neu.ports }, clock: neu.clock });
    claimant.start();
    holder.send({ type: 'STOP', handover: true, nextOwner: 'b' });
    await advance([old, neu], 1500);
    expect(holder.getSnapshot().value).toBe('moved'); // probing on, waiting for a claim
    claimant.send({ type: 'CHECK_SET', spec: spec('l0') });
    await advance([old, neu], 3 * I);
    expect(holder.getSnapshot().value).not.toBe('moved');
    expect(neu.logs.some((l) => l.event === 'claim_late')).toBe(true);
    const rs = [...results(old, 'l0'), ...results(neu, 'l0')].sort((x, y) => x.slot - y.slot);
    expect(rs.map((r) => r.slot - rs[0].slot)).toEqual(rs.map((_, i) => i * I));
    expect(rs.map((r) => r.seq)).toEqual(rs.map((_, i) => i + 1));
    expect(results(neu, 'l0').length).toBeGreaterThanOrEqual(2);
  });

  test('a moved holder waits on only while the new owner is alive, and at most MOVED_WAITS claim waits', async () => {
    const dead = await pair(['d0']);
    dead.old.ports.peerAlive = () => false;
    dead.holder.send({ type: 'STOP', handover: true, nextOwner: 'b' });
    await advance([dead.old], 1100);
    expect(dead.holder.getSnapshot().value).not.toBe('moved');
    const silent = await pair(['s0']);
    silent.old.ports.peerAlive = () => true;
    silent.holder.send({ type: 'STOP', handover: true, nextOwner: 'b' });
    await advance([silent.old], MOVED_WAITS * 1000 - 100);
    expect(silent.holder.getSnapshot().value).toBe('moved');
    await advance([silent.old], 1200);
    expect(silent.holder.getSnapshot().value).not.toBe('moved');
  });

  test('the holder learns of the move by the claim first, then the map: one release, told handed over once', async () => {
    const ids = ['c0'];
    const hub = new FakeHub();
    const old = fakePorts({ start: BASE, hub, nodeId: 'a' });
    old.auto = () => pass();
    let told = 0;
    const holder = runner(old, ids, 1, { type: 'fresh' }, () => told++);
    await advance([old], 2 * I);
    const neu = fakePorts({ start: old.clock.now(), hub, nodeId: 'b' });
    neu.auto = () => pass();
    runner(neu, ids, 2, { type: 'claim', holder: 'a' });
    await advance([old, neu], 500);
    holder.send({ type: 'STOP', handover: true });
    await advance([old, neu], 2 * I);
    expect(events(old).filter((s) => s.endsWith('.release'))).toHaveLength(1);
    expect(told).toBe(1);
    expectSeamless(old, neu, ids, 0);
  });

  // Two maps in flight: b claims under epoch 3 and gets the release; c claims the same slot from the
  // same holder a moment later under its own map. The release goes to one claimant only (`to`): c
  // is answered `taken` and neither takes the release it hears on `.release` nor probes. A loaded
  // CI run (chaos flapping): a flapping node's returning life took the release given to the new
  // owner, and both probed the slot.
  test.each([
    ['c follows an older map (epoch 2): it waits, probing nothing, until its map moves the slot away', 2, 'b'],
    ['c follows a newer map (epoch 4): it claims from b, which releases to it', 4, 'c'],
  ])('a second claimant after the release went to the first: %s', async (_name, cEpoch, runs) => {
    const ids = ['t0', 't1', 't2'];
    const { hub, old, neu, holder } = await pair(ids);
    const third = fakePorts({ start: old.clock.now(), hub, nodeId: 'c', jitterMs: 100 });
    third.ports.random = () => 0.5;
    third.auto = () => pass();
    const b = runner(neu, ids, 3, { type: 'claim', holder: 'a' });
    const c = runner(third, ids, cEpoch, { type: 'claim', holder: 'a' });
    await advance([old, neu, third], 3000); // within the holder's keep time (5 s)
    expect(old.published.filter((p) => p.subject.endsWith('.release')).map((p) => p.msg.to?.node)).toEqual(['b']);
    expect(old.logs.filter((l) => l.event === 'claim_after_taken')).toHaveLength(1);
    if (runs === 'b') {
      expect(c.getSnapshot().value).toBe('claiming');
      expect(third.logs.filter((l) => l.event === 'claim_taken_elsewhere')).toHaveLength(1);
      c.send({ type: 'STOP' }); // the map that moves the slot away from c
      expect(c.getSnapshot().value).toBe('stopped');
    }
    await advance([old, neu, third], 4 * I);
    expect(holder.getSnapshot().value).toBe('stopped');
    if (runs === 'b') {
      expect(results(third)).toEqual([]);
      expect(b.getSnapshot().value).toBe('running');
    } else {
      expect(third.logs.filter((l) => l.event === 'claim_retargeted')).toMatchObject([{ by: 'b', takenEpoch: 3 }]);
      expect(neu.published.filter((p) => p.subject.endsWith('.release')).map((p) => p.msg.to?.node)).toEqual(['c']);
      expect(c.getSnapshot().value).toBe('running');
      expect(b.getSnapshot().value).not.toBe('running');
      expect(results(third).length).toBeGreaterThanOrEqual(2 * ids.length);
    }
    // Across the three nodes: every check once per slot, seq by one.
    for (const id of ids) {
      const rs = [old, neu, third].flatMap((f) => results(f, id)).sort((x, y) => x.slot - y.slot);
      expect({ id, slots: rs.map((r) => r.slot - rs[0].slot) }).toEqual({ id, slots: rs.map((_, i) => i * I) });
      expect({ id, seqs: rs.map((r) => r.seq) }).toEqual({ id, seqs: rs.map((_, i) => i + 1) });
    }
  });

  test('a restarted claimant still starting is answered `held`: the holder probes on for it far past the claim wait, then hands over by release when it hears it running', async () => {
    const ids = ['r0', 'r1', 'r2'];
    const { old, neu, holder } = await pair(ids);
    let starting = true;
    old.ports.heldDead = (node) => starting && node === 'b';
    // A restart follows no previous map: it claims from whoever holds the slot.
    const claimant = runner(neu, ids, 2, { type: 'claim', holder: null });
    await advance([old, neu], 2 * I); // twenty claim waits
    expect(claimant.getSnapshot().value).toBe('claiming');
    expect(holder.getSnapshot().value).toBe('running');
    expect(results(neu)).toEqual([]);
    expect(events(old).filter((x) => x.endsWith('.release'))).toEqual([]);
    expect(old.logs.filter((l) => l.event === 'claim_held')).toHaveLength(1); // logged once, not per claim
    expect(neu.logs.filter((l) => l.event === 'claim_held_by_holder')).toHaveLength(1);
    // The holder hears it running: its view moves the slot back at once (node-view.ts), it releases.
    starting = false;
    holder.send({ type: 'STOP', handover: true, atOnce: true });
    await advance([old, neu], 3 * I);
    expect(claimant.getSnapshot().value).toBe('running');
    expect(results(neu).length).toBeGreaterThanOrEqual(2 * ids.length);
    expectSeamless(old, neu, ids, 0);
  });

  test('a claimant held dead or starting that dies loses nothing: the holder never released', async () => {
    const ids = ['x0'];
    const { old, neu, holder } = await pair(ids);
    old.ports.heldDead = () => true;
    const claimant = runner(neu, ids, 2, { type: 'claim', holder: null });
    await advance([old, neu], 1500);
    claimant.stop(); // SIGKILL of the new life
    const before = results(old).length;
    await advance([old], 3 * I);
    expect(holder.getSnapshot().value).toBe('running');
    expect(results(old).length - before).toBe(3);
  });

  test('no responders: the claimant starts from the result stream at once', async () => {
    const neu = fakePorts({ start: BASE });
    neu.history.set('n0', { seq: 41, status: 'up', history: '1', slot: BASE - I });
    neu.auto = () => pass();
    const claimant = runner(neu, ['n0'], 2, { type: 'claim', holder: 'a' });
    await neu.hub.settle(20);
    expect(claimant.getSnapshot().value).toBe('running');
    await advance([neu], I);
    expect(results(neu)[0]).toMatchObject({ seq: 42 });
  });

  // A claim to a holder whose runner stopped before it took the release it was sent (the next map
  // moved the slot on while it loaded the shard): nobody probed since this node was given the slot.
  // Or a holder SIGKILLed moments ago (its subscriptions went with its connection) that this node's
  // detector does not hold alive any more, named by a map from a leader that found it dead first.
  test.each<[string, string | null, number | undefined, boolean, boolean]>([
    ['given the slot 2 s ago: the slot due 1 s ago gets one catch-up probe at once', 'a', 2000, true, true],
    ['given the slot 0.5 s ago: no slot came due since, the next slot', 'a', 500, true, false],
    ['no holder named (a first map: nothing ran before): the next slot', null, 2000, true, false],
    ['without gainedAt: the next slot', 'a', undefined, true, false],
    ['the holder no longer alive here (suspect or dead), given the slot 0.5 s ago: a takeover, one catch-up probe at once', 'a', 500, false, true],
  ])('no responders, %s', async (_name, holder, gainedAgo, holderAlive, caughtUp) => {
    const slot = BASE + phaseOf('u0', I);
    const neu = fakePorts({ start: slot + 1000 });
    neu.ports.random = () => 0;
    neu.ports.peerAlive = () => holderAlive;
    neu.history.set('u0', { seq: 7, status: 'up', history: '1', slot: slot - I });
    neu.auto = () => pass();
    const start: RunnerStart = { type: 'claim', holder, ...(gainedAgo !== undefined ? { gainedAt: neu.clock.now() - gainedAgo } : {}) };
    const claimant = runner(neu, ['u0'], 2, start);
    await neu.hub.settle(20);
    expect(claimant.getSnapshot().value).toBe('running');
    neu.clock.advance(0);
    await neu.settle();
    expect(results(neu).map((r) => r.seq)).toEqual(caughtUp ? [8] : []);
    await advance([neu], I);
    // Caught up: the next probe rejoins the grid at the slot after; else the next slot is the first.
    expect(results(neu).map((r) => r.seq)).toEqual(caughtUp ? [8, 9] : [8]);
    expect(Date.parse(results(neu).at(-1).at)).toBe(slot + I);
  });

  test('silence: claims repeat until LOOKOUT_CLAIM_WAIT_MS, then the stream (claim_unanswered)', async () => {
    const hub = new FakeHub();
    const silent = hub.connect('a');
    silent.subscribe('lookout._node.shard.0.0.claim', () => {}); // a holder that never answers (paused)
    const neu = fakePorts({ start: BASE, hub, nodeId: 'b', claimWaitMs: 200 });
    neu.auto = () => pass();
    const claims: unknown[] = [];
    hub.connect('spy').subscribe('lookout._node.shard.0.0.claim', (m) => claims.push(m.json()));
    const claimant = runner(neu, ['s0'], 2, { type: 'claim', holder: 'a' });
    // Each attempt waits 50 ms (real time, the bus's timer); the wait is judged on the node's clock.
    await new Promise((r) => setTimeout(r, 120));
    await hub.settle(20);
    expect(claimant.getSnapshot().value).toBe('claiming');
    // One attempt's time (50 ms) at a time: each silence is judged once the I/O received meanwhile is read.
    for (let t = 0; t < 200; t += 50) {
      neu.clock.advance(50);
      await hub.settle(5);
    }
    await new Promise((r) => setTimeout(r, 70));
    await hub.settle(20);
    expect(claimant.getSnapshot().value).toBe('running');
    expect(claims.length).toBeGreaterThanOrEqual(2);
    expect(claims[0]).toMatchObject({ shard: 0, rank: 0, node: 'b', instance: 'i-b', gen: 2, holder: 'a' });
  });

  /** A holder that never answers, a claimant whose load port reports `stall()` ms of its own stall. */
  async function silentHolder(stall: () => number, holder: string | null = 'a', ports: Partial<RunnerPorts> = {}) {
    const hub = new FakeHub();
    hub.connect('a').subscribe('lookout._node.shard.0.0.claim', () => {});
    const neu = fakePorts({ start: BASE + phaseOf('s0', I) + 1000, hub, nodeId: 'b', claimWaitMs: 200 });
    Object.assign(neu.ports, ports);
    neu.ports.random = () => 0;
    neu.ports.load = { stallMs: stall, noteLateness: () => {}, status: () => ({ overloaded: false, lagMs: 0 }) };
    neu.history.set('s0', { seq: 5, status: 'up', history: '1', slot: BASE + phaseOf('s0', I) });
    neu.auto = () => pass();
    const claimant = runner(neu, ['s0'], 2, { type: 'claim', holder });
    await new Promise((r) => setTimeout(r, 120));
    await hub.settle(20);
    /** One attempt's time (50 ms) at a time, each judged once the I/O received meanwhile is read. */
    const wait = async (ms: number, onStep = () => {}) => {
      for (let t = 0; t < ms; t += 50) {
        neu.clock.advance(50);
        onStep();
        await hub.settle(5);
      }
      await new Promise((r) => setTimeout(r, 70));
      await hub.settle(20);
    };
    return { neu, claimant, wait };
  }

  test('the claimant\'s own stall is not the holder\'s silence: the wait counts only the time it could run', async () => {
    let stalled = 0;
    const { claimant, wait } = await silentHolder(() => stalled);
    await wait(400, () => (stalled += 50)); // twice the claim wait, all of it our own stall
    expect(claimant.getSnapshot().value).toBe('claiming');
    await wait(200); // the claim wait, running freely
    expect(claimant.getSnapshot().value).toBe('running');
  });

  test('an unanswered claim starts with one catch-up probe (a silent holder may have stopped before its last slot)', async () => {
    const { neu, claimant, wait } = await silentHolder(() => 0);
    await wait(200);
    expect(claimant.getSnapshot().value).toBe('running');
    neu.clock.advance(0);
    await neu.settle();
    // The slot passed 1.2 s ago and the next is 8.8 s away: the catch-up probe ran at once.
    expect(results(neu)).toEqual([expect.objectContaining({ seq: 6 })]);
    expect(Date.parse(results(neu)[0].at)).toBeLessThan(nextSlot('s0', I, neu.clock.now()));
  });

  // takeoverUnseenMs 3 s at a 10 s interval: a takeover from a holder that may still publish skips 2 seq numbers.
  test.each([
    ['heard by this process: it may still publish behind a frozen link, seq skipped past it', true, 8],
    ['only seeded from the stored map (it left before this process started): gone, seq on by one', false, 6],
  ])('an unanswered claim to a holder %s', async (_, heard, seq) => {
    const asked: string[] = [];
    const { neu, claimant, wait } = await silentHolder(() => 0, 'a', { takeoverUnseenMs: 3000, peerHeard: (n) => (asked.push(n), heard) });
    await wait(200);
    expect(claimant.getSnapshot().value).toBe('running');
    neu.clock.advance(0);
    await neu.settle();
    expect(asked).toEqual(['a']);
    expect(results(neu)).toEqual([expect.objectContaining({ seq })]);
  });

  test('an unanswered claim with no previous holder (a passive subscriber heard it at formation) starts on the grid, no catch-up', async () => {
    const { neu, claimant, wait } = await silentHolder(() => 0, null);
    await wait(200);
    expect(claimant.getSnapshot().value).toBe('running');
    neu.clock.advance(0);
    await neu.settle();
    expect(results(neu)).toEqual([]);
  });

  test('a takeover (holder dead) gets one paced catch-up probe decided on its own clock, whatever the last slot says', async () => {
    const f = fakePorts({ start: BASE + phaseOf('t0', I) + 1 });
    f.ports.random = () => 0;
    // The last result's slot is stamped by a clock far ahead: it plays no part.
    f.history.set('t0', { seq: 5, status: 'up', history: '1', slot: BASE + 3_600_000 });
    f.auto = () => pass();
    runner(f, ['t0'], 2, { type: 'takeover' });
    await f.settle();
    f.clock.advance(0);
    await f.settle();
    expect(results(f)).toEqual([expect.objectContaining({ seq: 6, slot: BASE + phaseOf('t0', I) + 1 })]);
  });

  test('a takeover from a restarted holder (a new life heard) has no catch-up: it starts on its next slot, seq skipped like a dead holder\'s', async () => {
    const f = fakePorts({ start: BASE + phaseOf('t1', I) + 1 });
    f.ports.random = () => 0;
    f.ports.takeoverUnseenMs = 0;
    // The old life probed this interval's slot just before it died.
    f.history.set('t1', { seq: 5, status: 'up', history: '1', slot: BASE + phaseOf('t1', I) });
    f.auto = () => pass();
    runner(f, ['t1'], 2, { type: 'takeover', from: 'a', heldDead: true, restarted: true });
    await f.settle();
    f.clock.advance(I / 2);
    await f.settle();
    expect(results(f)).toEqual([]); // no catch-up in the interval the old life probed
    await advance([f], I);
    const rs = results(f);
    expect(rs.map((r) => r.slot)).toEqual([BASE + phaseOf('t1', I) + I]);
    expect(rs[0]!.seq).toBeGreaterThan(5);
  });

  test('a release says when the holder probed each check since it started: the first and last probe start and how many (a receiver counts what ran twice from them)', async () => {
    const { old, holder } = await pair(['r0']);
    holder.send({ type: 'STOP', handover: true });
    await advance([old], 1000);
    const release = old.published.find((p) => p.subject.endsWith('.release'))?.msg as { checks: Array<Record<string, number>> } | undefined;
    const starts = results(old, 'r0').map((r) => Date.parse(r.at));
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expect(release?.checks[0]).toMatchObject({ ran: starts.length, firstAt: starts[0], lastAt: starts.at(-1) });
  });

  test('a late release after a takeover: the holder’s probes after our first one ran twice, and are counted', async () => {
    const f = await tookOver();
    // The holder (a frozen link) kept probing on the check's grid, so its last three probes fell in
    // the intervals of our three; it published 3 results past the seq we resumed from.
    const dueInMs = nextSlot('d0', I, f.clock.now()) - f.clock.now();
    hubPublish(f, { shard: 0, rank: 0, node: 'a', instance: 'i-a', gen: 1, epoch: 3, checks: [{ id: 'd0', seq: 8, status: 'up', history: '1', slot: BASE, dueInMs }] });
    await f.hub.settle(20);
    expect(await f.ports.metrics.duplicateRuns.get()).toMatchObject({ values: [{ value: 3 }] });
  });

  test('a late release after a takeover: our probes before the queue was held (a pause) are a stretch that ended then, and are not counted', async () => {
    const f = await tookOver();
    // As in the test before, but the pause guard held the queue and resumed it since our last probe.
    f.ports.queue.hold();
    f.ports.queue.resume();
    const dueInMs = nextSlot('d0', I, f.clock.now()) - f.clock.now();
    hubPublish(f, { shard: 0, rank: 0, node: 'a', instance: 'i-a', gen: 1, epoch: 3, checks: [{ id: 'd0', seq: 8, status: 'up', history: '1', slot: BASE, dueInMs }] });
    await f.hub.settle(20);
    expect(await f.ports.metrics.duplicateRuns.get()).toMatchObject({ values: [{ value: 0 }] });
  });

  test('a late release after a takeover: results it probed before our first probe reached NATS late, and are not counted', async () => {
    const f = await tookOver();
    // Three results past ours, but its next slot was due 3.5 intervals ago: it stopped (held) before we began.
    hubPublish(f, { shard: 0, rank: 0, node: 'a', instance: 'i-a', gen: 1, epoch: 3, checks: [{ id: 'd0', seq: 8, status: 'up', history: '1', slot: BASE, dueInMs: -3.5 * I }] });
    await f.hub.settle(20);
    expect(await f.ports.metrics.duplicateRuns.get()).toMatchObject({ values: [{ value: 0 }] });
  });

  test('a provisional taker’s release reaches the holder that kept probing: counted, and its seq and epoch taken', async () => {
    const f = fakePorts({ start: BASE });
    f.history.set('p0', { seq: 5, status: 'up', history: '1', slot: BASE - I });
    f.auto = () => pass();
    runner(f, ['p0'], 4, { type: 'fresh' });
    await advance([f], 4 * I);
    const before = results(f).at(-1)!;
    // Node b held us dead and ran our slot for its last two intervals under epoch 5 (the followed 4 + 1), from seq 20.
    const nextAt = nextSlot('p0', I, f.clock.now());
    hubPublish(f, { shard: 0, rank: 0, node: 'b', instance: 'i-b', gen: 9, epoch: 5, checks: [{ id: 'p0', seq: 21, status: 'up', history: '11', slot: nextAt, dueInMs: nextAt - f.clock.now(), ran: 2, firstAt: nextAt - 2 * I, nextAt }] });
    await f.hub.settle(20);
    expect(await f.ports.metrics.duplicateRuns.get()).toMatchObject({ values: [{ value: 2 }] });
    await advance([f], I);
    const after = results(f).at(-1)!;
    expect(before.seq).toBeLessThan(21);
    expect(after).toMatchObject({ seq: 22, epoch: 5 });
  });

  // Flapping chaos: a moved holder waiting for its new owner released on its own when that owner
  // died, before the node taking the slot over listened for releases. The taker starts from the
  // stream with a catch-up probe in the interval the holder had just probed: one probe twice, and
  // uncounted, since nobody heard that release. Its takeover claim now gets the release (the kept
  // one, or the holder still waiting releases): checks not probed yet continue from it, and a
  // catch-up that already ran in the holder's last interval is counted. (The fake clock runs the
  // catch-ups at once, before the answer: two of the four checks here.)
  test.each([
    ['the holder released on its own (its new owner died): its kept release answers the takeover claim', 'released'],
    ['the holder still waits for its new owner (not yet seen dead): it releases to the taker', 'moved'],
  ])('%s: every probe both ran is counted, nothing missed, seq never repeats', async (_name, holderState) => {
    const ids = ['f0', 'f1', 'f2', 'f3'];
    const { old, neu, holder } = await pair(ids);
    old.ports.peerAlive = () => holderState === 'moved';
    holder.send({ type: 'STOP', handover: true, nextOwner: 'c' });
    await advance([old, neu], 1500);
    expect(holder.getSnapshot().value).toBe(holderState);
    for (const id of ids) neu.history.set(id, { seq: results(old, id).at(-1)!.seq, status: 'up', history: '1', slot: results(old, id).at(-1)!.slot });
    const taker = runner(neu, ids, 2, { type: 'takeover', from: 'c', heldDead: true });
    await advance([old, neu], 3 * I);
    expect(taker.getSnapshot().value).toBe('running');
    expect(holder.getSnapshot().value).not.toBe('moved');
    let twice = 0;
    for (const id of ids) {
      const starts = [...results(old, id), ...results(neu, id)].map((r) => Date.parse(r.at)).sort((x, y) => x - y);
      const steps = starts.slice(1).map((t, i) => t - starts[i]!);
      expect({ id, gaps: steps.filter((d) => d > I + I / 10) }).toEqual({ id, gaps: [] });
      twice += steps.filter((d) => d < I / 2).length;
      const seqs = [...results(old, id), ...results(neu, id)].map((r) => r.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
    }
    expect(twice).toBeGreaterThan(0); // the catch-up probe ran in the holder's last interval
    expect(await neu.ports.metrics.duplicateRuns.get()).toMatchObject({ values: [{ value: twice }] });
  });

  test('a holder that owns the slot ignores a takeover claim: both probe (its late release is counted when it comes)', async () => {
    const { old, neu, holder } = await pair(['o0']);
    const taker = runner(neu, ['o0'], 2, { type: 'takeover', from: 'c' });
    await advance([old, neu], 2 * I);
    expect(taker.getSnapshot().value).toBe('running');
    expect(holder.getSnapshot().value).toBe('running');
    expect(events(old).filter((s) => s.endsWith('.release'))).toEqual([]);
  });

  test('a check released before its first verdict was announced: the new owner announces it from unknown', async () => {
    // A check whose first slot is well past the handover: the holder looked it up (nothing
    // published) and released it unprobed, its initial verdict state unannounced.
    const id = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'].find((c) => nextSlot(c, I, BASE) - BASE > 2000)!;
    const hub = new FakeHub();
    const old = fakePorts({ start: BASE, hub, nodeId: 'a', jitterMs: 100 });
    old.auto = () => pass();
    runner(old, [id], 1);
    await advance([old], 200);
    const neu = fakePorts({ start: old.clock.now(), hub, nodeId: 'b', jitterMs: 100 });
    neu.auto = () => pass();
    runner(neu, [id], 2, { type: 'claim', holder: 'a' });
    await advance([old, neu], 2 * I);
    expect(results(old)).toEqual([]);
    expect(old.published.find((p) => p.subject === 'lookout._node.shard.0.0.release')?.msg.checks).toMatchObject([{ id, seq: 0, published: 'unknown' }]);
    const statuses = neu.published.filter((p) => p.subject === `lookout.status.${id}`).map((p) => p.msg);
    expect(statuses[0]).toMatchObject({ from: 'unknown', to: 'up', seq: 1 });
  });

  test('a hostile release is refused: nothing taken from it', async () => {
    const { old, neu } = await pair(['x0']);
    old.hub.connect('evil').subscribe('lookout._node.shard.0.0.claim', (m) => m.respond({ answer: 'released', release: { shard: 0, rank: 0, node: 'a', instance: 'i', gen: 1, epoch: 1, checks: [{ id: 'x0', seq: -1 }] } }));
    const claimant = runner(neu, ['x0'], 2, { type: 'claim', holder: 'a' });
    await advance([old, neu], 2 * I);
    expect(claimant.getSnapshot().value).toBe('running');
    expect(results(neu).every((r) => r.seq > 0)).toBe(true);
  });
});

function hubPublish(f: FakePorts, release: object): void {
  f.hub.connect('a').publish('lookout._node.shard.0.0.release', release);
}

test('the timer queue is keyed by runner: a releasing runner cannot unschedule the new runner of the same check on the same node', async () => {
  const hub = new FakeHub();
  const f = fakePorts({ start: BASE, hub });
  f.auto = () => pass();
  const queue = new TimerQueue(f.clock);
  f.ports.queue = queue;
  const first = runner(f, ['q0'], 1);
  await advance([f], I);
  // Same node, same check, a second runner (e.g. the shard's rank changed): the first one stops.
  runner(f, ['q0'], 2, { type: 'fresh' });
  await f.settle();
  expect(queue.size).toBe(2);
  first.send({ type: 'STOP' });
  await f.settle();
  expect(queue.size).toBe(1);
  const before = results(f).length;
  await advance([f], 2 * I);
  expect(results(f).length - before).toBeGreaterThanOrEqual(2);
});

describe('state-dependent intervals across a handover', () => {
  test('a check released while going down continues on the fast grid at the new owner: (status, history) carry the interval, seq continues', async () => {
    const T = 2000;
    const fast = normalizeSpec('t0', { kind: 'http', target: 'http://127.0.0.1:1/', intervalMs: I, intervalWhileTransitioningMs: T, timeoutMs: 1000, confirm: false, policy: { type: 'consecutive', rise: 2, fall: 3, initial: 'up' } });
    const start = (f: FakePorts, gen: number, how: RunnerStart) => createActor(checkRunnerMachine, { input: { shard: 0, rank: 0, gen, epoch: gen, specs: [fast], start: how, ports: f.ports }, clock: f.clock }).start();
    const hub = new FakeHub();
    const old = fakePorts({ start: BASE, hub, nodeId: 'a' });
    old.auto = () => pass();
    start(old, 1, { type: 'fresh' });
    await advance([old], 2 * I);
    old.auto = () => failWith('status');
    // Step until the first failure is published: up, going down, its next slot on the 2 s grid.
    for (let i = 0; i < 200 && !results(old).some((r) => !r.ok); i++) await advance([old], 100);
    const failed = results(old).at(-1)!;
    expect(failed).toMatchObject({ ok: false, status: 'up', intervalMs: I });
    const neu = fakePorts({ start: old.clock.now(), hub, nodeId: 'b' });
    neu.auto = () => failWith('status');
    start(neu, 2, { type: 'claim', holder: 'a' });
    await advance([old, neu], 3 * T);
    expect(results(old).at(-1)).toEqual(failed); // the holder released before its fast slot
    const [first, second] = results(neu);
    expect(first).toMatchObject({ seq: failed.seq + 1, slot: nextSlot('t0', T, failed.slot), intervalMs: T, status: 'up' });
    expect(second).toMatchObject({ seq: failed.seq + 2, slot: first.slot + T, intervalMs: T, status: 'down' }); // the third failure: down
  });
});
