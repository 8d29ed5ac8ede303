// Confirm from elsewhere (issue 13 §2), end to end: a real nats-server, 2 real node processes,
// single-vantage checks (replicas 1: confirm is on by default) against a local HTTP target that
// answers by the probing node (its User-Agent). Decided from what the cluster published on
// `lookout.result.<id>` / `lookout.status.<id>` and from the target's own request counts:
//   - a target down only for the node that owns the check stays `up`: each failure that would turn
//     it down is confirmed by the other node, which sees it healthy; the failures are published
//     with `confirmation.outcome: "disagreed"` and no status says down;
//   - a real outage (down for every node) goes `down`, the status naming the other node's agreeing
//     probe, and costs at most one extra probe per check from the other node.
import { putChecks } from '../helpers/cluster';
import { perNodeTarget } from '../helpers/per-node-target';
import { waitFor } from '../helpers/poll';
import { scenarioTest, type Scenario } from '../helpers/scenario';
import type { HttpTarget } from '../helpers/targets';

const I = 1000;
const NODES = ['n1', 'n2'];
const other = (node: string) => NODES.find((n) => n !== node)!;

/** The node whose results a check has (vantage 0: its owner), once it has some. */
const ownerOf = (s: Scenario, id: string) => s.events.results(id).at(-1)?.node as string | undefined;

scenarioTest('replicas 1: a failure seen only from its owner is confirmed healthy elsewhere and never goes down; a real outage goes down with one extra probe', { nodes: NODES, intervalMs: I }, async (s) => {
  const target = await perNodeTarget();
  s.onCleanup(() => target.close());
  const ids = await putChecks(s.cluster.nc, { url: target.url } as HttpTarget, 'cf', 4, I, { policy: { type: 'consecutive', rise: 1, fall: 2 } });
  for (const id of ids) {
    await waitFor(`${id} up`, () => s.events.statuses(id).find((m) => m.to === 'up'), { timeoutMs: 60_000, intervalMs: 100 });
  }

  // Down for its owner only.
  const owners = new Map(ids.map((id) => [id, ownerOf(s, id)!]));
  for (const [id, owner] of owners) target.downFor.set(id, new Set([owner]));
  const downsBefore = (id: string) => s.events.statuses(id).filter((m) => m.to === 'down');
  for (const id of ids) {
    const disagreed = await waitFor(
      `${id}: 3 failures confirmed healthy by ${other(owners.get(id)!)}`,
      () => {
        if (downsBefore(id).length) throw new Error(`went down: ${JSON.stringify(downsBefore(id))}`);
        return s.events.results(id).filter((r) => r.confirmation?.outcome === 'disagreed');
      },
      { timeoutMs: 60_000, intervalMs: 100, until: (rs) => rs.length >= 3 },
    );
    for (const r of disagreed) {
      expect(r).toMatchObject({ ok: false, status: 'up', reason: 'status', node: owners.get(id), confirmation: { by: other(owners.get(id)!), outcome: 'disagreed' } });
    }
  }
  for (const id of ids) expect(s.events.statuses(id).map((m) => m.to)).toEqual(['up']);

  // A real outage: down for everyone.
  const confirmerHits = (id: string) => target.hits.get(`${id} ${other(owners.get(id)!)}`) ?? 0;
  const before = new Map(ids.map((id) => [id, confirmerHits(id)]));
  for (const id of ids) target.downFor.set(id, 'all');
  for (const id of ids) {
    const down = await waitFor(`${id} down`, () => s.events.statuses(id).find((m) => m.to === 'down'), { timeoutMs: 60_000, intervalMs: 100 });
    expect(down).toMatchObject({ from: 'up', reason: 'status', node: owners.get(id), confirmation: { by: other(owners.get(id)!), outcome: 'agreed', reason: 'status' } });
  }
  // Three more results of each after its down: the other node is not asked again while it is down.
  const counts = new Map(ids.map((id) => [id, s.events.results(id).length]));
  for (const id of ids) {
    await waitFor(`${id}: 3 results after down`, () => s.events.results(id).length - counts.get(id)!, { timeoutMs: 60_000, intervalMs: 100, until: (n) => n >= 3 });
  }
  for (const id of ids) {
    expect(confirmerHits(id) - before.get(id)!).toBeLessThanOrEqual(1);
    expect(s.events.statuses(id).map((m) => m.to)).toEqual(['up', 'down']);
  }
});
