// NATS outages under a cluster of `lookout node` processes, each scenario on its own servers,
// target and nodes: the single nats-server restarts (same store dir), and one of a 3-server NATS
// cluster (buckets and result stream replicated 3 ways) is killed. Specs survive, the nodes carry
// on, and the checks resume — seen in the results they publish afterwards.
import { request } from '../helpers/lookout';
import { waitFor } from '../helpers/poll';
import { scenarioTest } from '../helpers/scenario';

const I = 1000;
const N = 60;

scenarioTest('restart the nats-server (same store dir): nodes reconnect, every spec remains, checks resume with every slot once', { nodes: ['n1', 'n2', 'n3'], checks: N, intervalMs: I }, async (s) => {
  await s.server.restart();
  const restartedAt = Date.now();
  await waitFor('nodes reconnected', () => {
    const waiting = [...s.cluster.nodes.keys()].filter((id) => !s.cluster.logs(id).some((l) => l.event === 'nats_reconnected'));
    if (waiting.length) throw new Error(`not reconnected yet: ${waiting.join(', ')}`);
    return true;
  }, { timeoutMs: 60_000 });
  const list = await waitFor('the spec list after the restart', async () => {
    const r = await request(s.cluster.nc, 'lookout.spec.list', { limit: 10_000 }, 2000);
    if (!r.ok || r.total !== N) throw new Error(`spec list: ${JSON.stringify(r).slice(0, 200)}`);
    return r;
  }, { timeoutMs: 60_000 });
  expect(list.total).toBe(N);
  // Each node's loaded shards resume their spec tails after their last applied change (not reloaded).
  const restarts = await waitFor('spec watches restarted on every node', () => {
    const got = [...s.cluster.nodes.keys()].map((id) => ({ id, r: s.cluster.logs(id).find((l) => l.event === 'shard_specs_restarted') }));
    const waiting = got.filter((g) => !g.r).map((g) => g.id);
    if (waiting.length) throw new Error(`no shard_specs_restarted yet: ${waiting.join(', ')}`);
    return got.map((g) => g.r);
  }, { timeoutMs: 60_000 });
  for (const r of restarts) expect(r).toMatchObject({ resumed: expect.any(Number), reloaded: r.shards - r.resumed });
  expect(restarts.every((r) => r.resumed > 0)).toBe(true);
  await s.awaitResults('every check probed after the restart', s.ids, (r) => r.slot > restartedAt);
  // A spec put after the reconnect reaches its owner through a resumed tail.
  await s.addChecks('late', 6);
  const st = await s.cluster.settled(['n1', 'n2', 'n3']);
  expect(st.members.filter((m: any) => m.state === 'alive')).toHaveLength(3);
  // From here on, as before the restart: every slot once, seq by one.
  await s.expectCleanFromNow(s.ids, 3);
});

scenarioTest(
  'kill one NATS server of 3: checks continue, no spec is lost, a leader remains',
  { nodes: ['c1', 'c2', 'c3'], checks: N, intervalMs: I, natsServers: 3, env: { LOOKOUT_KV_REPLICAS: '3', LOOKOUT_LEASE_MS: '4000', LOOKOUT_RENEW_MS: '1000' } },
  async (s) => {
    // Kill a server the test's own client is not connected to, so its view stays put.
    const victim = s.servers[2]!;
    const killAt = Date.now();
    await victim.kill();
    await s.awaitResults('every check probed two intervals after the kill', s.ids, (r) => r.slot > killAt + 2 * I);
    const list = await waitFor('spec list', async () => {
      const r = await request(s.cluster.nc, 'lookout.spec.list', { limit: 10_000 }, 3000);
      if (!r.ok) throw new Error(JSON.stringify(r).slice(0, 200));
      return r;
    }, { timeoutMs: 60_000 });
    expect(list.total).toBe(N);
    for (const id of s.ids.slice(0, 5)) {
      const got = await request(s.cluster.nc, `lookout.spec.get.${id}`, '', 5000);
      expect(got).toMatchObject({ ok: true, id });
    }
    const st = await waitFor('a leader', async () => {
      const x = await s.cluster.status();
      if (!x.leader || !s.cluster.nodes.has(x.leader.node)) throw new Error(`leader: ${JSON.stringify(x.leader)}`);
      return x;
    }, { timeoutMs: 60_000 });
    expect(['c1', 'c2', 'c3']).toContain(st.leader.node);
    const elections = s.cluster.leaderEvents().filter((e) => e.event === 'elected' && Date.parse(e.at) > killAt);
    console.log(`NATS server killed: lease ${elections.length ? `re-won by ${elections.map((e) => e.node).join(', ')}` : 'survived'}`);
  },
);
