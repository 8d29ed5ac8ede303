// Self-quarantine (issue 13 §3), end to end: a real nats-server, 3 real node processes,
// single-vantage checks (replicas 1, confirm on by default) and a canary against a local HTTP
// target that answers by the probing node (its User-Agent). Decided from what the cluster
// published (results, statuses, `lookout.cluster.member.quarantined`) and from cluster.status:
//   - the targets (and the canary) fail for one node only — its network is broken: its failures
//     are confirmed healthy elsewhere, it quarantines itself (the event, the heartbeat flag in
//     cluster.status, the map holds it out), its checks move to the other nodes, and no check is
//     ever announced down; once the targets heal for it, it rejoins after the hold;
//   - the targets fail for two nodes of three: both quarantine themselves, but the leader holds at
//     most one out of the map (never a majority) and reports the other `quarantineRefused`; it keeps
//     its shards.
import { pickPeer } from '../../protocol/confirm';
import { canaryId } from '../../runtime/canaries';
import { putChecks } from '../helpers/cluster';
import { perNodeTarget, type PerNodeTarget } from '../helpers/per-node-target';
import { GiveUp, waitFor } from '../helpers/poll';
import { scenarioTest, type Scenario } from '../helpers/scenario';
import type { HttpTarget } from '../helpers/targets';

const I = 1000;
const NODES = ['n1', 'n2', 'n3'];
const CHECKS = 6;

// Every node's settings; the canary's URL is known once the target listens (the scenario reads
// `env` when it starts the nodes).
const env: Record<string, string> = {
  LOOKOUT_CANARY_INTERVAL_MS: '500',
  LOOKOUT_QUARANTINE_WINDOW: '20',
  LOOKOUT_QUARANTINE_HOLD_MS: '3000',
};
// The second fixture: a threshold low enough that both broken nodes ask (see there).
const lowThreshold: Record<string, string> = { ...env, LOOKOUT_QUARANTINE_PERCENT: '30' };
let target: PerNodeTarget;
beforeAll(async () => {
  target = await perNodeTarget();
  env.LOOKOUT_CANARIES = `${target.url}/c/canary`;
  // Canaries ~canary.0 and ~canary.2 are confirmed by n3 from both n1 and n2 (the peer is picked by
  // the hash of the canary id among the sorted others: odd → n3); ~canary.1 by each other.
  lowThreshold.LOOKOUT_CANARIES = ['canary', 'canary1', 'canary2'].map((c) => `${target.url}/c/${c}`).join(',');
});
afterAll(() => target.close());

const downs = (s: Scenario, ids: readonly string[]) => ids.flatMap((id) => s.events.statuses(id).filter((m) => m.to === 'down'));
const noDown = (s: Scenario, ids: readonly string[]) => {
  const d = downs(s, ids);
  if (d.length) throw new GiveUp(`a check went down: ${JSON.stringify(d[0])}`);
};
const quarantineEvents = (s: Scenario) => s.events.of('lookout.cluster.member.quarantined');

/** Put the checks (fail after 2 failures, back after 1 pass) and wait until each is up; returns the ids. */
async function upChecks(s: Scenario, prefix: string): Promise<string[]> {
  target.downFor.clear();
  const ids = await putChecks(s.cluster.nc, { url: target.url } as HttpTarget, prefix, CHECKS, I, { policy: { type: 'consecutive', rise: 1, fall: 2 } });
  for (const id of ids) await waitFor(`${id} up`, () => s.events.statuses(id).find((m) => m.to === 'up'), { timeoutMs: 60_000, intervalMs: 100 });
  return ids;
}

/** The targets and the canary fail for `nodes` only. */
function breakFor(ids: readonly string[], nodes: string[]): void {
  for (const id of [...ids, 'canary', 'canary1', 'canary2']) target.downFor.set(id, new Set(nodes));
}

scenarioTest('a node whose probes disagree with the others quarantines itself, its checks move with no down, and it rejoins once healthy', { nodes: NODES, intervalMs: I, env }, async (s) => {
  const ids = await upChecks(s, 'q');
  // The node owning the most checks (at least 2 of 6 on 3 nodes) loses its network to the targets.
  const owners = new Map(ids.map((id) => [id, s.events.results(id).at(-1)!.node as string]));
  const victim = NODES.map((n) => [n, ids.filter((id) => owners.get(id) === n).length] as const).sort((a, b) => b[1] - a[1])[0]![0];
  const itsChecks = ids.filter((id) => owners.get(id) === victim);
  breakFor(ids, [victim]);

  const entered = await waitFor(`${victim} quarantined`, () => {
    noDown(s, ids);
    return quarantineEvents(s).find((e) => e.node === victim && e.quarantined === true);
  }, { timeoutMs: 60_000, intervalMs: 100 });
  expect(entered).toMatchObject({ node: victim, reason: 'disagreement', score: { disagreed: expect.any(Number) } });
  expect(entered.score.rate).toBeGreaterThanOrEqual(0.8);

  // Its heartbeat says so, and the leader's map holds it out: no shards.
  await waitFor(`cluster.status: ${victim} quarantined and without shards`, async () => {
    noDown(s, ids);
    const st = await s.cluster.status();
    const m = st.members.find((x: any) => x.node === victim);
    if (!(m?.quarantined === true && m.quarantineRefused === false && st.assignment?.quarantined?.includes(victim) && m.shards.total === 0)) throw new Error(JSON.stringify({ member: m, assignment: st.assignment }));
    return st;
  }, { timeoutMs: 60_000, intervalMs: 100 });

  // Its former checks are probed by the others, and stay up.
  const fromIdx = new Map(itsChecks.map((id) => [id, s.events.results(id).length]));
  for (const id of itsChecks) {
    await waitFor(`${id}: 3 results from another node`, () => {
      noDown(s, ids);
      return s.events.results(id).slice(fromIdx.get(id)!).filter((r) => r.node !== victim);
    }, { timeoutMs: 60_000, intervalMs: 100, until: (rs) => rs.length >= 3 });
  }
  for (const id of itsChecks) expect(s.events.results(id).slice(fromIdx.get(id)!).filter((r) => r.node !== victim).every((r) => r.ok && r.status === 'up')).toBe(true);

  // The targets heal for it: it rejoins after the hold, and gets shards again.
  target.downFor.clear();
  const left = await waitFor(`${victim} leaves quarantine`, () => {
    noDown(s, ids);
    return quarantineEvents(s).find((e) => e.node === victim && e.quarantined === false);
  }, { timeoutMs: 60_000, intervalMs: 100 });
  expect(left).toMatchObject({ node: victim, reason: 'healthy' });
  expect(left.quarantinedMs).toBeGreaterThanOrEqual(3000);
  await waitFor(`cluster.status: ${victim} back in the map`, async () => {
    const st = await s.cluster.status();
    const m = st.members.find((x: any) => x.node === victim);
    if (!(m?.quarantined === false && st.assignment?.members.includes(victim) && !(st.assignment?.quarantined ?? []).includes(victim) && m.shards.total > 0)) throw new Error(JSON.stringify({ member: m, assignment: st.assignment }));
    return st;
  }, { timeoutMs: 60_000, intervalMs: 100 });
  expect(downs(s, ids)).toEqual([]);
});

// A threshold low enough that both broken nodes ask (half their confirmations go to each other and
// agree). n1 and n2 are the broken ones: two of the three canaries are confirmed by n3 for both, so
// each sees two canaries disagree from the start — whatever happens to its checks (one confirmed
// by the other broken node goes down, and a down check asks no more confirmations).
scenarioTest('when two nodes of three disagree, the leader holds at most one out; the other is refused and keeps its shards', { nodes: NODES, intervalMs: I, env: lowThreshold }, async (s) => {
  const ids = await upChecks(s, 'b');
  const broken = ['n1', 'n2'];
  // The premise above, checked rather than assumed.
  const alive = NODES.map((node) => ({ node, state: 'alive' as const }));
  for (const c of [canaryId(0), canaryId(2)]) for (const n of broken) expect(pickPeer(c, alive, n)).toBe('n3');
  breakFor(ids, broken);
  let most = 0;
  const st = await waitFor('one broken node held out, the other refused', async () => {
    const st = await s.cluster.status();
    const held: string[] = st.assignment?.quarantined ?? [];
    most = Math.max(most, held.length);
    if (held.length > 1) throw new GiveUp(`a majority held out: ${JSON.stringify(st.assignment)}`);
    const refused: string[] = st.assignment?.quarantineRefused ?? [];
    const saying = st.members.filter((m: any) => m.quarantined).map((m: any) => m.node).sort();
    if (!(held.length === 1 && refused.length === 1 && saying.join() === broken.join())) throw new Error(JSON.stringify({ saying, assignment: st.assignment }));
    return st;
  }, { timeoutMs: 90_000, intervalMs: 100 });
  const refused = st.assignment.quarantineRefused[0];
  expect(broken).toContain(st.assignment.quarantined[0]);
  expect(broken).toContain(refused);
  // The refused node keeps its shards; the admitted one has none.
  const member = (n: string) => st.members.find((m: any) => m.node === n);
  expect(member(refused).shards.total).toBeGreaterThan(0);
  expect(member(st.assignment.quarantined[0]).shards.total).toBe(0);
  expect(most).toBe(1);
  // Both announced it themselves.
  for (const n of broken) expect(quarantineEvents(s).some((e) => e.node === n && e.quarantined === true)).toBe(true);
});
