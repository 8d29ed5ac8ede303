// Quorum verdict for replicas > 1 (issue 13 §1), end to end: a real nats-server, 3 real node
// processes, checks with replicas 3 against a local HTTP target that answers by the probing node
// (each node's probes carry `User-Agent: lookout/<version> (node <id>)`). Decided from what the
// cluster published on `lookout.status.<id>` and `lookout.result.<id>`, polled with a deadline:
//   - a target down only for one node stays `up` (one `unknown → up`, no per-vantage `down`)
//   - a target down for every node goes `down` exactly once
//   - a vantage node killed (a primary when possible): its vantage becomes `unknown` and never
//     counts as down; the check down for one other node is then held `up` (said so:
//     `formed: false`), never flipped; and no check announces a second `unknown → …` when its
//     primary changes (the successor reads the stored combined verdict).
import { putChecks } from '../helpers/cluster';
import { perNodeTarget } from '../helpers/per-node-target';
import { waitFor } from '../helpers/poll';
import { scenarioTest, type Scenario } from '../helpers/scenario';
import type { HttpTarget } from '../helpers/targets';

const I = 1000;
const NODES = ['n1', 'n2', 'n3'];

const flips = (s: Scenario, id: string) => s.events.statuses(id).map((m) => `${m.from}>${m.to}`);

async function awaitStatus(s: Scenario, what: string, id: string, pred: (m: any) => boolean, timeoutMs = 60_000): Promise<any> {
  return waitFor(
    what,
    () => {
      const m = s.events.statuses(id).find(pred);
      if (!m) throw new Error(`statuses of ${id} so far: ${JSON.stringify(s.events.statuses(id).map((x) => ({ from: x.from, to: x.to, node: x.node, quorum: x.quorum })))}`);
      return m;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

/** Wait until `id` has `n` more results from each of `nodes` after result index `from`. */
async function awaitResultsFrom(s: Scenario, id: string, nodes: string[], from: number, n: number): Promise<void> {
  await waitFor(
    `${n} results of ${id} from ${nodes.join(', ')}`,
    () => {
      const rs = s.events.results(id).slice(from);
      const lacking = nodes.filter((node) => rs.filter((r) => r.node === node).length < n);
      if (lacking.length) throw new Error(`lacking: ${lacking.join(', ')}`);
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
}

scenarioTest('replicas 3: one status per combined change from the primary, a one-node failure stays up, a stopped vantage is unknown, never down', { nodes: NODES, intervalMs: I }, async (s) => {
  const target = await perNodeTarget();
  s.onCleanup(() => target.close());
  target.downFor.set('qone-0', new Set(['n3']));
  const [one] = await putChecks(s.cluster.nc, { url: target.url } as HttpTarget, 'qone', 1, I, { replicas: 3 });
  const [all] = await putChecks(s.cluster.nc, { url: target.url } as HttpTarget, 'qall', 1, I, { replicas: 3 });

  // Both come up (the one down for n3 included), announced once each by the primary, with every vantage.
  const upOne = await awaitStatus(s, `${one} up`, one!, (m) => m.to === 'up');
  await awaitStatus(s, `${all} up`, all!, (m) => m.to === 'up');
  expect(upOne).toMatchObject({ from: 'unknown', quorum: { type: 'majority', need: 2, replicas: 3, formed: true } });
  expect(upOne.vantage).toBeUndefined();
  await awaitResultsFrom(s, one!, NODES, 0, 4);
  expect([...target.seen].sort()).toEqual(NODES);
  // n3's vantage fails every probe, its results say so, and no status says down.
  expect(s.events.results(one!).filter((r) => r.node === 'n3').every((r) => !r.ok)).toBe(true);
  expect(flips(s, one!)).toEqual(['unknown>up']);

  // Down for every node: down once.
  target.downFor.set(all!, 'all');
  const down = await awaitStatus(s, `${all} down`, all!, (m) => m.to === 'down');
  expect(down).toMatchObject({ from: 'up', reason: 'status', quorum: { formed: true } });
  expect(down.quorum.down).toBeGreaterThanOrEqual(2);
  await awaitResultsFrom(s, all!, NODES, s.events.results(all!).length, 3);
  expect(flips(s, all!)).toEqual(['unknown>up', 'up>down']);

  // Kill a vantage that is not n3 — a primary of one of the checks when one is not n3, so its
  // successor continues the combined verdict from the stored record (no release: SIGKILL).
  const primaries = [all!, one!].map((id) => s.events.statuses(id).at(-1)!.node as string);
  const victim = primaries.find((n) => n !== 'n3') ?? NODES.find((n) => n !== 'n3')!;
  const survivors = NODES.filter((n) => n !== victim);
  await s.cluster.kill(victim);
  // The check down for n3 now has one up vantage, one down and one unknown: held up, and said so.
  const held = await awaitStatus(s, `${one} held after ${victim} died`, one!, (m) => m.quorum?.formed === false, 90_000);
  expect(held).toMatchObject({ from: 'up', to: 'up', quorum: { up: 1, down: 1, unknown: 1 } });
  expect(held.vantages.filter((v: any) => v.status === 'unknown')).toHaveLength(1);
  await s.cluster.settled(survivors);
  const after = s.events.results(one!).length;
  await awaitResultsFrom(s, one!, survivors, after, 3);
  await awaitResultsFrom(s, all!, survivors, s.events.results(all!).length, 3);

  // Never a combined down for the one-node failure; no second `unknown → …` for either check; `all` stays down.
  expect(s.events.statuses(one!).filter((m) => m.to === 'down')).toEqual([]);
  expect(s.events.statuses(one!).filter((m) => m.from === 'unknown')).toHaveLength(1);
  expect(flips(s, all!)).toEqual(['unknown>up', 'up>down']);
  // Whoever combines now, it is a survivor, and it publishes nothing the victim did not decide already.
  expect(survivors).toContain(s.events.statuses(one!).at(-1)!.node);
});
