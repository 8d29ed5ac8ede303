// The docker-compose.yml topology as local processes: 3 clustered nats-servers, the `lookout`
// commands of the compose services (3 nodes, the demo target, the one-shot seed) with their
// compose environment, in compose's order (the seed runs once every node's /healthz answers).
// What differs from compose, and why:
//   NATS_URL            the local servers instead of nats-1..3:4222
//   LOOKOUT_HTTP_PORT   0 (three nodes on one host), read back from "http endpoints listening"
//   LOOKOUT_TIMING      test, ten times faster; with a 4 s lease like cluster-nats.test.ts, so
//                       JetStream re-elections on a fresh NATS cluster do not flap the leader
//   demo --port         0, read back from its "demo target listening" line
//   DEMO_URL            that local demo target
//   /app/...            the repo (the image's WORKDIR is the repo root copied)
import { appendFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { parse } from 'yaml';
import { loadConfig } from '../../runtime/config';
import { shardOf } from '../../protocol/hash';
import { Collector, client, request } from '../helpers/lookout';
import { startNatsCluster, type NatsServer } from '../../testkit/nats-server';
import { waitFor } from '../helpers/poll';
import { runLookout, type LookoutProcess } from '../helpers/processes';

jest.setTimeout(240_000);

const ROOT = join(__dirname, '..', '..');
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true });
const services: Record<string, any> = compose.services;
const WORKDIR = [...readFileSync(join(ROOT, 'Dockerfile'), 'utf8').matchAll(/^WORKDIR\s+(\S+)/gm)].at(-1)![1]!;

const argsOf = (name: string): string[] => (services[name].command ?? ['node']).map(String);
const envOf = (name: string): Record<string, string> => Object.fromEntries(Object.entries(services[name].environment ?? {}).map(([k, v]) => [k, String(v)]));
const byCommand = (...words: string[]) => Object.keys(services).filter((n) => services[n].command && words.every((w, i) => argsOf(n)[i] === w));
const nodeServices = byCommand('node');
const [demoService] = byCommand('demo-target');
const [seedService] = byCommand('spec', 'put');

/** An image path under WORKDIR, as a repo path. */
const repoPath = (imagePath: string) => join(ROOT, posix.relative(WORKDIR, posix.resolve(WORKDIR, imagePath)));

interface Example {
  id: string;
  /** labels.example: healthy, failing, timeout, ... */
  example: string;
  /** labels.expect: the verdict it settles on */
  expect: 'up' | 'down' | 'flapping';
}
// The seed command is `spec put [options] <dir>`: the directory is the last argument.
const seedDirIndex = argsOf(seedService!).length - 1;
const examplesDir = repoPath(argsOf(seedService!)[seedDirIndex]!);
const examples: Example[] = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => {
    const spec = JSON.parse(readFileSync(join(examplesDir, f), 'utf8'));
    return { id: spec.id, example: spec.labels.example, expect: spec.labels.expect };
  });

let servers: NatsServer[] = [];
let demo: LookoutProcess | undefined;
const nodes = new Map<string, { proc: LookoutProcess; port: number }>();
let seed: LookoutProcess | undefined;
let nc: NatsConnection | undefined;
let events: Collector | undefined;
let demoUrl = '';
let seedExit: number | string = 'not run';

function logLine(proc: LookoutProcess, event: string): any {
  return proc.logs().find((l) => l.event === event);
}

async function status(url: string): Promise<number> {
  const r = await fetch(url);
  await r.arrayBuffer();
  return r.status;
}

beforeAll(async () => {
  expect(nodeServices).toHaveLength(3);
  expect(demoService).toBeDefined();
  expect(seedService).toBeDefined();

  // nats-1..3: a JetStream cluster; compose waits for their /healthz, we for the meta group.
  servers = await startNatsCluster(3);
  const natsUrl = servers.map((s) => s.url).join(',');
  nc = await client(servers[0]!);
  await waitFor(
    'JetStream cluster ready',
    async () => {
      const { jetstreamManager } = await import('@nats-io/jetstream');
      await (await jetstreamManager(nc!)).getAccountInfo();
      return true;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  events = new Collector(nc, 'lookout.>');

  // demo: `demo-target --port 8080` → --port 0
  const demoArgs = argsOf(demoService!).map((a, i, all) => (all[i - 1] === '--port' ? '0' : a));
  demo = runLookout(demoArgs, envOf(demoService!));
  const listening = await waitFor('demo target listening', () => logLine(demo!, 'demo_target_listening'), { timeoutMs: 30_000 });
  demoUrl = `http://127.0.0.1:${listening.port}`;

  // lookout-1..3: `node` with the compose environment
  for (const name of nodeServices) {
    const env = { ...envOf(name), NATS_URL: natsUrl, LOOKOUT_HTTP_PORT: '0', LOOKOUT_TIMING: 'test', LOOKOUT_LEASE_MS: '4000', LOOKOUT_RENEW_MS: '1000' };
    nodes.set(name, { proc: runLookout(argsOf(name), env), port: 0 });
  }
  for (const [name, n] of nodes) {
    const line = await waitFor(`${name} http endpoints listening`, () => {
      if (n.proc.proc.exitCode !== null) throw new Error(`${name} exited: ${n.proc.output().slice(-2000)}`);
      return logLine(n.proc, 'http_listening');
    }, { timeoutMs: 30_000 });
    n.port = line.port;
  }
  // compose: the seed depends on every node being healthy (/healthz 200)
  for (const [name, n] of nodes) await waitFor(`${name} /healthz`, async () => (await status(`http://127.0.0.1:${n.port}/healthz`)) === 200, { timeoutMs: 30_000 });

  // seed: `spec put /app/examples/specs` once, as compose runs it (restart: "no")
  const seedArgs = argsOf(seedService!).map((a, i) => (i === seedDirIndex ? repoPath(a) : a));
  seed = runLookout(seedArgs, { ...envOf(seedService!), NATS_URL: natsUrl, DEMO_URL: demoUrl });
  seedExit = await seed.exited;
});

afterAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lookout-topology-logs-'));
  for (const [name, n] of nodes) appendFileSync(join(dir, `${name}.log`), n.proc.output());
  appendFileSync(join(dir, 'seed.log'), `exit ${seedExit}\n${seed?.output() ?? ''}`);
  appendFileSync(join(dir, 'demo.log'), demo?.output() ?? '');
  console.log(`topology logs: ${dir}`);
  for (const n of nodes.values()) n.proc.signal('SIGKILL');
  await Promise.all([...nodes.values()].map((n) => n.proc.exited));
  events?.stop();
  await nc?.close();
  demo?.signal('SIGKILL');
  for (const s of servers) await s.cleanup();
});

test('the demo target serves its documented endpoints', async () => {
  expect(await status(`${demoUrl}/healthy`)).toBe(200);
  expect(await status(`${demoUrl}/failing`)).toBe(503);
  expect(await status(`${demoUrl}/slow?ms=10`)).toBe(200);
  expect([200, 503]).toContain(await status(`${demoUrl}/flapping`));
  const json = await (await fetch(`${demoUrl}/json`)).json();
  expect(json).toMatchObject({ status: 'ok', checks: [{ healthy: true }, { healthy: true }] });
  const index = (await (await fetch(`${demoUrl}/`)).json()) as { endpoints: Record<string, string> };
  expect(Object.keys(index.endpoints)).toEqual(expect.arrayContaining(['/healthy', '/failing', '/slow', '/flapping', '/json']));
});

test('the seed exits 0 and puts every example, with ${DEMO_URL} filled in', async () => {
  expect({ exit: seedExit, output: seed!.output() }).toMatchObject({ exit: 0 });
  for (const ex of examples) expect(seed!.output()).toMatch(new RegExp(`put ${ex.id} revision \\d+`));
  for (const ex of examples) {
    const r = await request(nc!, `lookout.spec.get.${ex.id}`, '', 5000);
    expect(r.ok).toBe(true);
    expect(r.spec.target.startsWith(`${demoUrl}/`)).toBe(true);
  }
});

test('every example produces results; healthy ones are up, failing ones down', async () => {
  await waitFor(
    'every example has reached its expected verdict',
    () => {
      const wrong = examples.flatMap((ex) => {
        const results = events!.results(ex.id);
        const last = results.at(-1);
        if (!last) return [`${ex.id}: no result yet`];
        if (ex.expect !== 'flapping' && last.status !== ex.expect) return [`${ex.id}: ${last.status} (${last.reason ?? 'ok'}: ${last.message ?? ''}), want ${ex.expect}`];
        // A result is one probe's outcome; the verdict (lookout.status.*) follows once the policy
        // has seen enough of them (demo-failing: 3 of a window of 5), so it is waited for too.
        if (ex.expect !== 'flapping' && events!.statuses(ex.id).length === 0) return [`${ex.id}: no status transition yet`];
        return [];
      });
      if (wrong.length) throw new Error(wrong.join('; '));
      return true;
    },
    { timeoutMs: 90_000, intervalMs: 200 },
  );
  for (const ex of examples) {
    // the first verdict is published as a transition from unknown
    if (ex.expect !== 'flapping') expect(events!.statuses(ex.id)[0]).toMatchObject({ from: 'unknown', to: ex.expect });
  }
  const timeout = examples.find((e) => e.example === 'timeout')!;
  // (Its last result that speaks of the target: a deadline the node's own stall ate is `inconclusive`.)
  expect(events!.results(timeout.id).filter((r) => r.reason !== 'inconclusive').at(-1).reason).toBe('timeout');
  const failing = examples.find((e) => e.example === 'failing')!;
  expect(events!.results(failing.id).at(-1)).toMatchObject({ reason: 'status', httpStatus: 503 });
});

test('the checks are spread over the 3 nodes: a balanced shard map, each check probed by its shard\'s owner', async () => {
  const nodeIds = nodeServices.map((n) => envOf(n).LOOKOUT_NODE_ID!).sort();
  const st = await waitFor(
    'cluster.status with the 3 nodes',
    async () => {
      const s = await request(nc!, 'lookout.cluster.status', '', 2000);
      const alive = s.members.filter((m: any) => m.state === 'alive').map((m: any) => m.node).sort();
      if (alive.join() !== nodeIds.join() || [...(s.assignment?.members ?? [])].sort().join() !== nodeIds.join()) throw new Error(JSON.stringify(s));
      return s;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  // every node is primary for a third of the shards
  const shards = loadConfig(envOf(nodeServices[0]!)).shards;
  for (const m of st.members) expect(Math.abs(m.shards.primary - shards / 3)).toBeLessThanOrEqual(1);

  // Which node probes which example follows from the map. The map depends on the order the nodes
  // joined (a rebalance moves as few shards as it can): the first map over all 3 nodes puts the 7
  // examples on all 3; a map grown from 1 or 2 nodes puts them on at least 2 (every join order).
  const kv = await new Kvm(nc!).open('lookout_assignment');
  let epoch = 0;
  const owners = await waitFor(
    'every example probed by the primary owner of its shard',
    async () => {
      const map = (await kv.get('map'))!.json<{ epoch: number; shards: string[][] }>();
      epoch = map.epoch;
      const owner = new Map(examples.map((ex) => [ex.id, map.shards[shardOf(ex.id, shards)]![0]!]));
      const wrong = examples.filter((ex) => events!.results(ex.id).at(-1)?.node !== owner.get(ex.id));
      if (wrong.length) throw new Error(wrong.map((ex) => `${ex.id}: last result by ${events!.results(ex.id).at(-1)?.node}, owner ${owner.get(ex.id)}`).join('; '));
      return owner;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  for (const o of owners.values()) expect(nodeIds).toContain(o);
  const probers = new Set(owners.values());
  expect(probers.size).toBeGreaterThanOrEqual(epoch === 1 ? 3 : 2);
  console.log(`assignment epoch ${epoch}, examples per node: ${JSON.stringify(Object.fromEntries(nodeIds.map((n) => [n, examples.filter((ex) => owners.get(ex.id) === n).map((ex) => ex.id)])))}`);
});

test('each node answers /healthz 200 and /readyz 200', async () => {
  for (const [name, n] of nodes) {
    expect([name, await status(`http://127.0.0.1:${n.port}/healthz`)]).toEqual([name, 200]);
    await waitFor(`${name} /readyz`, async () => (await status(`http://127.0.0.1:${n.port}/readyz`)) === 200, { timeoutMs: 30_000 });
    const ready = await (await fetch(`http://127.0.0.1:${n.port}/readyz`)).json();
    expect(ready).toEqual({ ready: true, natsConnected: true, assigned: true });
  }
});

test('the demo target exits 0 on SIGTERM (docker stop)', async () => {
  // A demo target of its own, started as compose starts it: the shared one stays up for the other tests.
  const own = runLookout(argsOf(demoService!).map((a, i, all) => (all[i - 1] === '--port' ? '0' : a)), envOf(demoService!));
  try {
    const line = await waitFor('the second demo target listening', () => {
      if (own.proc.exitCode !== null) throw new Error(`exited: ${own.output().slice(-500)}`);
      return logLine(own, 'demo_target_listening');
    }, { timeoutMs: 30_000 });
    // Its "listening" line is written just before its signal handlers are installed (same tick):
    // once it has answered a request, that tick is over.
    expect(await status(`http://127.0.0.1:${line.port}/healthy`)).toBe(200);
    own.signal('SIGTERM');
    expect(await own.exited).toBe(0);
  } finally {
    own.signal('SIGKILL');
  }
});
