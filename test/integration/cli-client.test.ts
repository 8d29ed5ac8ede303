// The client commands of the built `lookout` CLI (spec put/get/ls/rm, watch, cluster) as child
// processes, against a spawned nats-server, an in-process node and a real HTTP target. Needs
// `npx tsc -p tsconfig.json` first (the CLI runs from dist/).
import { listOrderBefore } from '../../protocol/spec-key';
import { SETTINGS } from '../../runtime/config';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NodeHandle } from '../../app/start-node';
import { client, Collector, request, startTestNode } from '../helpers/lookout';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { waitFor } from '../helpers/poll';
import { CLI, runLookout, type LookoutProcess } from '../helpers/processes';
import { closedPort, startHttpTarget, type HttpTarget } from '../helpers/targets';

let server: NatsServer;
let node: NodeHandle;
let nc: NatsConnection;
let target: HttpTarget;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startNatsServer();
  node = await startTestNode(server);
  nc = await client(server);
  target = await startHttpTarget({ routes: { '/ok': { status: 200 }, '/fail': { status: 500 } } });
  dir = mkdtempSync(join(tmpdir(), 'lookout-cli-'));
  env = { NATS_URL: server.url };
});

afterAll(async () => {
  await nc?.close();
  await node?.stop();
  await server?.cleanup();
  await target?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | string;
  out: string;
  lines: string[];
}

/** Run the CLI to completion; `out` is stdout + stderr. */
async function run(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  const p = runLookout(args, { ...env, ...extraEnv });
  const code = await p.exited;
  const out = p.output();
  return { code, out, lines: out.split('\n').filter(Boolean) };
}

/** Run the CLI with `input` on stdin; stdout and stderr apart. */
function runWithStdin(args: string[], input: string, extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env, ...extraEnv }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.once('error', reject);
    proc.once('exit', (code) => resolve({ code, stdout, stderr }));
    proc.stdin.end(input);
  });
}

function file(name: string, content: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  return path;
}

const spec = (id: string, extra: Record<string, unknown> = {}) => ({ id, kind: 'http', target: `${target.url}/ok`, intervalMs: 60_000, timeoutMs: 1000, ...extra });

async function stored(id: string): Promise<any> {
  const r = await request(nc, `lookout.spec.get.${id}`);
  return r.ok ? r.spec : null;
}

describe('spec put', () => {
  test('a JSON file with one spec → "put <id> revision <n>"', async () => {
    const r = await run(['spec', 'put', file('one.json', JSON.stringify(spec('json-1')))]);
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([expect.stringMatching(/^put json-1 revision \d+$/)]);
    expect(await stored('json-1')).toMatchObject({ target: `${target.url}/ok` });
  });

  test('a YAML file with several documents, one of them a list', async () => {
    const yaml = `id: yaml-1\nkind: tcp\ntarget: 127.0.0.1:${new URL(target.url).port}\nintervalMs: 60000\n---\n- id: yaml-2\n  kind: http\n  target: ${target.url}/ok\n- id: yaml-3\n  kind: http\n  target: ${target.url}/ok\n  labels: {team: web}\n`;
    const r = await run(['spec', 'put', file('multi.yaml', yaml)]);
    expect(r.code).toBe(0);
    expect(r.lines.map((l) => l.replace(/\d+$/, 'N'))).toEqual(['put yaml-1 revision N', 'put yaml-2 revision N', 'put yaml-3 revision N']);
    expect(await stored('yaml-3')).toMatchObject({ labels: { team: 'web' } });
  });

  test('a directory: every *.json / *.yaml / *.yml file, sorted by name, nothing else', async () => {
    file('dir/b.yaml', `id: dir-b\nkind: http\ntarget: ${target.url}/ok\n`);
    file('dir/a.json', JSON.stringify([spec('dir-a1'), spec('dir-a2')]));
    file('dir/c.yml', `id: dir-c\nkind: http\ntarget: ${target.url}/ok\n`);
    file('dir/notes.txt', 'not a spec');
    const r = await run(['spec', 'put', join(dir, 'dir')]);
    expect(r.code).toBe(0);
    expect(r.lines.map((l) => l.split(' ')[1])).toEqual(['dir-a1', 'dir-a2', 'dir-b', 'dir-c']);
  });

  test('stdin ("-"): JSON with --id, and YAML (sniffed)', async () => {
    const json = await runWithStdin(['spec', 'put', '-', '--id', 'stdin-1'], JSON.stringify({ kind: 'http', target: `${target.url}/ok` }));
    expect(json).toMatchObject({ code: 0, stderr: '' });
    expect(json.stdout).toMatch(/^put stdin-1 revision \d+\n$/);
    const yaml = await runWithStdin(['spec', 'put', '-'], `id: stdin-2\nkind: http\ntarget: ${target.url}/ok\n`);
    expect(yaml.stdout).toMatch(/^put stdin-2 revision \d+\n$/);
    expect(await stored('stdin-2')).toMatchObject({ kind: 'http' });
  });

  test('${VAR} in string values comes from the environment; an unset one stops everything, naming it', async () => {
    const path = file('vars.yaml', `id: var-1\nkind: http\ntarget: \${DEMO_URL}/ok\nlabels: {literal: "$\${KEEP}"}\n`);
    const ok = await run(['spec', 'put', path], { DEMO_URL: target.url });
    expect(ok.code).toBe(0);
    expect(await stored('var-1')).toMatchObject({ target: `${target.url}/ok`, labels: { literal: '${KEEP}' } });

    const both = file('vars2.yaml', `id: var-2\nkind: http\ntarget: ${target.url}/ok\n---\nid: var-3\nkind: http\ntarget: \${NO_SUCH_VAR}/ok\n`);
    const bad = await run(['spec', 'put', both]);
    expect(bad.code).toBe(1);
    expect(bad.lines).toEqual([expect.stringMatching(/^lookout: .*vars2\.yaml \(spec 2\): environment variable NO_SUCH_VAR is not set/)]);
    expect(await stored('var-2')).toBeNull(); // nothing was put
  });

  test('a rejected spec: exit 1, code and path in the message, the other specs still put', async () => {
    const path = file('mixed.json', JSON.stringify([spec('rej-ok-1'), spec('rej-bad', { http: { expectStatus: ['2xx', '7xx'] } }), spec('rej-ok-2')]));
    const r = await run(['spec', 'put', path]);
    expect(r.code).toBe(1);
    expect(r.lines).toHaveLength(3);
    expect(r.out).toMatch(/^lookout: rej-bad: format at http\.expectStatus\[1\]: .+$/m);
    expect(r.out).toMatch(/^put rej-ok-1 revision \d+$/m);
    expect(r.out).toMatch(/^put rej-ok-2 revision \d+$/m);
    expect(await stored('rej-bad')).toBeNull();
  });

  test('a spec without id, a missing file, bad JSON → one line, exit 1, nothing put', async () => {
    const noId = await run(['spec', 'put', file('noid.json', JSON.stringify({ kind: 'http', target: `${target.url}/ok` }))]);
    expect(noId.code).toBe(1);
    expect(noId.lines).toEqual([expect.stringMatching(/^lookout: .*noid\.json: the spec has no "id"/)]);
    const missing = await run(['spec', 'put', join(dir, 'nope.json')]);
    expect(missing.code).toBe(1);
    expect(missing.lines).toEqual([expect.stringMatching(/^lookout: cannot read .*nope\.json/)]);
    const broken = await run(['spec', 'put', file('broken.json', '{"id": "x",')]);
    expect(broken.code).toBe(1);
    expect(broken.lines).toEqual([expect.stringMatching(/^lookout: .*broken\.json: invalid JSON/)]);
  });
});

describe('spec get / ls / rm', () => {
  beforeAll(async () => {
    for (const id of ['ls-a', 'ls-b', 'ls-c', 'ls-d', 'ls-e']) await request(nc, `lookout.spec.put.${id}`, spec(id));
  });

  test('get prints the spec with its revision (indented; --json on one line); unknown id → exit 1', async () => {
    const r = await run(['spec', 'get', 'ls-a']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ id: 'ls-a', revision: expect.any(Number), spec: spec('ls-a') });
    expect(r.lines.length).toBeGreaterThan(3);
    const compact = await run(['spec', 'get', 'ls-a', '--json']);
    expect(compact.lines).toHaveLength(1);
    expect(JSON.parse(compact.out).spec).toEqual(spec('ls-a'));
    const missing = await run(['spec', 'get', 'no-such-check']);
    expect(missing.code).toBe(1);
    expect(missing.lines).toEqual(['lookout: no spec with id no-such-check']);
  });

  test('ls follows the pages until done (page size 2 → several list requests)', async () => {
    const all = await run(['spec', 'ls']);
    expect(all.code).toBe(0);
    // The API's list order: by shard, then id (runtime/shard-spec-store.ts).
    expect(all.lines).toEqual([...all.lines].sort((a, b) => (listOrderBefore(a, b, SETTINGS.shards.default) ? -1 : 1)));
    expect(all.lines).toEqual(expect.arrayContaining(['ls-a', 'ls-b', 'ls-c', 'ls-d', 'ls-e']));

    const lists = new Collector(nc, 'lookout.spec.list');
    await nc.flush();
    const paged = await run(['spec', 'ls', '--page-size', '2']);
    expect(paged.code).toBe(0);
    expect(paged.lines).toEqual(all.lines);
    await waitFor('the list requests', () => lists.messages.length >= Math.ceil(all.lines.length / 2));
    await nc.flush();
    lists.stop();
    expect(lists.messages.length).toBe(Math.ceil(all.lines.length / 2));
    expect(lists.messages[0]!.msg).toEqual({ limit: 2 });
    expect(lists.messages[1]!.msg).toEqual({ after: all.lines[1], limit: 2 });

    const json = await run(['spec', 'ls', '--json', '--page-size', '3']);
    expect(JSON.parse(json.out)).toEqual(all.lines);
  });

  test('rm → "deleted <id>", again → "<id> did not exist", exit 0 both times', async () => {
    expect(await run(['spec', 'rm', 'ls-e'])).toMatchObject({ code: 0, lines: ['deleted ls-e'] });
    expect(await run(['spec', 'rm', 'ls-e'])).toMatchObject({ code: 0, lines: ['ls-e did not exist'] });
    expect(await stored('ls-e')).toBeNull();
  });
});

describe('watch', () => {
  afterAll(async () => {
    for (const id of ['watch-json', 'watch-table']) await request(nc, `lookout.spec.delete.${id}`);
  });

  test('--json --count 3 for one id: its last known state, then three payloads with their subject, then exit 0', async () => {
    await request(nc, 'lookout.spec.put.watch-json', spec('watch-json', { intervalMs: 1000, timeoutMs: 500 }));
    const r = await run(['watch', 'watch-json', '--json', '--count', '3']);
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(4);
    const known = JSON.parse(r.lines.shift()!);
    expect(known).toMatchObject({ subject: 'lookout.state.get.watch-json', checkId: 'watch-json', verdict: expect.stringMatching(/^(unknown|up)$/) });
    for (const line of r.lines) {
      const m = JSON.parse(line);
      expect(m.subject).toMatch(/^lookout\.(result|status)\.watch-json$/);
      expect(m.checkId).toBe('watch-json');
      expect(m.node).toBe(node.nodeId);
    }
    expect(r.lines.map((l) => JSON.parse(l)).filter((m) => m.subject === 'lookout.result.watch-json')[0]).toMatchObject({ ok: true, status: 'up' });
  });

  test('table rows: a header, then time, check, node, vantage, result or from→to, latency, reason, epoch:seq, message', async () => {
    const p = runLookout(['watch', 'watch-table', '--count', '3'], env);
    await waitFor('the watch header', () => p.output().includes('TIME'));
    await request(nc, 'lookout.spec.put.watch-table', spec('watch-table', { target: `${target.url}/fail`, intervalMs: 1000, timeoutMs: 500 }));
    expect(await p.exited).toBe(0);
    const [said, header, ...rows] = p.output().split('\n').filter(Boolean);
    expect(said).toBe('lookout: no check with id watch-table (watching for it)');
    expect(header!.split(/\s+/)).toEqual(['TIME', 'CHECK', 'NODE', 'V', 'RESULT', 'LATENCY', 'REASON', 'EPOCH:SEQ', 'MESSAGE']);
    expect(rows).toHaveLength(3);
    const result = new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\s+watch-table\\s+${node.nodeId}\\s+0\\s+FAIL down\\s+\\d+\\.\\dms\\s+status\\s+\\d+:\\d+\\s+expected status 2xx, got 500$`);
    const status = new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\s+watch-table\\s+${node.nodeId}\\s+0\\s+unknown→down\\s+-\\s+status\\s+\\d+:\\d+\\s+expected status 2xx, got 500$`);
    expect(rows.filter((r) => result.test(r)).length).toBeGreaterThanOrEqual(2);
    expect(rows.filter((r) => status.test(r))).toHaveLength(1);
    // Columns line up: the check column starts at the same offset on every line.
    expect(new Set([header!, ...rows].map((l) => l.indexOf(l.startsWith('TIME') ? 'CHECK' : 'watch-table'))).size).toBe(1);
  });

  test('a live result that arrives while the last known state is still being read prints after it and the header, not above them', async () => {
    // A prefix no node serves: the test answers the state read itself, and publishes a live
    // result first (on its one connection, so the CLI receives the result before the answer).
    const sub = nc.subscribe('slowst.state.list', {
      callback: (_e, m) => {
        nc.publish('slowst.result.early-1', JSON.stringify({ checkId: 'early-1', ok: true, status: 'up', latencyMs: 1.5, reason: null, message: null, node: 'n9', at: new Date().toISOString(), epoch: 1, seq: 7, vantage: 0 }));
        void nc.flush().then(() => m.respond(JSON.stringify({ ok: true, states: [], next: null })));
      },
    });
    try {
      const r = await runWithStdin(['watch', '--count', '1'], '', { LOOKOUT_PREFIX: 'slowst' });
      expect(r.code).toBe(0);
      const out = r.stdout.split('\n').filter(Boolean);
      expect(out).toHaveLength(2);
      expect(out[0]).toMatch(/^TIME\s+CHECK/);
      expect(out[1]).toMatch(/^\d\d:\d\d:\d\d\.\d{3}\s+early-1\s+n9\s+0\s+ok up/);
      expect(r.stderr).toContain('no check matches (watching for new ones)');
    } finally {
      sub.unsubscribe();
    }
  });

  test('every check (no id): the last known state of each first, then live rows until SIGINT → exit 0', async () => {
    await request(nc, 'lookout.spec.put.watch-json', spec('watch-json', { intervalMs: 1000, timeoutMs: 500 }));
    const p: LookoutProcess = runLookout(['watch'], env);
    const lines = () => p.output().split('\n').filter(Boolean);
    await waitFor('a live row', () => lines().findIndex((l) => l.startsWith('TIME')), { until: (i) => i > 0 && lines().length > i + 1 });
    p.signal('SIGINT');
    expect(await p.exited).toBe(0);
    const all = lines();
    expect(all[0]).toMatch(/^CHECK\s+VERDICT\s+SINCE/);
    expect(all.slice(1, all.findIndex((l) => l.startsWith('TIME'))).some((l) => l.startsWith('watch-json '))).toBe(true);
  });
});

test('cluster: leader and term, epoch, one row per member', async () => {
  const status = await waitFor('an assignment', async () => {
    const s = await request(nc, 'lookout.cluster.status');
    return s.epoch !== null && s.leader ? s : null;
  });
  const r = await run(['cluster']);
  expect(r.code).toBe(0);
  expect(r.out).toContain(`leader       ${node.nodeId} (term ${status.leader.term})`);
  expect(r.out).toMatch(new RegExp(`^epoch        ${status.epoch} `, 'm'));
  expect(r.out).toMatch(/^NODE\s+STATE\s+INCARNATION\s+PRIMARY\s+SHARDS\s+CHECKS\s+LAG\s+CLOCK\s+VERSION$/m);
  // Alone, a node's clock is the members' median: skew 0.
  // LAG: the node's worst event-loop lag of its last second (its heartbeat).
  expect(r.out).toMatch(new RegExp(`^${node.nodeId}\\s+alive\\s+\\d+\\s+256\\s+256\\s+\\d+\\s+\\d+(ms|\\.\\ds)\\s+\\+0ms\\s+\\S+$`, 'm'));
  expect(r.out).toMatch(/^clock {8}in step \(bound ±1000 ms/m);
  const json = await run(['cluster', '--json']);
  expect(json.lines).toHaveLength(1);
  expect(JSON.parse(json.out)).toMatchObject({ ok: true, leader: { node: node.nodeId }, members: [expect.objectContaining({ node: node.nodeId })] });
});

describe('help and errors', () => {
  test.each(['spec', 'spec put', 'spec get', 'spec ls', 'spec rm', 'watch', 'cluster', 'status', 'history'])('%s --help → exit 0 with an example', async (cmd) => {
    const r = await run([...cmd.split(' '), '--help'], { NATS_URL: 'nats://127.0.0.1:1' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: lookout /);
    expect(r.out).toContain('Example:');
  });

  test.each([
    [['spec', 'ls', '--bogus'], /^lookout: unknown flag --bogus for "spec ls"/],
    [['watch', '-x'], /^lookout: unknown flag -x for "watch"/],
    [['spec', 'get'], /^lookout: "spec get" needs <id>/],
    [['spec', 'frob'], /^lookout: unknown command "spec frob"/],
    [['spec'], /^lookout: "spec" needs a command/],
    [['cluster', 'extra'], /^lookout: unexpected argument "extra"/],
    [['history'], /^lookout: "history" needs <id>/],
    [['status', '--label', 'nokey'], /^lookout: --label: expected key=value/],
    [['watch', '--count', 'many'], /^lookout: --count: expected an integer/],
    [['spec', 'get', 'bad.id'], /^lookout: invalid check id "bad.id"/],
    [['spec', 'ls', '--user', 'u'], /^lookout: NATS_USER and NATS_PASSWORD/],
  ])('%j → exit 2, one line', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.lines).toHaveLength(1);
    expect(r.out).toMatch(message);
  });

  test('unreachable server → exit 1, one line naming the URL, at once (no reconnect loop)', async () => {
    const url = `nats://127.0.0.1:${await closedPort()}`;
    // Side by side, same machine, same moment: giving up on a refused connection takes no longer
    // than a command that connects and lists the specs (a client that retried would take seconds).
    const timed = async (args: string[]) => {
      const t0 = performance.now();
      const r = await run(args);
      return { r, ms: performance.now() - t0 };
    };
    const refused: number[] = [];
    const answered: number[] = [];
    let r: Run | undefined;
    for (let i = 0; i < 2; i++) {
      const ok = await timed(['spec', 'ls']);
      expect(ok.r.code).toBe(0);
      answered.push(ok.ms);
      const bad = await timed(['spec', 'ls', '-s', url]);
      refused.push(bad.ms);
      r = bad.r;
    }
    expect(r!.code).toBe(1);
    expect(r!.lines).toEqual([`lookout: cannot connect to NATS at ${url}: connection refused`]);
    expect(Math.min(...refused)).toBeLessThan(3 * Math.max(...answered));
    const viaEnv = await run(['cluster'], { NATS_URL: url });
    expect(viaEnv.lines).toEqual([`lookout: cannot connect to NATS at ${url}: connection refused`]);
  });

  test('no node on the prefix → "no Lookout node answered on <subject>", exit 1', async () => {
    const ls = await run(['spec', 'ls', '--prefix', 'nobody']);
    expect(ls.code).toBe(1);
    expect(ls.lines).toEqual(['lookout: no Lookout node answered on nobody.spec.list — is a node running?']);
    const cluster = await run(['cluster'], { LOOKOUT_PREFIX: 'nobody.home' });
    expect(cluster.code).toBe(1);
    expect(cluster.lines).toEqual(['lookout: no Lookout node answered on nobody.home.cluster.status — is a node running?']);
    const put = await runWithStdin(['spec', 'put', '-', '--prefix', 'nobody'], JSON.stringify(spec('np-1')));
    expect(put.code).toBe(1);
    expect(put.stderr).toBe('lookout: no Lookout node answered on nobody.spec.put.np-1 — is a node running?\n');
  });

  test('node-only settings do not matter to client commands', async () => {
    const r = await run(['spec', 'get', 'ls-a', '--json'], { LOOKOUT_SHARDS: 'lots', LOOKOUT_NODE_ID: 'has space' });
    expect(r.code).toBe(0);
  });
});
