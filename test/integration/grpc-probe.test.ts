// The grpc probe against gRPC servers the test starts on 127.0.0.1 with grpc-js
// (testkit/grpc-server.ts): each serving status, a named service, an unknown one, a server
// without the health service, answers that are not a HealthCheckResponse or too large, a closed
// port, a TCP server that never speaks (the deadline's), TLS with a self-signed certificate the test
// makes with openssl (verified → tls; verify off → ok, with its expiry), plaintext against TLS and
// back, an address the policy denies (the server sees no call), a host name resolved by a stub, and
// an abort. No sleeps.
import net from 'node:net';
import { buildAddressPolicy } from '../../checks/address-policy';
import { probeGrpc } from '../../checks/grpc-probe';
import { runProbe } from '../../checks/probe';
import { DIRECT_PROBE_ENV, type ProbeEnv } from '../../checks/probe-env';
import { normalizeSpec, type GrpcOptions } from '../../checks/spec';
import { certExpiringIn, type TestCert } from '../helpers/certs';
import { startGrpcServer, type GrpcTestServer } from '../../testkit/grpc-server';
import { closedPort } from '../helpers/targets';

let health: GrpcTestServer;
let bare: GrpcTestServer;
let secure: GrpcTestServer;
let secureCert: TestCert;
let silent: net.Server;
const silentSockets: net.Socket[] = [];

beforeAll(async () => {
  health = await startGrpcServer({
    health: {
      '': 1,
      'svc.Up': 1,
      'svc.Down': 2,
      'svc.Unknown': 3,
      'svc.Zero': 0,
      'svc.Future': 7,
      'svc.Truncated': { raw: Buffer.from([0x08]) },
      'svc.Group': { raw: Buffer.from([0x0b]) },
      'svc.Huge': { raw: Buffer.concat([Buffer.from([0x12, 0x88, 0x27]), Buffer.alloc(5000, 0x61)]) },
    },
  });
  bare = await startGrpcServer();
  secureCert = await certExpiringIn(30);
  secure = await startGrpcServer({ health: { '': 1 }, tls: secureCert });
  silent = net.createServer((s) => silentSockets.push(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await Promise.all([health.close(), bare.close(), secure.close()]);
  for (const s of silentSockets) s.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

function spec(target: string, grpc: GrpcOptions = {}, timeoutMs = 3000) {
  return normalizeSpec('grpc-test', { kind: 'grpc', target, timeoutMs, grpc });
}

describe('the health service answers', () => {
  test('SERVING for the server as a whole passes, with the call and its timings', async () => {
    const out = await runProbe(spec(health.address));
    expect(out).toMatchObject({ ok: true, reason: null, message: null, grpc: { code: 'OK', servingStatus: 'SERVING' } });
    expect(out.timings.connect).toBeGreaterThanOrEqual(0);
    expect(out.latencyMs).toBe(out.timings.total);
    expect(health.calls.at(-1)).toMatchObject({ service: '', authority: health.address });
  });

  test('a named service is asked for by name', async () => {
    const out = await probeGrpc(spec(health.address, { service: 'svc.Up' }));
    expect(out).toMatchObject({ ok: true, grpc: { servingStatus: 'SERVING' } });
    expect(health.calls.at(-1)?.service).toBe('svc.Up');
  });

  test.each([
    ['svc.Down', 'NOT_SERVING'],
    ['svc.Unknown', 'SERVICE_UNKNOWN'],
    ['svc.Zero', 'UNKNOWN'],
    ['svc.Future', 'UNRECOGNIZED(7)'],
  ])('%s: %s fails with not_serving', async (service, status) => {
    const out = await probeGrpc(spec(health.address, { service }));
    expect(out).toMatchObject({ ok: false, reason: 'not_serving', grpc: { code: 'OK', servingStatus: status } });
    expect(out.message).toBe(`service "${service}" is ${status}, expected SERVING`);
  });

  test('a service the health service does not know (NOT_FOUND) is not_serving', async () => {
    const out = await probeGrpc(spec(health.address, { service: 'svc.Missing' }));
    expect(out).toMatchObject({ ok: false, reason: 'not_serving', grpc: { code: 'NOT_FOUND' } });
    expect(out.message).toMatch(/service "svc.Missing" is unknown to the health service \(NOT_FOUND\)/);
  });

  test.each([
    ['svc.Truncated', /truncated varint/],
    ['svc.Group', /wire type 3/],
  ])('%s: a response that is not a HealthCheckResponse is protocol', async (service, problem) => {
    const out = await probeGrpc(spec(health.address, { service }));
    expect(out).toMatchObject({ ok: false, reason: 'protocol', grpc: { code: 'OK' } });
    expect(out.message).toMatch(problem);
  });

  test('a response over 4 KiB is refused: too_large', async () => {
    const out = await probeGrpc(spec(health.address, { service: 'svc.Huge' }));
    expect(out).toMatchObject({ ok: false, reason: 'too_large', grpc: { code: 'RESOURCE_EXHAUSTED' } });
    expect(out.message).toMatch(/larger than 4096 bytes/);
  });
});

describe('the call fails', () => {
  test('a server without the health service: protocol, UNIMPLEMENTED', async () => {
    const out = await probeGrpc(spec(bare.address));
    expect(out).toMatchObject({ ok: false, reason: 'protocol', grpc: { code: 'UNIMPLEMENTED' } });
    expect(out.message).toMatch(/does not implement grpc\.health\.v1\.Health\/Check/);
  });

  test('a closed port is refused', async () => {
    const port = await closedPort();
    const out = await probeGrpc(spec(`127.0.0.1:${port}`));
    expect(out).toMatchObject({ ok: false, reason: 'refused', message: `connection refused by 127.0.0.1:${port}`, grpc: { code: 'UNAVAILABLE' } });
  });

  test('a TCP server that never speaks HTTP/2 is a timeout at the deadline', async () => {
    const out = await probeGrpc(spec(`127.0.0.1:${(silent.address() as net.AddressInfo).port}`, {}, 300));
    expect(out).toMatchObject({ ok: false, reason: 'timeout', message: 'timed out after 300 ms' });
  });

  test("the runner's signal stops the probe at once", async () => {
    const controller = new AbortController();
    const running = probeGrpc(spec(`127.0.0.1:${(silent.address() as net.AddressInfo).port}`, {}, 60_000), controller.signal);
    controller.abort();
    expect(await running).toMatchObject({ ok: false, reason: 'error', message: 'aborted' });
  });

  test('plaintext against a TLS server: no HTTP/2, protocol', async () => {
    const out = await probeGrpc(spec(secure.address));
    expect(out).toMatchObject({ ok: false, reason: 'protocol', grpc: { code: 'UNAVAILABLE' } });
    expect(out.message).toMatch(/no HTTP\/2 connection with 127\.0\.0\.1:\d+/);
  });
});

describe('TLS', () => {
  test('a self-signed certificate fails verification: tls, with its code', async () => {
    const out = await probeGrpc(spec(secure.address, { tls: {} }));
    expect(out).toMatchObject({ ok: false, reason: 'tls' });
    expect(out.message).toMatch(/DEPTH_ZERO_SELF_SIGNED_CERT/);
    expect(secure.calls).toHaveLength(0);
  });

  test('verify false accepts it, and the result carries its expiry', async () => {
    const out = await probeGrpc(spec(secure.address, { tls: { verify: false, servername: 'localhost' } }));
    expect(out).toMatchObject({ ok: true, grpc: { servingStatus: 'SERVING' } });
    expect(out.timings.tls).toBeGreaterThanOrEqual(0);
    expect(out.cert?.daysLeft).toBeGreaterThan(29);
    expect(out.cert?.daysLeft).toBeLessThanOrEqual(30);
  });

  test('tls.ca: the check trusts its own anchor (here the self-signed certificate itself) and verifies', async () => {
    const out = await probeGrpc(spec(secure.address, { tls: { ca: secureCert.cert } }));
    expect(out).toMatchObject({ ok: true, grpc: { servingStatus: 'SERVING' } });
  });

  test('tls.minDaysLeft beyond the certificate: cert_expiry', async () => {
    const out = await probeGrpc(spec(secure.address, { tls: { verify: false, minDaysLeft: 60 } }));
    expect(out).toMatchObject({ ok: false, reason: 'cert_expiry', grpc: { servingStatus: 'SERVING' } });
  });

  test('TLS against a plaintext server: tls', async () => {
    const out = await probeGrpc(spec(health.address, { tls: { verify: false } }));
    expect(out).toMatchObject({ ok: false, reason: 'tls' });
  });
});

describe('the address policy and the resolver', () => {
  const denying: ProbeEnv = { ...DIRECT_PROBE_ENV, policy: buildAddressPolicy({ deny: ['127.0.0.0/8'] }) };

  test('a denied address is never called', async () => {
    const before = health.calls.length;
    const out = await probeGrpc(spec(health.address), undefined, denying);
    expect(out).toMatchObject({ ok: false, reason: 'denied' });
    expect(out.message).toMatch(/127\.0\.0\.1:\d+ is denied: LOOKOUT_TARGET_DENY: 127\.0\.0\.0\/8/);
    expect(out.grpc).toBeUndefined();
    expect(health.calls.length).toBe(before);
  });

  test('a host name is decided on the addresses it resolves to', async () => {
    const before = health.calls.length;
    const out = await probeGrpc(spec(`health.internal:${health.port}`), undefined, { ...denying, lookup: async () => ['127.0.0.1'] });
    expect(out).toMatchObject({ ok: false, reason: 'denied' });
    expect(out.message).toMatch(/^health\.internal → 127\.0\.0\.1:\d+ is denied/);
    expect(health.calls.length).toBe(before);
  });

  test('an allowed name is dialled by address, called with the name as :authority and the node as user-agent', async () => {
    const env: ProbeEnv = { ...DIRECT_PROBE_ENV, lookup: async () => ['127.0.0.1'], userAgent: 'lookout/test (node n1)' };
    const out = await probeGrpc(spec(`health.internal:${health.port}`), undefined, env);
    expect(out).toMatchObject({ ok: true });
    expect(out.timings.dns).toBeGreaterThanOrEqual(0);
    expect(health.calls.at(-1)).toMatchObject({ authority: `health.internal:${health.port}`, userAgent: expect.stringMatching(/^lookout\/test \(node n1\)/) });
  });

  test('an address that refuses is skipped for the next one the name resolved to', async () => {
    const env: ProbeEnv = { ...DIRECT_PROBE_ENV, lookup: async () => ['127.0.0.2', '127.0.0.1'] };
    const out = await probeGrpc(spec(`health.internal:${health.port}`), undefined, env);
    expect(out).toMatchObject({ ok: true, grpc: { servingStatus: 'SERVING' } });
  });
});
