// Resume state per vantage (issue 11 §4, second bullet). All vantages of a check with replicas > 1
// publish on the one subject `lookout.result.<id>`, and the result stream keeps only
// LOOKOUT_RESULTS_PER_CHECK of them. A vantage silent while the others published more than that
// used to find nothing of its own when it was gained again: its seq restarted and it published a
// second `unknown → up`. Here: 3 real node processes, checks with replicas 3, 3 results kept per
// check. One node is SIGKILLed (its ranks move up by rank, rank 2 goes silent), the two others
// publish well past 3 results per check, the node comes back and takes rank 2 again. Judged from
// the published results and status messages only (seq, epoch, vantage, slot labels):
//   - per (check, vantage) no seq repeats, and ordered by (epoch, seq) it never goes back
//   - per (check, vantage) at most one status `from: "unknown"`
//   - each check did have a vantage silent while the others published more than 3 results.
import { waitFor } from '../helpers/poll';
import { scenarioTest, type Scenario } from '../helpers/scenario';

const I = 1000;
const NODES = ['n1', 'n2', 'n3'];
const KEPT = 3;
const CHECKS = 6;
const VANTAGES = 3;

/** Wait until each check has `n` results per vantage in `vantages` among those collected after index `from`. */
async function awaitPerVantage(s: Scenario, from: number, vantages: number[], n: number, what: string): Promise<void> {
  await waitFor(
    what,
    () => {
      const count = new Map<string, number>();
      for (const r of s.events.results().slice(from)) count.set(`${r.checkId}/${r.vantage}`, (count.get(`${r.checkId}/${r.vantage}`) ?? 0) + 1);
      const lacking = s.ids.flatMap((id) => vantages.filter((v) => (count.get(`${id}/${v}`) ?? 0) < n).map((v) => `${id}/v${v} (${count.get(`${id}/${v}`) ?? 0})`));
      if (lacking.length) throw new Error(`${lacking.length} (check, vantage) with fewer than ${n} results: ${lacking.slice(0, 6).join(', ')}`);
      return true;
    },
    { timeoutMs: 90_000, intervalMs: 100 },
  );
}

const key = (r: any) => `${r.checkId}/v${r.vantage ?? 0}`;

scenarioTest(
  `replicas ${VANTAGES}, ${KEPT} results kept per check: a vantage silent for more than ${KEPT} results of the others continues its seq and verdict`,
  { nodes: NODES, intervalMs: I, env: { LOOKOUT_RESULTS_PER_CHECK: String(KEPT) } },
  async (s) => {
    s.ids = await s.addChecks('v', CHECKS, { replicas: VANTAGES });
    await awaitPerVantage(s, 0, [0, 1, 2], 2, 'two results from each vantage of every check');

    // Kill a node that is not the leader: the survivors' maps have two ranks, rank 2 is silent.
    const st = await s.cluster.status();
    const victim = NODES.find((n) => n !== st.leader.node)!;
    const survivors = NODES.filter((n) => n !== victim);
    await s.cluster.kill(victim);
    await s.cluster.settled(survivors);
    const silentFrom = s.events.results().length;
    await awaitPerVantage(s, silentFrom, [0, 1], KEPT + 2, `${KEPT + 2} results from vantages 0 and 1 of every check while ${victim} is down`);
    const silent = s.events.results().slice(silentFrom).filter((r) => r.vantage === 2);
    expect(silent.map((r) => `${r.checkId} ${r.node} e${r.epoch}:s${r.seq}`)).toEqual([]);

    // The node comes back and takes rank 2 (and maybe more) again.
    s.cluster.start(victim);
    await s.cluster.settled(NODES);
    const back = s.events.results().length;
    await awaitPerVantage(s, back, [0, 1, 2], 3, 'three results from each vantage of every check after the restart');

    // Per (check, vantage): ordered by (epoch, seq), seq strictly increases (no repeat, no restart).
    const series = new Map<string, any[]>();
    for (const r of s.events.results()) {
      if (!s.ids.includes(r.checkId)) continue;
      if (!series.has(key(r))) series.set(key(r), []);
      series.get(key(r))!.push(r);
    }
    expect(series.size).toBe(CHECKS * VANTAGES);
    const breaks: string[] = [];
    for (const [k, rs] of series) {
      rs.sort((a, b) => a.epoch - b.epoch || a.seq - b.seq);
      for (let i = 1; i < rs.length; i++) {
        const [a, b] = [rs[i - 1], rs[i]];
        if (b.seq <= a.seq) breaks.push(`${k}: ${a.node} e${a.epoch}:s${a.seq} then ${b.node} e${b.epoch}:s${b.seq}`);
      }
    }
    // At most one `unknown → …` per (check, vantage): a resumed vantage keeps its published verdict.
    const fromUnknown = new Map<string, string[]>();
    for (const m of s.events.statuses()) {
      if (!s.ids.includes(m.checkId) || m.from !== 'unknown') continue;
      fromUnknown.set(key(m), [...(fromUnknown.get(key(m)) ?? []), `${m.node} e${m.epoch}:s${m.seq} → ${m.to}`]);
    }
    const seconds = [...fromUnknown].filter(([, l]) => l.length > 1).map(([k, l]) => `${k}: ${l.join(', ')}`);
    expect({ breaks: breaks.slice(0, 10), secondUnknown: seconds.slice(0, 10) }).toEqual({ breaks: [], secondUnknown: [] });

    // The case was exercised: every check has a vantage with two consecutive results (by seq)
    // between whose slots the other vantages published more than KEPT results.
    const exercised = s.ids.filter((id) =>
      [0, 1, 2].some((v) => {
        const rs = series.get(`${id}/v${v}`)!;
        const others = s.events.results(id).filter((r) => r.vantage !== v);
        return rs.some((a, i) => i > 0 && others.filter((o) => o.slot > rs[i - 1].slot && o.slot < a.slot).length > KEPT);
      }),
    );
    expect(exercised).toEqual(s.ids);
  },
);
