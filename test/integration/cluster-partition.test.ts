// One node cut off from NATS (through a TCP proxy the test controls) while the other two carry
// on, in a scenario of its own (nats-server, target, nodes): the cluster reassigns its checks, so
// none goes unprobed; the cut-off node keeps probing on its last assignment (AP) and, when it
// comes back, follows the current map and releases what it no longer owns; the nodes that took
// its checks over count, from its release, the probes that ran twice. Decided from published results and the target's per-check probe counts.
import { awaitHitsMatchResults, hitCounts, ownerOf } from '../helpers/cluster';
import { waitFor } from '../helpers/poll';
import { scenarioTest } from '../helpers/scenario';
import { startTcpProxy } from '../../testkit/tcp-proxy';

const I = 1000;

scenarioTest('a node cut off from NATS: its checks move to the others; on return it follows the current map and counts its duplicate runs', { nodes: ['p1', 'p2'], intervalMs: I }, async (s) => {
  const proxy = await startTcpProxy(s.server.port);
  s.onCleanup(() => proxy.close());
  s.cluster.start('p3', { NATS_URL: proxy.url }); // joins last: p1 or p2 leads
  await s.cluster.settled(['p1', 'p2', 'p3']);
  s.ids = await s.addChecks('part', 90);
  const p3Checks = s.ids.filter((id) => ownerOf(s.events, id) === 'p3');
  expect(p3Checks.length).toBeGreaterThan(5);
  const epochBefore = (await s.cluster.status()).epoch;
  const visible = () => new Map(p3Checks.map((id) => [id, s.events.results(id).length]));
  const unpublishedAt = (hits: Map<string, number>, results: Map<string, number>) => new Map(p3Checks.map((id) => [id, hits.get(id)! - results.get(id)!]));
  const cutAt = Date.now();
  proxy.cut();

  // Nobody leaves p3's checks unprobed: p1/p2 publish results for them.
  await s.awaitResults('p3’s checks published by the others', p3Checks, (r) => r.node !== 'p3' && r.slot > cutAt);
  // p3 keeps probing on its last assignment (AP), now after the others took over: the target
  // counts probes nobody has published. Two more than when the others took over (one of the
  // two could be another node's probe in flight) means p3 ran a probe of a shard it had lost.
  const atTakeover = unpublishedAt(hitCounts(s.target, p3Checks), visible());
  await waitFor('p3 still probing while cut off', () => {
    const now = unpublishedAt(hitCounts(s.target, p3Checks), visible());
    const idle = p3Checks.filter((id) => now.get(id)! - atTakeover.get(id)! < 2);
    if (idle.length) throw new Error(`${idle.length} of p3's checks without 2 more unpublished probes, e.g. ${idle[0]}: ${now.get(idle[0]!)! - atTakeover.get(idle[0]!)!}`);
    return true;
  });

  const healAt = Date.now();
  proxy.heal();
  await waitFor('p3 reconnected', () => s.cluster.logs('p3').filter((l) => Date.parse(l.time) >= healAt).map((l) => l.event), { until: (events) => events.includes('nats_reconnected'), timeoutMs: 60_000 });
  // A new map with p3 in it (p3 itself may still answer with the map it had when it was cut off).
  const st = await s.cluster.settled(['p1', 'p2', 'p3'], { epochAbove: epochBefore });
  expect(st.epoch).toBeGreaterThan(epochBefore);
  // Whoever answered may not be p3: wait until p3 itself follows a map read after the heal.
  await waitFor('p3 follows a map after the heal', () => s.cluster.logs('p3').filter((l) => Date.parse(l.time) >= healAt).map((l) => `${l.event}${l.epoch === undefined ? '' : ` e${l.epoch}`}`), {
    until: (events) => events.some((e) => e.startsWith('assignment_followed')),
  });
  // p3 releases the slots the current map took from it; the node that took one over while p3 was
  // cut off counts, from the release, the results p3 published past the seq it resumed from (no
  // clock compared): the probes that ran twice.
  const lateRelease = () => ['p1', 'p2'].flatMap((n) => s.cluster.logs(n).filter((l) => l.event === 'handover_late_release' && l.from === 'p3'));
  const dup = await waitFor('p1/p2 to count the probes p3 ran twice', lateRelease, { until: (d) => d.length > 0 });
  expect(dup.reduce((n, l) => n + l.duplicates, 0)).toBeGreaterThan(0);

  // Back to one probe per check per interval, seq by one.
  await s.expectCleanFromNow(s.ids, 3);
  // The checks p3 never owned: every probe published.
  await awaitHitsMatchResults(s.target, s.events, s.ids.filter((id) => !p3Checks.includes(id)), undefined, () => s.cluster.droppedResults());
});
