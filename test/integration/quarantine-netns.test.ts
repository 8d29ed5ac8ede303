// Self-quarantine against a real broken network (issue 13 §3): node n3 runs inside its own network
// namespace (testkit/netns.ts) and reaches NATS through a veth pair; the targets listen on a host
// address that n1 and n2 reach and n3 reaches only while its route is there. Nothing is simulated:
// with the route deleted, n3's connects fail in its kernel (ENETUNREACH).
//
// The checks have replicas 3 — every node is a vantage of every check — and no confirmation from
// elsewhere (off by default for replicas > 1) and no canaries: the only evidence n3 has that its
// network is at fault is what the other vantages last saw (protocol/vantage-evidence.ts, read from
// their resume records). Decided from what the cluster published: n3's results say `unreachable`,
// n3 announces its quarantine, the leader's map holds it out, no combined verdict ever goes down,
// and once the route is back n3 rejoins.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNetNs, type NetNs } from '../../testkit/netns';
import { startTcpProxy } from '../../testkit/tcp-proxy';
import { putChecks } from '../helpers/cluster';
import { GiveUp, waitFor } from '../helpers/poll';
import { scenarioTest, type Scenario } from '../helpers/scenario';
import type { HttpTarget } from '../helpers/targets';

const I = 1000;
const env = { LOOKOUT_QUARANTINE_WINDOW: '20', LOOKOUT_QUARANTINE_HOLD_MS: '3000', LOOKOUT_CANARY_INTERVAL_MS: '500' };
let ns: NetNs;
let target: http.Server;
let targetUrl: string;

beforeAll(async () => {
  ns = createNetNs(`q${process.pid % 10_000}`);
  ns.heal();
  target = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => target.listen(0, ns.targetAddress, resolve));
  targetUrl = `http://${ns.targetAddress}:${(target.address() as AddressInfo).port}`;
});
afterAll(async () => {
  // Keep-alive connections from the nodes would hold close() open (the hook's timeout on a failed run).
  target?.closeAllConnections();
  if (target) await new Promise((resolve) => target.close(resolve));
  ns?.close();
});

const downs = (s: Scenario, ids: readonly string[]) => ids.flatMap((id) => s.events.statuses(id).filter((m) => m.to === 'down'));
const noDown = (s: Scenario, ids: readonly string[]) => {
  const d = downs(s, ids);
  if (d.length) throw new GiveUp(`a combined verdict went down: ${JSON.stringify(d[0])}`);
};
const quarantined = (s: Scenario, node: string, value: boolean) => s.events.of('lookout.cluster.member.quarantined').find((e) => e.node === node && e.quarantined === value);

scenarioTest('a node whose own network cannot reach the targets (a network namespace, its route deleted) quarantines itself on its vantages\' evidence alone; no verdict goes down; it rejoins once routed', { nodes: ['n1', 'n2'], intervalMs: I, env }, async (s) => {
  const proxy = await startTcpProxy(s.server.port, '127.0.0.1', ns.hostAddress);
  s.onCleanup(() => proxy.close());
  s.cluster.start('n3', { NATS_URL: proxy.url }, { netns: ns.exec });
  await s.cluster.settled(['n1', 'n2', 'n3']);

  const ids = await putChecks(s.cluster.nc, { url: targetUrl } as HttpTarget, 'v', 6, I, { replicas: 3, policy: { type: 'consecutive', rise: 1, fall: 2 } });
  for (const id of ids) {
    await waitFor(`${id}: up, and a passing result from n3`, () => s.events.statuses(id).some((m) => m.to === 'up') && s.events.results(id).some((r) => r.node === 'n3' && r.ok), { timeoutMs: 60_000, intervalMs: 100 });
  }
  const from = new Map(ids.map((id) => [id, s.events.results(id).length]));

  ns.break();
  const entered = await waitFor('n3 quarantined', () => {
    noDown(s, ids);
    return quarantined(s, 'n3', true);
  }, { timeoutMs: 90_000, intervalMs: 100 });
  expect(entered).toMatchObject({ reason: 'disagreement', score: { disagreed: expect.any(Number) } });
  expect(entered.score.disagreed).toBeGreaterThanOrEqual(5);
  // Its failures were its kernel's: no route to the targets.
  const n3Failures = ids.flatMap((id) => s.events.results(id).slice(from.get(id)).filter((r) => r.node === 'n3' && !r.ok));
  expect(n3Failures.length).toBeGreaterThan(0);
  // No route: refused by the kernel at connect. A probe whose connection was already open when the
  // route went (or that a loaded machine started just before) times out instead.
  const reasons = new Set(n3Failures.map((r) => r.reason));
  expect(reasons.has('unreachable')).toBe(true);
  expect([...reasons].filter((r) => r !== 'unreachable' && r !== 'timeout')).toEqual([]);
  // Neither n1 nor n2 said so: the targets were fine.
  expect(quarantined(s, 'n1', true) ?? quarantined(s, 'n2', true)).toBeUndefined();

  await waitFor('cluster.status: n3 quarantined and without shards', async () => {
    noDown(s, ids);
    const st = await s.cluster.status();
    const m = st.members.find((x: any) => x.node === 'n3');
    if (!(m?.quarantined === true && st.assignment?.quarantined?.includes('n3') && m.shards.total === 0)) throw new Error(JSON.stringify({ member: m, assignment: st.assignment }));
    return st;
  }, { timeoutMs: 60_000, intervalMs: 100 });

  ns.heal();
  const left = await waitFor('n3 leaves quarantine', () => {
    noDown(s, ids);
    return quarantined(s, 'n3', false);
  }, { timeoutMs: 90_000, intervalMs: 100 });
  expect(left).toMatchObject({ reason: 'healthy' });
  await waitFor('cluster.status: n3 back in the map with shards', async () => {
    const st = await s.cluster.status();
    const m = st.members.find((x: any) => x.node === 'n3');
    if (!(m?.quarantined === false && !(st.assignment?.quarantined ?? []).includes('n3') && m.shards.total > 0)) throw new Error(JSON.stringify({ member: m, assignment: st.assignment }));
    return st;
  }, { timeoutMs: 60_000, intervalMs: 100 });
  expect(downs(s, ids)).toEqual([]);
});
