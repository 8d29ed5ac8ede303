// One node cut off from NATS (through a TCP proxy the test controls) while the other two carry
// on: the cluster reassigns its checks, so none goes unprobed; the cut-off node keeps probing on
// its last assignment (AP) and, when it comes back, follows the current map, stops what it no
// longer owns and reports the probes that ran twice.
import { LookoutCluster, hitTimes, ownerOf, putChecks, slotReport } from '../helpers/cluster';
import { startNatsServer, type NatsServer } from '../helpers/nats-server';
import { waitFor } from '../helpers/poll';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { startHttpTarget, type HttpTarget } from '../helpers/targets';

jest.setTimeout(90_000);

const I = 1000;
let server: NatsServer;
let proxy: TcpProxy;
let target: HttpTarget;
let cluster: LookoutCluster;
let ids: string[];

beforeAll(async () => {
  server = await startNatsServer();
  proxy = await startTcpProxy(server.port);
  target = await startHttpTarget();
  cluster = new LookoutCluster([server]);
  await cluster.connect();
  cluster.start('p1');
  cluster.start('p2');
  await cluster.settled(['p1', 'p2']);
  cluster.start('p3', { NATS_URL: proxy.url }); // joins last: p1 or p2 leads
  await cluster.settled(['p1', 'p2', 'p3']);
  ids = await putChecks(cluster.nc, target, 'part', 90, I);
  await waitFor('every check probed', () => ids.every((id) => cluster.events.results(id).length > 0), { timeoutMs: 15_000 });
});

afterAll(async () => {
  if (cluster) console.log(`node logs: ${cluster.dumpLogs()}`);
  await cluster?.stopAll();
  await proxy?.close();
  await target?.close();
  await server?.cleanup();
});

test('a node cut off from NATS: its checks move to the others; on return it follows the current map and counts its duplicate runs', async () => {
  await waitFor('p3 owns checks', () => ids.some((id) => ownerOf(cluster.events, id) === 'p3'));
  const p3Checks = ids.filter((id) => ownerOf(cluster.events, id) === 'p3');
  const epochBefore = (await cluster.status()).epoch;
  const cutAt = Date.now();
  proxy.cut();

  // Nobody leaves p3's checks unprobed: p1/p2 publish results for them within interval + 5 s.
  await waitFor(
    'p3’s checks published by the others',
    () => p3Checks.every((id) => cluster.events.results(id).some((r) => r.node !== 'p3' && Date.parse(r.at) > cutAt)),
    { timeoutMs: I + 5000 + 2000 },
  );
  // p3 kept probing on its last assignment (AP): the target still sees its probes.
  const hitsDuringCut = hitTimes(target, p3Checks);
  await waitFor('p3 still probing while cut off', () => p3Checks.every((id) => hitsDuringCut.get(id)!.filter((t) => t > cutAt).length >= 2));

  const healAt = Date.now();
  proxy.heal();
  await waitFor('p3 reconnected', () => cluster.logs('p3').some((l) => l.msg === 'NATS reconnected' && Date.parse(l.time) >= healAt), { timeoutMs: 15_000 });
  const st = await cluster.settled(['p1', 'p2', 'p3']);
  expect(st.epoch).toBeGreaterThan(epochBefore);
  const followed = cluster.logs('p3').filter((l) => l.msg === 'following assignment' && Date.parse(l.time) >= healAt);
  expect(followed.length).toBeGreaterThan(0);
  const dup = cluster.logs('p3').filter((l) => l.msg === 'ran probes for a shard already given to another node');
  expect(dup.reduce((n, l) => n + l.probes, 0)).toBeGreaterThan(0);

  // Back to one probe per check per interval.
  const from = Date.now() + I;
  await waitFor('three more intervals', () => Date.now() > from + 3 * I + 300, { timeoutMs: 10_000 });
  const r = slotReport(target, ids, I, from, from + 3 * I);
  expect(r.duplicates).toEqual([]);
  expect(r.gaps).toEqual([]);
});
