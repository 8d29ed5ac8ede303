// Per-node HTTP endpoints: /metrics in Prometheus exposition format (validated by promtool, the
// Prometheus project's own linter), /healthz, /readyz.
import { spawnSync } from 'node:child_process';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NodeHandle } from '../../app/start-node';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { client, Collector, request, startTestNode } from '../helpers/lookout';
import { waitFor } from '../helpers/poll';
import { startHttpTarget, type HttpTarget } from '../helpers/targets';

let server: NatsServer;
let node: NodeHandle;
let nc: NatsConnection;
let target: HttpTarget;

beforeAll(async () => {
  server = await startNatsServer();
  node = await startTestNode(server);
  nc = await client(server);
  target = await startHttpTarget();
});

afterAll(async () => {
  await nc?.close();
  await node?.stop();
  await target?.close();
  await server?.cleanup();
});

const get = (path: string) => fetch(`http://127.0.0.1:${node.httpPort}${path}`);

test('/healthz answers while the process lives; /readyz once connected and assigned', async () => {
  expect((await get('/healthz')).status).toBe(200);
  const ready = await waitFor('ready', async () => {
    const r = await get('/readyz');
    return r.status === 200 && r.json();
  });
  expect(ready).toEqual({ ready: true, natsConnected: true, assigned: true });
  expect((await get('/nope')).status).toBe(404);
  // Per-check metrics are opt-in (LOOKOUT_CHECK_METRICS): off, their path says how to turn them on.
  const checks = await get('/metrics/checks');
  expect(checks.status).toBe(404);
  expect(await checks.text()).toContain('LOOKOUT_CHECK_METRICS=on');
});

test('/metrics has what an operator watches and passes promtool check metrics', async () => {
  const events = new Collector(nc, 'lookout.result.>');
  await request(nc, 'lookout.spec.put.m1', { kind: 'http', target: `${target.url}/ok`, intervalMs: 1000, timeoutMs: 500 });
  await request(nc, 'lookout.spec.put.m2', { kind: 'tcp', target: '127.0.0.1:1', intervalMs: 1000, timeoutMs: 500 });
  await waitFor('results for both', () => events.results('m1').length > 0 && events.results('m2').length > 0);
  events.stop();
  const res = await get('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await res.text();
  for (const name of [
    'lookout_probes_total{result="ok",reason="none",kind="http"}',
    'lookout_probes_total{result="fail",reason="refused",kind="tcp"}',
    'lookout_probe_duration_seconds_bucket',
    'lookout_schedule_lateness_seconds_bucket',
    'lookout_skipped_rounds_total',
    'lookout_checks_owned 2',
    'lookout_shards_owned 256',
    'lookout_leader 1',
    'lookout_leader_term',
    'lookout_members{state="alive"} 1',
    'lookout_nats_connected 1',
    'lookout_duplicate_runs_total 0',
    'lookout_assignment_epoch',
    'lookout_published_total{type="result"}',
    'lookout_spec_requests_total{op="put",outcome="ok"} 2',
    'lookout_spec_api_backlog 0',
    'lookout_spec_requests_shed_total{why="rate"} 0',
    'lookout_body_worker_overruns_total{assertion="json",why="budget"} 0',
    'lookout_clock_skew_seconds 0', // alone, a node is its own median
    'lookout_process_resident_memory_bytes',
  ]) {
    expect(text).toContain(name);
  }
  const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (promtool.error) throw new Error(`promtool is needed for this test (Debian package "prometheus"): ${promtool.error.message}`);
  expect(`${promtool.stdout}${promtool.stderr}`.trim()).toBe('');
  expect(promtool.status).toBe(0);
});
