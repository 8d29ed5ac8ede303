// Lookout on a 3-server NATS cluster with its buckets and result stream replicated 3 ways: kill
// one NATS server; checks continue, no spec is lost, and there is a leader afterwards (the lease
// survived or was re-won).
import { LookoutCluster, hitTimes, putChecks } from '../helpers/cluster';
import { client, request } from '../helpers/lookout';
import { startNatsCluster, type NatsServer } from '../helpers/nats-server';
import { waitFor } from '../helpers/poll';
import { startHttpTarget, type HttpTarget } from '../helpers/targets';

jest.setTimeout(120_000);

const I = 1000;
let servers: NatsServer[];
let target: HttpTarget;
let cluster: LookoutCluster;
let ids: string[];

beforeAll(async () => {
  servers = await startNatsCluster(3);
  target = await startHttpTarget();
  // JetStream needs a moment to form its meta group before buckets can be created.
  await waitFor('JetStream cluster ready', async () => {
    const nc = await client(servers[0]!);
    try {
      const { jetstreamManager } = await import('@nats-io/jetstream');
      const jsm = await jetstreamManager(nc);
      await jsm.getAccountInfo();
      return true;
    } finally {
      await nc.close();
    }
  }, { timeoutMs: 30_000, intervalMs: 250 });
  cluster = new LookoutCluster(servers, { LOOKOUT_KV_REPLICAS: '3', LOOKOUT_TIMING: 'test', LOOKOUT_LEASE_MS: '4000', LOOKOUT_RENEW_MS: '1000' });
  await cluster.connect();
  for (const id of ['c1', 'c2', 'c3']) cluster.start(id);
  await cluster.settled(['c1', 'c2', 'c3'], 40_000);
  ids = await putChecks(cluster.nc, target, 'nc', 60, I);
  await waitFor('every check probed', () => ids.every((id) => cluster.events.results(id).length > 0), { timeoutMs: 20_000 });
});

afterAll(async () => {
  if (cluster) console.log(`node logs: ${cluster.dumpLogs()}`);
  await cluster?.stopAll();
  await target?.close();
  for (const s of servers ?? []) await s.cleanup();
});

test('kill one NATS server: checks continue, no spec is lost, a leader remains', async () => {
  // Kill a server our test client is not connected to, so the test's own view stays put.
  const victim = servers[2]!;
  const killAt = Date.now();
  await victim.kill();
  await waitFor('every check probed after the kill', () => {
    const hits = hitTimes(target, ids);
    return ids.every((id) => hits.get(id)!.some((t) => t > killAt + 2 * I));
  }, { timeoutMs: 30_000 });
  const list = await waitFor('spec list', async () => {
    const r = await request(cluster.nc, 'lookout.spec.list', { limit: 10_000 }, 3000);
    return r.ok && r;
  }, { timeoutMs: 30_000 });
  expect(list.total).toBe(ids.length);
  for (const id of ids.slice(0, 5)) {
    const got = await request(cluster.nc, `lookout.spec.get.${id}`, '', 5000);
    expect(got).toMatchObject({ ok: true, id });
  }
  const st = await waitFor('a leader', async () => {
    const s = await cluster.status();
    return s.leader && cluster.nodes.has(s.leader.node) && s;
  }, { timeoutMs: 30_000 });
  expect(['c1', 'c2', 'c3']).toContain(st.leader.node);
  const elections = cluster.leaderEvents().filter((e) => e.event === 'elected' && Date.parse(e.at) > killAt);
  console.log(`NATS server killed: lease ${elections.length ? `re-won by ${elections.map((e) => e.node).join(', ')}` : 'survived'}`);
});
