// Crashes in a cluster of `lookout node` processes, each scenario on its own nats-server, target
// and nodes: SIGKILL a follower, SIGKILL the leader. From the published results: the killed
// node's checks are taken over by survivors that continue their seq, no slot is probed twice,
// the only hole in each is the one failover; every other check keeps every slot. How long the
// failover takes is a benchmark (bench/cluster-timing.ts, BENCHMARKS.md), not a test bound.
import { awaitHitsMatchResults, ownerOf } from '../helpers/cluster';
import { scenarioTest, type Scenario } from '../helpers/scenario';

const I = 1000;
const N = 120;
const NODES = ['n1', 'n2', 'n3'];

/** Kill `victim`, wait for the survivors to take over its checks; check the results across the kill. */
async function killAndCheck(s: Scenario, victim: string): Promise<{ failoverMs: number[] }> {
  const survivors = NODES.filter((n) => n !== victim);
  const moved = s.ids.filter((id) => ownerOf(s.events, id) === victim);
  const others = s.ids.filter((id) => !moved.includes(id));
  expect(moved.length).toBeGreaterThan(10);
  await s.cluster.kill(victim);
  await s.cluster.settled(survivors);
  await s.awaitResults('every check of the killed node published by a survivor', moved, (r) => r.node !== victim);
  const to = Date.now() + 2 * I;
  await s.awaitSlot(s.ids, to);

  // Each check's whole history, from its first result (seq 1) to `to`. The rest keep going:
  // every slot once, seq by one.
  const rest = s.slots(others, { to });
  expect(rest.duplicates).toEqual([]);
  expect(rest.gaps).toEqual([]);
  expect(rest.seqBreaks).toEqual([]);
  // The killed node's checks: one failover each (victim's last slot → a survivor's first, maybe
  // a catch-up probe off the grid), the survivor continues the seq, no slot twice, no other hole.
  const taken = s.slots(moved, { to }, { failoverFrom: victim });
  expect(taken.duplicates).toEqual([]);
  expect(taken.gaps).toEqual([]);
  expect(taken.seqBreaks).toEqual([]);
  const perCheck = new Map<string, number>();
  for (const f of taken.failovers) perCheck.set(f.check, (perCheck.get(f.check) ?? 0) + 1);
  expect([...perCheck.values()].filter((n) => n !== 1)).toEqual([]);
  expect(perCheck.size).toBe(moved.length);
  expect(taken.failovers.filter((f) => !survivors.includes(f.to))).toEqual([]);
  expect(moved.filter((id) => !survivors.includes(ownerOf(s.events, id)!))).toEqual([]);

  // Probe counts: a probe the victim had in flight when killed hit the target without a result.
  const movedSet = new Set(moved);
  await awaitHitsMatchResults(s.target, s.events, s.ids, (id) => (movedSet.has(id) ? 1 : 0), () => s.cluster.droppedResults());
  return { failoverMs: taken.failovers.map((f) => f.ms) };
}

scenarioTest('SIGKILL a non-leader: survivors take over its checks and continue their seq; the rest keep every slot', { nodes: NODES, checks: N, intervalMs: I }, async (s) => {
  const st = await s.cluster.status();
  const victim = NODES.find((n) => n !== st.leader.node)!;
  const { failoverMs } = await killAndCheck(s, victim);
  console.log(`SIGKILL follower: ${failoverMs.length} failovers, slot steps up to ${Math.max(...failoverMs)} ms (figure only; see bench:cluster-timing)`);
});

scenarioTest('SIGKILL the leader: a new leader with a higher term, the assignment continues under it, and its checks are taken over', { nodes: NODES, checks: N, intervalMs: I }, async (s) => {
  const st = await s.cluster.status();
  const leader = st.leader.node as string;
  const oldTerm = st.leader.term as number;
  const seen = s.cluster.leaderEvents().length;
  const { failoverMs } = await killAndCheck(s, leader);
  const elected = s.cluster.leaderEvents().slice(seen).find((e) => e.event === 'elected' && e.term > oldTerm);
  expect(elected).toMatchObject({ event: 'elected', node: expect.stringMatching(/^n[123]$/) });
  expect(elected.node).not.toBe(leader);
  const after = await s.cluster.settled(NODES.filter((n) => n !== leader));
  expect(after.leader).toMatchObject({ node: elected.node, term: elected.term });
  expect(after.assignment.term).toBe(elected.term);
  // The new term's maps are the ones followed: every survivor logs following a map of that term.
  for (const id of s.cluster.nodes.keys()) expect(s.cluster.logs(id).some((l) => l.event === 'assignment_followed' && l.term === elected.term)).toBe(true);
  console.log(`SIGKILL leader: term ${oldTerm} → ${elected.term} (${elected.node}); ${failoverMs.length} failovers, slot steps up to ${Math.max(...failoverMs)} ms (figure only; see bench:cluster-timing)`);
});
