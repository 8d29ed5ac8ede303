// Planned membership changes of a cluster of `lookout node` processes, each scenario on its own
// nats-server, target and nodes: a node joins (it gets its share, close to the minimum number of
// shards move), a node leaves with SIGTERM (it hands over). Both are handovers, so across them
// every slot of every check is probed exactly once and seq continues across owners — decided
// from the published results (helpers/slot-report.ts), not from when probes arrived.
import { phaseOf } from '../../protocol/hash';
import { awaitHitsMatchResults, ownerOf } from '../helpers/cluster';
import { waitFor } from '../helpers/poll';
import { lateness, type PublishedResult } from '../helpers/slot-report';
import { scenarioTest } from '../helpers/scenario';

const I = 1000;
const N = 120;

scenarioTest('a 4th node joins: it gets its share, close to the minimum number of shards move, and no slot is missed or doubled', { nodes: ['n1', 'n2', 'n3'], checks: N, intervalMs: I }, async (s) => {
  const joinAt = Date.now();
  s.cluster.start('n4');
  const st = await s.cluster.settled(['n1', 'n2', 'n3', 'n4']);
  // The map's announcement on lookout.cluster.assignment may reach us after a node's status answer.
  const ev = await waitFor('the 4-member map announced', () => {
    const e = s.cluster.assignmentEvents().filter((x) => x.members.length === 4).at(-1);
    if (!e) throw new Error(`announced maps: ${JSON.stringify(s.cluster.assignmentEvents().map((x) => ({ epoch: x.epoch, members: x.members })))}`);
    return e;
  });
  expect(ev.shardsPerNode.n4.primary).toBe(64);
  expect(ev.moved).toBeLessThanOrEqual(ev.minimalMoves + 4);
  expect(st.members.find((m: any) => m.node === 'n4').shards.primary).toBe(64);

  // Before, across and after the join: every slot once, seq continuing across owners.
  const to = Date.now() + 3 * I;
  await s.awaitSlot(s.ids, to);
  const r = s.slots(s.ids, { from: Math.max(joinAt - 2 * I, s.runningFrom), to });
  expect(r.duplicates).toEqual([]);
  expect(r.gaps).toEqual([]);
  expect(r.seqBreaks).toEqual([]);
  if (r.catchUps.length) console.log(`join: ${r.catchUps.length} catch-up probe(s), e.g. ${r.catchUps[0]}`);
  const onN4 = s.ids.filter((id) => ownerOf(s.events, id) === 'n4');
  expect(onN4.length).toBeGreaterThan(N / 4 - 20); // its 64 of 256 shards hold about a quarter of the checks
  await awaitHitsMatchResults(s.target, s.events, s.ids, undefined, () => s.cluster.droppedResults());
});

scenarioTest('SIGTERM a node: it hands over without a missed or doubled slot, seq continues, no spurious down', { nodes: ['n1', 'n2', 'n3'], checks: N, intervalMs: I }, async (s) => {
  const st = await s.cluster.status();
  const victim = ['n1', 'n2', 'n3'].find((n) => n !== st.leader.node)!;
  const survivors = ['n1', 'n2', 'n3'].filter((n) => n !== victim);
  const moved = s.ids.filter((id) => ownerOf(s.events, id) === victim);
  const stayed = s.ids.filter((id) => !moved.includes(id));
  expect(moved.length).toBeGreaterThan(20);
  const t0 = Date.now();
  s.cluster.signal(victim, 'SIGTERM');
  expect(await s.cluster.nodes.get(victim)!.proc.exited).toBe(0);
  s.cluster.nodes.delete(victim);
  await s.cluster.settled(survivors);

  // Every slot of every check — handed over or not — before, during and after the handover was
  // probed exactly once (a probe belongs to the slot it started in, however late it arrived).
  const to = Date.now() + 2 * I;
  await s.awaitSlot(s.ids, to);
  const r = s.slots(s.ids, { from: Math.max(t0 - 2 * I, s.runningFrom), to });
  expect(r.duplicates).toEqual([]);
  expect(r.gaps).toEqual([]);
  expect(r.seqBreaks).toEqual([]);
  expect(moved.filter((id) => !survivors.includes(ownerOf(s.events, id)!))).toEqual([]);
  expect(s.events.statuses().filter((x) => x.to === 'down')).toEqual([]);

  // The new owners start the handed-over checks on time: side by side with the checks that did
  // not move, probed in the same slots on the same (possibly loaded) machine, most first probes
  // of moved checks start no later than the slowest 1% of the unmoved ones.
  const firstByNewOwner = moved.map((id) => s.events.results(id).find((x: PublishedResult) => x.node !== victim && x.slot >= t0)!);
  const from = Math.min(...firstByNewOwner.map((x) => x.slot));
  const until = Math.max(...firstByNewOwner.map((x) => x.slot)) + I;
  const sameSlots = stayed.flatMap((id) => s.events.results(id).filter((x: PublishedResult) => x.slot >= from && x.slot < until));
  const grid = { intervalMs: I, phaseOf };
  const movedLate = lateness(firstByNewOwner, grid).sort((a, b) => a - b);
  const stayedLate = lateness(sameSlots, grid).sort((a, b) => a - b);
  const p = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
  if (r.catchUps.length) console.log(`SIGTERM handover: ${r.catchUps.length} catch-up probe(s), e.g. ${r.catchUps[0]}`);
  console.log(`SIGTERM handover: start lateness of the ${moved.length} moved checks' first probes p50 ${p(movedLate, 0.5)} / p90 ${p(movedLate, 0.9)} / max ${movedLate.at(-1)} ms; of the ${sameSlots.length} unmoved probes in the same slots p50 ${p(stayedLate, 0.5)} / p99 ${p(stayedLate, 0.99)} / max ${stayedLate.at(-1)} ms`);
  expect(sameSlots.length).toBeGreaterThan(stayed.length / 2);
  expect(movedLate.filter((x) => x > p(stayedLate, 0.99)).length).toBeLessThanOrEqual(moved.length / 2);

  // The victim exited cleanly, so every probe it started was published.
  await awaitHitsMatchResults(s.target, s.events, s.ids, undefined, () => s.cluster.droppedResults());
});
