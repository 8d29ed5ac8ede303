// Fleet-wide verdict counts (protocol/verdict-counts.ts) on a spawned nats-server with two
// in-process nodes and a real HTTP target answering 200 or 503: each node counts the checks whose
// status it decides (rank 0; a replicas-2 check by its combined verdict), carries the counts in its
// heartbeat, and lookout.cluster.status sums them — every check counted once, whichever node holds
// it; a target that starts failing moves its check from up to down in the sum. Also what each node
// exposes as lookout_checks_by_verdict on /metrics (their sum is the fleet's) and `lookout cluster`'s
// line. Needs `npx tsc -p tsconfig.json` first (the CLI runs from dist/).
import type { NatsConnection } from '@nats-io/transport-node';
import type { NodeHandle } from '../../app/start-node';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { client, request, startTestNode } from '../helpers/lookout';
import { waitFor } from '../helpers/poll';
import { runLookout } from '../helpers/processes';
import { startHttpTarget, type HttpTarget } from '../helpers/targets';

let server: NatsServer;
const nodes: NodeHandle[] = [];
let nc: NatsConnection;
let target: HttpTarget;

const spec = (path: string, replicas = 1) => ({ kind: 'http', target: `${target.url}${path}`, intervalMs: 1000, timeoutMs: 500, replicas, policy: { type: 'consecutive', rise: 1, fall: 1 } });
const CHECKS: [string, string, number][] = [
  ['fc-up-1', '/ok', 1],
  ['fc-up-2', '/ok', 1],
  ['fc-up-3', '/ok', 1],
  ['fc-up-q', '/ok', 2],
  ['fc-flip', '/flip', 1],
  ['fc-down-1', '/fail', 1],
  ['fc-down-q', '/fail', 2],
];

const zero = { down: 0, degraded: 0, flapping: 0, up: 0, unknown: 0 };
const status = () => request(nc, 'lookout.cluster.status', {}) as Promise<any>;

beforeAll(async () => {
  server = await startNatsServer();
  target = await startHttpTarget({ routes: { '/ok': { status: 200 }, '/flip': { status: 200 }, '/fail': { status: 503, body: 'maintenance' } } });
  // Two vantage points: a replicas-2 check runs on both nodes and is counted once, by the primary.
  for (let i = 0; i < 2; i++) nodes.push(await startTestNode(server, { LOOKOUT_VANTAGE_POINTS: '2' }));
  nc = await client(server);
  await waitFor('both members alive', status, { timeoutMs: 30_000, until: (s) => s.members?.filter((m: any) => m.state === 'alive').length === 2 });
  for (const [id, path, replicas] of CHECKS) expect(await request(nc, `lookout.spec.put.${id}`, spec(path, replicas))).toMatchObject({ ok: true });
}, 60_000);

afterAll(async () => {
  await nc?.close();
  await Promise.all(nodes.map((n) => n.stop()));
  await server?.cleanup();
  await target?.close();
});

test('cluster.status sums the members\' counts: every check once, up and down as the target answers', async () => {
  const s = await waitFor('the fleet counts 5 up, 2 down', status, { timeoutMs: 30_000, until: (x) => JSON.stringify(x.verdicts?.counts) === JSON.stringify({ ...zero, down: 2, up: 5 }) });
  expect(s.verdicts).toMatchObject({ total: CHECKS.length, unreported: [] });
  expect([...s.verdicts.reported].sort()).toEqual(s.members.map((m: any) => m.node).sort());
  // Each member says its own share; the shares add up to the fleet's.
  const shares = s.members.map((m: any) => m.verdicts);
  expect(shares.every((v: any) => v && typeof v.up === 'number')).toBe(true);
  expect(shares.reduce((a: number, v: any) => a + v.up + v.down + v.degraded + v.flapping + v.unknown, 0)).toBe(CHECKS.length);

  // The target starts failing for one check: the fleet says so within a few heartbeats.
  target.set('/flip', { status: 503, body: 'broken now' });
  await waitFor('the fleet counts 4 up, 3 down', status, { timeoutMs: 30_000, until: (x) => JSON.stringify(x.verdicts?.counts) === JSON.stringify({ ...zero, down: 3, up: 4 }) });
});

test('lookout_checks_by_verdict on each node\'s /metrics: their sum is the fleet\'s', async () => {
  const scrape = async () => {
    const sum: Record<string, number> = { ...zero };
    for (const n of nodes) {
      const text = await (await fetch(`http://127.0.0.1:${n.httpPort}/metrics`)).text();
      for (const m of text.matchAll(/^lookout_checks_by_verdict\{verdict="([a-z]+)"\} (\d+)$/gm)) sum[m[1]!] = (sum[m[1]!] ?? 0) + Number(m[2]);
    }
    return sum;
  };
  await waitFor('the nodes\' gauges add up to 4 up, 3 down', scrape, { timeoutMs: 10_000, until: (sum) => JSON.stringify(sum) === JSON.stringify({ ...zero, down: 3, up: 4 }) });
});

test('lookout cluster prints the fleet\'s counts', async () => {
  const p = runLookout(['cluster'], { NATS_URL: server.url });
  expect(await p.exited).toBe(0);
  expect(p.output()).toContain('checks       3 down · 0 degraded · 0 flapping · 4 up · 0 unknown (7 checks)\n');
});
