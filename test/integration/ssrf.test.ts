// The SSRF guard end to end, on loopback only. 127.0.0.2 plays the denied internal service
// (LOOKOUT_TARGET_DENY=127.0.0.2/32): targeted directly, through a name that resolves to it (a
// stub resolver), through a redirect from an allowed address, and through DNS rebinding; every
// denied probe is `down` with reason `denied` and the service sees no connection. Metadata
// addresses are reached only through validation and the stub resolver — no traffic is ever sent
// to them. Then a real node on a real nats-server: specs with denied literal targets are rejected;
// specs stored behind the API's back (a tcp `send` to the NATS client port, the node's own
// /metrics) produce `denied` results and nothing reaches NATS; a JSON assertion on the NATS
// monitoring endpoint does not publish the server id.
import { specKey } from '../../protocol/spec-key';
import { SETTINGS } from '../../runtime/config';
import http from 'node:http';
import net from 'node:net';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { buildAddressPolicy } from '../../checks/address-policy';
import type { LookupFn } from '../../checks/connector';
import { probeHttp } from '../../checks/http-probe';
import { closeProbeEnv, DIRECT_PROBE_ENV, type ProbeEnv } from '../../checks/probe-env';
import { normalizeSpec, type CheckSpec, type HttpOptions, type TcpOptions } from '../../checks/spec';
import { probeTcp } from '../../checks/tcp-probe';
import type { NodeHandle } from '../../app/start-node';
import { client, Collector, request, startTestNode } from '../helpers/lookout';
import { freePort, startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { waitFor } from '../helpers/poll';
import { startHttpTarget, type HttpTarget } from '../helpers/targets';

const SECRET = 'NSECRETSERVERID4711';

/** An HTTP server on one loopback address that counts connections and requests. */
interface Counted {
  port: number;
  connections: number;
  requests: number;
  close(): Promise<void>;
}

function countedHttp(host: string, port = 0): Promise<Counted> {
  const server = http.createServer((_req, res) => {
    counted.requests++;
    res.end('inner');
  });
  const counted: Counted = {
    port: 0,
    connections: 0,
    requests: 0,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
  server.on('connection', () => counted.connections++);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      counted.port = (server.address() as net.AddressInfo).port;
      resolve(counted);
    });
  });
}

/** A TCP server on 127.0.0.2 that records connections and every byte received. */
function countedTcp(): Promise<{ port: number; connections: number; received: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const state = { port: 0, connections: 0, received: '', close: () => Promise.resolve() };
  const server = net.createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('data', (d) => (state.received += d.toString())).on('error', () => {});
  });
  state.close = () => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), server.close(() => resolve())));
  return new Promise((resolve) => server.listen(0, '127.0.0.2', () => ((state.port = (server.address() as net.AddressInfo).port), resolve(state))));
}

/** Stub resolver: answers from `answers`, records every name asked. */
const lookups: string[] = [];
const answers = new Map<string, () => string[]>();
const stubLookup: LookupFn = async (host) => {
  lookups.push(host);
  const answer = answers.get(host);
  if (!answer) throw Object.assign(new Error(`stub resolver: no ${host}`), { code: 'ENOTFOUND', hostname: host });
  return answer();
};

const denying: ProbeEnv = { ...DIRECT_PROBE_ENV, policy: buildAddressPolicy({ deny: ['127.0.0.2/32'] }), lookup: stubLookup, detail: 'redacted' };
const permissive: ProbeEnv = { ...DIRECT_PROBE_ENV, policy: buildAddressPolicy(), lookup: stubLookup, detail: 'full' };

const httpSpec = (target: string, h: HttpOptions = {}) => normalizeSpec('ssrf', { kind: 'http', target, timeoutMs: 2000, http: h });
const tcpSpec = (target: string, t: TcpOptions = {}) => normalizeSpec('ssrf', { kind: 'tcp', target, timeoutMs: 2000, tcp: t });

let deniedSide: Counted; // 127.0.0.2:P — the internal service that must stay unreached
let allowedSide: Counted; // 127.0.0.1:P — same port, allowed address
let tcpInner: Awaited<ReturnType<typeof countedTcp>>;
let web: HttpTarget; // 127.0.0.1, answers redirects and JSON
let P: number;

beforeAll(async () => {
  deniedSide = await countedHttp('127.0.0.2');
  P = deniedSide.port;
  allowedSide = await countedHttp('127.0.0.1', P);
  tcpInner = await countedTcp();
  web = await startHttpTarget({
    routes: {
      '/to-denied': { status: 302, headers: { location: `http://127.0.0.2:${P}/` } },
      '/to-name': { status: 302, headers: { location: `http://inner.test:${P}/` } },
      '/to-metadata': { status: 302, headers: { location: 'http://metadata.google.internal/computeMetadata/v1/' } },
      '/to-ftp': { status: 302, headers: { location: `ftp://${SECRET}.internal/x` } },
      '/json': { body: JSON.stringify({ server_id: SECRET, ok: true }) },
    },
  });
  answers.set('inner.test', () => ['127.0.0.2']);
  answers.set('mixed.test', () => ['127.0.0.2', '127.0.0.1']);
  answers.set('metadata.test', () => ['169.254.169.254']);
  answers.set('cloud.test', () => ['fd00:ec2::254']);
});

afterAll(async () => {
  await closeProbeEnv(DIRECT_PROBE_ENV);
  await Promise.all([deniedSide?.close(), allowedSide?.close(), tcpInner?.close(), web?.close()]);
});

describe('probes (address policy at connect time)', () => {
  test('control: without the deny rule 127.0.0.2 is reached directly, by name and by redirect', async () => {
    const before = deniedSide.requests;
    expect(await probeHttp(httpSpec(`http://127.0.0.2:${P}/`), undefined, permissive)).toMatchObject({ ok: true });
    expect(await probeHttp(httpSpec(`http://inner.test:${P}/`), undefined, permissive)).toMatchObject({ ok: true });
    expect(await probeHttp(httpSpec(`${web.url}/to-denied`, { maxRedirects: 2 }), undefined, permissive)).toMatchObject({ ok: true, redirects: 1 });
    expect(deniedSide.requests - before).toBe(3);
  });

  test('directly, in any notation: denied, and the service sees no connection', async () => {
    const before = deniedSide.connections;
    const rule = `127.0.0.2:${P} is denied: LOOKOUT_TARGET_DENY: 127.0.0.2/32`;
    for (const target of [`http://127.0.0.2:${P}/`, `http://2130706434:${P}/`, `http://0x7f000002:${P}/`, `http://[::ffff:127.0.0.2]:${P}/`]) {
      const out = await probeHttp(httpSpec(target), undefined, denying);
      expect(out).toMatchObject({ ok: false, reason: 'denied' });
      expect(out.message).toContain(rule); // "::ffff:7f00:2 → 127.0.0.2:… is denied: …" for the mapped form
      expect(out.timings.connect).toBeUndefined();
    }
    expect(deniedSide.connections).toBe(before);
  });

  test('a tcp check with send: denied before a byte is written', async () => {
    for (const target of [`127.0.0.2:${tcpInner.port}`, `0x7f000002:${tcpInner.port}`, `[::ffff:127.0.0.2]:${tcpInner.port}`, `inner.test:${tcpInner.port}`]) {
      expect(await probeTcp(tcpSpec(target, { send: 'FLUSHALL\r\n' }), undefined, denying)).toMatchObject({ ok: false, reason: 'denied' });
    }
    expect(tcpInner.connections).toBe(0);
    expect(tcpInner.received).toBe('');
  });

  test('through a name that resolves to it: denied after the lookup, naming both', async () => {
    const before = deniedSide.connections;
    const out = await probeHttp(httpSpec(`http://inner.test:${P}/`), undefined, denying);
    expect(out).toMatchObject({ reason: 'denied', message: `inner.test → 127.0.0.2:${P} is denied: LOOKOUT_TARGET_DENY: 127.0.0.2/32` });
    expect(out.timings.dns).toBeGreaterThanOrEqual(0);
    expect(deniedSide.connections).toBe(before);
  });

  test('a name with a denied and an allowed address: only the allowed one is dialled', async () => {
    const [denied, allowed] = [deniedSide.connections, allowedSide.requests];
    expect(await probeHttp(httpSpec(`http://mixed.test:${P}/`, { bodyContains: 'inner' }), undefined, denying)).toMatchObject({ ok: true });
    expect(allowedSide.requests - allowed).toBe(1);
    expect(deniedSide.connections).toBe(denied);
  });

  test('DNS rebinding: every connect decides on the address it dials', async () => {
    const replies = [['127.0.0.1'], ['127.0.0.2']];
    answers.set('rebind.test', () => replies.shift() ?? ['127.0.0.2']);
    const [denied, allowed] = [deniedSide.connections, allowedSide.requests];
    expect(await probeHttp(httpSpec(`http://rebind.test:${P}/`), undefined, denying)).toMatchObject({ ok: true });
    expect(await probeHttp(httpSpec(`http://rebind.test:${P}/`), undefined, denying)).toMatchObject({ reason: 'denied' });
    expect(allowedSide.requests - allowed).toBe(1);
    expect(deniedSide.connections).toBe(denied);
  });

  test('through a redirect from an allowed address (by address and by name): the hop is denied', async () => {
    const before = deniedSide.connections;
    expect(await probeHttp(httpSpec(`${web.url}/to-denied`, { maxRedirects: 3 }), undefined, denying)).toMatchObject({
      ok: false,
      reason: 'denied',
      message: `127.0.0.2:${P} is denied: LOOKOUT_TARGET_DENY: 127.0.0.2/32`,
      redirects: 1,
    });
    expect(await probeHttp(httpSpec(`${web.url}/to-name`, { maxRedirects: 3 }), undefined, denying)).toMatchObject({ reason: 'denied', redirects: 1 });
    expect(deniedSide.connections).toBe(before);
  });

  test('metadata: by name (no lookup at all) and by a name resolving to a metadata address (no connect)', async () => {
    lookups.length = 0;
    expect(await probeHttp(httpSpec(`${web.url}/to-metadata`, { maxRedirects: 3 }), undefined, denying)).toMatchObject({
      reason: 'denied',
      message: 'metadata.google.internal:80 is denied: built-in rule (cloud metadata host name)',
    });
    expect(await probeHttp(httpSpec('http://metadata.google.internal/'), undefined, permissive)).toMatchObject({ reason: 'denied' });
    expect(lookups).toEqual([]);
    const v4 = await probeHttp(httpSpec('http://metadata.test/latest/meta-data/'), undefined, permissive);
    expect(v4).toMatchObject({ reason: 'denied' });
    expect(v4.message).toMatch(/^metadata\.test → 169\.254\.169\.254:80 is denied: built-in rule \(.*\): 169\.254\.0\.0\/16$/);
    expect(v4.timings.connect).toBeUndefined();
    const v6 = await probeTcp(tcpSpec('cloud.test:80', { send: 'GET / HTTP/1.0\r\n\r\n' }), undefined, permissive);
    expect(v6).toMatchObject({ reason: 'denied' });
    expect(v6.message).toContain('[fd00:ec2::254]:80 is denied');
    expect(lookups).toEqual(['metadata.test', 'cloud.test']);
  });
});

describe('result detail', () => {
  const json = () => httpSpec(`${web.url}/json`, { json: [{ path: '$.server_id', equals: 'x' }] });

  test('redacted: a JSON assertion says what kind of value it found, never the value', async () => {
    const out = await probeHttp(json(), undefined, denying);
    expect(out).toMatchObject({ reason: 'json', message: '$.server_id is another string, expected "x"' });
  });

  test('full: the value, quoted', async () => {
    expect((await probeHttp(json(), undefined, permissive)).message).toBe(`$.server_id is "${SECRET}", expected "x"`);
  });

  test("redacted: a redirect's Location is not quoted", async () => {
    const out = await probeHttp(httpSpec(`${web.url}/to-ftp`, { maxRedirects: 1 }), undefined, denying);
    expect(out.reason).toBe('status');
    expect(out.message).not.toContain(SECRET);
    expect((await probeHttp(httpSpec(`${web.url}/to-ftp`, { maxRedirects: 1 }), undefined, permissive)).message).toContain(SECRET);
  });
});

describe('a node', () => {
  let server: NatsServer;
  let node: NodeHandle;
  let nc: NatsConnection;
  let results: Collector;
  let monitorPort: number;

  beforeAll(async () => {
    monitorPort = await freePort();
    server = await startNatsServer({ config: `http: "127.0.0.1:${monitorPort}"` });
    node = await startTestNode(server, { LOOKOUT_TARGET_DENY: '127.0.0.2/32' });
    nc = await client(server);
    results = new Collector(nc, 'lookout.result.>');
  });

  afterAll(async () => {
    results?.stop();
    await nc?.close();
    await node?.stop();
    await server?.cleanup();
  });

  async function stored(id: string) {
    const e = await (await new Kvm(nc).open('lookout_specs')).get(specKey(id, SETTINGS.shards.default));
    return e && e.operation === 'PUT' ? e.json<unknown>() : null;
  }

  /** Store a spec behind the API's back (as an older node, or a node with another policy, might have). */
  async function storeDirectly(id: string, spec: CheckSpec) {
    await (await new Kvm(nc).open('lookout_specs')).put(specKey(id, SETTINGS.shards.default), JSON.stringify(spec));
  }

  const firstResult = (id: string) => waitFor(`a result of ${id}`, () => results.results(id)[0]);

  const check = (kind: 'http' | 'tcp', target: string, extra: object = {}) => ({ kind, target, intervalMs: 1000, timeoutMs: 500, ...extra });

  test('a spec whose literal target is denied is rejected (code denied, path target), nothing stored', async () => {
    const cases: [string, object, RegExp][] = [
      ['nats', check('tcp', `127.0.0.1:${server.port}`, { tcp: { send: 'PUB x 1\r\n' } }), /a NATS server of this node/],
      ['metrics', check('http', `http://127.0.0.1:${node.httpPort}/metrics`), /this node's HTTP endpoint/],
      ['metrics-other-local', check('http', `http://127.0.0.3:${node.httpPort}/metrics`), /this node's HTTP endpoint/],
      ['aws', check('http', 'http://169.254.169.254/latest/meta-data/'), /169\.254\.0\.0\/16/],
      ['aws-v6', check('http', 'http://[fd00:ec2::254]/latest/meta-data/'), /fd00:ec2::254\/128/],
      ['aws-number', check('http', 'http://2852039166/'), /169\.254\.0\.0\/16/],
      ['aws-hex-tcp', check('tcp', '0xa9fea9fe:80'), /169\.254\.0\.0\/16/],
      ['gcp', check('http', 'http://metadata.google.internal/computeMetadata/v1/'), /cloud metadata host name/],
      ['operator', check('http', `http://127.0.0.2:${P}/`), /LOOKOUT_TARGET_DENY: 127\.0\.0\.2\/32/],
    ];
    for (const [id, spec, rule] of cases) {
      const reply = await request(nc, `lookout.spec.put.deny-${id}`, spec);
      expect(reply).toEqual({ ok: false, error: { code: 'denied', path: 'target', message: expect.stringMatching(rule) } });
      expect(await stored(`deny-${id}`)).toBeNull();
    }
    expect(await request(nc, 'lookout.spec.put.allowed-local', check('http', `${web.url}/json`))).toMatchObject({ ok: true });
  });

  test('a tcp check with send against the NATS client port, stored behind the API: denied, nothing reaches NATS', async () => {
    let canaries = 0;
    const sub = nc.subscribe('ssrf.canary', { callback: () => void canaries++ });
    const send = 'CONNECT {}\r\nPUB ssrf.canary 2\r\nhi\r\nPING\r\n';
    await storeDirectly('nats-literal', check('tcp', `127.0.0.1:${server.port}`, { tcp: { send, expect: 'PONG' } }) as CheckSpec);
    await storeDirectly('nats-name', check('tcp', `localhost:${server.port}`, { tcp: { send, expect: 'PONG' } }) as CheckSpec);
    for (const id of ['nats-literal', 'nats-name']) {
      await waitFor(`two results of ${id}`, () => {
        const seen = results.results(id);
        if (seen.length < 2) throw new Error(`${seen.length} results so far`);
        return seen;
      });
      for (const r of results.results(id)) {
        expect(r).toMatchObject({ ok: false, status: 'down', reason: 'denied' });
        expect(r.message).toMatch(new RegExp(`127\\.0\\.0\\.1:${server.port} is denied: a NATS server of this node`));
      }
    }
    // Every probe published above ran before its result; a PUB it had sent would be here by now.
    await nc.flush();
    sub.unsubscribe();
    expect(canaries).toBe(0);
  });

  test("the node's own HTTP port (through a name) is denied", async () => {
    await storeDirectly('own-metrics', check('http', `http://localhost:${node.httpPort}/metrics`) as CheckSpec);
    const r = await firstResult('own-metrics');
    expect(r).toMatchObject({ ok: false, reason: 'denied' });
    expect(r.message).toMatch(new RegExp(`localhost → 127\\.0\\.0\\.1:${node.httpPort} is denied: this node's HTTP endpoint`));
  });

  test('a JSON assertion on the NATS monitoring endpoint does not publish the server id', async () => {
    const serverId = nc.info?.server_id;
    expect(serverId).toMatch(/^N/);
    const spec = check('http', `http://127.0.0.1:${monitorPort}/varz`, { http: { json: [{ path: '$.server_id', equals: 'guess' }] } });
    expect(await request(nc, 'lookout.spec.put.varz', spec)).toMatchObject({ ok: true });
    const r = await firstResult('varz');
    expect(r).toMatchObject({ ok: false, reason: 'json', message: '$.server_id is another string, expected "guess"' });
    expect(JSON.stringify(results.results('varz'))).not.toContain(serverId);
  });
});
