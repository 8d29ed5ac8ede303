// TLS certificate expiry on real local servers with certificates the test makes (openssl,
// test/helpers/certs.ts): every TLS result reports the leaf's days left and the chain's earliest
// expiry (`cert`), on both HTTP paths (undici and the lean path, with the same verdict), with a
// reused connection, and on tcp with tls; `tls.minDaysLeft` turns a certificate that expires
// sooner into `cert_expiry`, after the other assertions.
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { certFailure, certInfoOf } from '../../checks/cert-expiry';
import { leanEligible, probeHttpLean } from '../../checks/http-lean';
import { probeHttp } from '../../checks/http-probe';
import type { ProbeOutcome } from '../../checks/outcome';
import { DIRECT_PROBE_ENV, type ProbeEnv } from '../../checks/probe-env';
import { HttpClientPool } from '../../checks/http-pool';
import { normalizeSpec, type HttpOptions, type TcpOptions } from '../../checks/spec';
import { probeTcp } from '../../checks/tcp-probe';
import { certExpiringIn, type TestCert } from '../helpers/certs';
import { startRawHttpTarget, type RawHttpTarget } from '../helpers/raw-http-target';
import { startHttpTarget } from '../helpers/targets';

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
const DAY = 86_400_000;

let oneDay: RawHttpTarget;
let thirtyDays: RawHttpTarget;
let shortCa: RawHttpTarget;
let tcpServer: tls.Server;
let tcpCert: TestCert;

beforeAll(async () => {
  const [c1, c30, chained] = await Promise.all([certExpiringIn(1), certExpiringIn(30), certExpiringIn(30, 2)]);
  [oneDay, thirtyDays, shortCa] = await Promise.all([startRawHttpTarget(c1), startRawHttpTarget(c30), startRawHttpTarget(chained)]);
  for (const t of [oneDay, thirtyDays, shortCa]) {
    t.set('/', [OK]);
    t.set('/500', ['HTTP/1.1 500 Oops\r\ncontent-length: 0\r\n\r\n']);
  }
  tcpCert = c1;
  tcpServer = tls.createServer({ key: c1.key, cert: c1.cert }, (s) => s.on('error', () => {}).end('hello\n')).on('tlsClientError', () => {});
  await new Promise<void>((resolve) => tcpServer.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await Promise.all([oneDay?.close(), thirtyDays?.close(), shortCa?.close()]);
  await new Promise((resolve) => tcpServer?.close(resolve));
});

const http = (url: string, h: HttpOptions = {}) => normalizeSpec('tls-test', { kind: 'http', target: url, timeoutMs: 3000, http: { ...h, tls: { verify: false, ...h.tls } } });
const both = async (url: string, h: HttpOptions = {}): Promise<[ProbeOutcome, ProbeOutcome]> => {
  const s = http(url, h);
  expect(leanEligible(s)).toBe(true);
  return [await probeHttp(s, undefined, DIRECT_PROBE_ENV), await probeHttpLean(s, undefined, DIRECT_PROBE_ENV)];
};
const verdict = (o: ProbeOutcome) => ({ ok: o.ok, reason: o.reason, message: o.message, httpStatus: o.httpStatus, notAfter: o.cert?.notAfter, chainNotAfter: o.cert?.chainNotAfter });

describe('https, on the undici and the lean path alike', () => {
  test('days left are reported on every result, without a threshold too', async () => {
    const [undici, lean] = await both(`${thirtyDays.url}/`);
    for (const o of [undici, lean]) {
      expect(o).toMatchObject({ ok: true, reason: null });
      expect(o.cert!.daysLeft).toBeGreaterThan(29);
      expect(o.cert!.daysLeft).toBeLessThanOrEqual(30);
      expect(o.cert!.chainDaysLeft).toBe(o.cert!.daysLeft);
      expect(Date.parse(o.cert!.notAfter)).toBeGreaterThan(Date.now() + 29 * DAY);
    }
    expect(verdict(lean)).toEqual(verdict(undici));
  });

  test.each<[string, () => RawHttpTarget, string, number, string | null]>([
    ['1 day left, threshold 7', () => oneDay, '/', 7, 'cert_expiry'],
    ['30 days left, threshold 7', () => thirtyDays, '/', 7, null],
    ['30 days left, threshold 31', () => thirtyDays, '/', 31, 'cert_expiry'],
    ['a wrong status comes first', () => oneDay, '/500', 7, 'status'],
    ['leaf 30 days, its CA 2: the chain decides', () => shortCa, '/', 7, 'cert_expiry'],
  ])('%s → %s', async (_what, target, path, minDaysLeft, reason) => {
    const [undici, lean] = await both(`${target().url}${path}`, { tls: { minDaysLeft } });
    expect(lean.reason).toBe(reason);
    expect(verdict(lean)).toEqual(verdict(undici));
    expect(lean.cert).toBeDefined();
    if (reason === 'cert_expiry') expect(lean.message).toMatch(new RegExp(`expires in [0-9.]+ days \\(.*\\); at least ${minDaysLeft} days are required`));
  });

  test('the chain: the leaf has 30 days, the CA it was sent with 2', async () => {
    const [, lean] = await both(`${shortCa.url}/`, { tls: { minDaysLeft: 7 } });
    expect(lean.cert!.daysLeft).toBeGreaterThan(29);
    expect(lean.cert!.chainDaysLeft).toBeGreaterThan(1);
    expect(lean.cert!.chainDaysLeft).toBeLessThanOrEqual(2);
    expect(lean.message).toMatch(/^a certificate of the chain expires in/);
  });

  test('a reused connection reports the certificate of its handshake on every probe', async () => {
    const env: ProbeEnv = { ...DIRECT_PROBE_ENV, httpPool: new HttpClientPool() };
    const keepAlive = await startHttpTarget({ tls: true }); // selfSignedCert: one day
    try {
      const s = http(`${keepAlive.url}/`, { reuseConnection: true, tls: { minDaysLeft: 7 } });
      const first = await probeHttp(s, undefined, env);
      const second = await probeHttp(s, undefined, env);
      expect(keepAlive.requests.map((r) => r.connection)).toEqual([1, 1]); // one connection, one handshake
      expect(second.timings.tls).toBeUndefined();
      for (const o of [first, second]) expect(o).toMatchObject({ ok: false, reason: 'cert_expiry', cert: { notAfter: first.cert!.notAfter } });
    } finally {
      await env.httpPool.close();
      await keepAlive.close();
    }
  });
});

describe('tcp with tls', () => {
  const tcp = (t: TcpOptions) => normalizeSpec('tls-test', { kind: 'tcp', target: `127.0.0.1:${(tcpServer.address() as AddressInfo).port}`, timeoutMs: 3000, tcp: t });

  test('reported, and 1 day left fails a threshold of 7', async () => {
    const out = await probeTcp(tcp({ tls: { verify: false, minDaysLeft: 7 }, expect: 'hello' }));
    expect(out).toMatchObject({ ok: false, reason: 'cert_expiry' });
    expect(out.cert!.daysLeft).toBeGreaterThan(0);
    expect(out.cert!.daysLeft).toBeLessThanOrEqual(1);
  });

  test('without a threshold: passes, with the expiry reported', async () => {
    const out = await probeTcp(tcp({ tls: { verify: false } }));
    expect(out).toMatchObject({ ok: true, cert: { daysLeft: expect.any(Number), notAfter: expect.any(String) } });
    expect(tcpCert.cert).toContain('BEGIN CERTIFICATE');
  });

  test('no TLS, no cert field', async () => {
    const plain = normalizeSpec('tls-test', { kind: 'tcp', target: `127.0.0.1:${(tcpServer.address() as AddressInfo).port}`, timeoutMs: 3000 });
    expect((await probeTcp(plain)).cert).toBeUndefined();
  });
});

describe('certInfoOf and certFailure (pure)', () => {
  const now = Date.parse('2026-12-01T00:00:00Z');
  const cert = (validTo: string) => ({ valid_to: validTo }) as never;

  test('the leaf and the earliest of the chain', () => {
    const info = certInfoOf([cert('Dec 31 00:00:00 2026 GMT'), cert('Dec  3 12:00:00 2026 GMT'), cert('Jan  1 00:00:00 2036 GMT')], now);
    expect(info).toEqual({ daysLeft: 30, notAfter: '2026-12-31T00:00:00.000Z', chainDaysLeft: 2.5, chainNotAfter: '2026-12-03T12:00:00.000Z' });
    expect(certFailure(info!, 3)).toMatchObject({ reason: 'cert_expiry', message: 'a certificate of the chain expires in 2.5 days (2026-12-03T12:00:00.000Z); at least 3 days are required' });
    expect(certFailure(info!, 2)).toBeNull();
    expect(certFailure(info!, undefined)).toBeNull();
  });

  test('expired, unreadable', () => {
    const expired = certInfoOf([cert('Nov 29 00:00:00 2026 GMT')], now);
    expect(certFailure(expired!, 1)?.message).toBe('the certificate expired 2 days ago (2026-11-29T00:00:00.000Z); at least 1 days are required');
    expect(certInfoOf([cert('not a date')], now)).toBeNull();
    expect(certInfoOf([], now)).toBeNull();
  });
});

