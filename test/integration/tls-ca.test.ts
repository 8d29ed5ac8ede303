// A check's own trust anchors (`tls.ca`) on real local servers whose chain the test makes (openssl,
// test/helpers/certs.ts: a leaf for 127.0.0.1 signed by a fresh CA): trusted through the spec's CA
// on both HTTP paths, with a reused connection and on tcp with tls; refused (`tls`) with the
// node's trust store or another CA. Specs go through validateSpec first, as spec.put takes them.
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { leanEligible, probeHttpLean } from '../../checks/http-lean';
import { HttpClientPool } from '../../checks/http-pool';
import { probeHttp } from '../../checks/http-probe';
import type { ProbeOutcome } from '../../checks/outcome';
import { DIRECT_PROBE_ENV } from '../../checks/probe-env';
import { normalizeSpec, type HttpOptions, type NormalizedSpec, type TcpOptions } from '../../checks/spec';
import { probeTcp } from '../../checks/tcp-probe';
import { validateSpec } from '../../checks/validate';
import { certExpiringIn, type TestCert } from '../helpers/certs';
import { startRawHttpTarget, type RawHttpTarget } from '../helpers/raw-http-target';

let signed: TestCert;
let otherCa: string;
let web: RawHttpTarget;
let tcpServer: tls.Server;

beforeAll(async () => {
  const [a, b] = await Promise.all([certExpiringIn(30, 30), certExpiringIn(30, 30)]);
  signed = a;
  otherCa = b.ca!;
  web = await startRawHttpTarget(signed);
  web.set('/', ['HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok']);
  tcpServer = tls.createServer({ key: signed.key, cert: signed.cert }, (s) => s.on('error', () => {}).end('hello\n')).on('tlsClientError', () => {});
  await new Promise<void>((resolve) => tcpServer.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await web?.close();
  await new Promise((resolve) => tcpServer?.close(resolve));
});

/** The spec as spec.put takes it: validated, then normalized. */
function accepted(doc: object): NormalizedSpec {
  const r = validateSpec(doc, 'ca-test');
  if (!r.ok) throw new Error(`refused: ${JSON.stringify(r.error)}`);
  return normalizeSpec('ca-test', r.spec);
}
const http = (h: HttpOptions = {}) => accepted({ kind: 'http', target: `${web.url}/`, timeoutMs: 3000, http: h });
const verdict = (o: ProbeOutcome) => ({ ok: o.ok, reason: o.reason });

describe('https, on the undici and the lean path alike', () => {
  const both = async (spec: NormalizedSpec) => {
    expect(leanEligible(spec)).toBe(true);
    return [await probeHttp(spec, undefined, DIRECT_PROBE_ENV), await probeHttpLean(spec, undefined, DIRECT_PROBE_ENV)].map(verdict);
  };

  test('the spec\'s CA verifies the chain', async () => {
    expect(await both(http({ tls: { ca: signed.ca! } }))).toEqual([{ ok: true, reason: null }, { ok: true, reason: null }]);
  });

  test('the node\'s trust store does not know the CA: tls', async () => {
    expect(await both(http())).toEqual([{ ok: false, reason: 'tls' }, { ok: false, reason: 'tls' }]);
  });

  test('another CA does not verify it: tls (the spec\'s CA replaces the trust store, it does not add to it)', async () => {
    expect(await both(http({ tls: { ca: otherCa } }))).toEqual([{ ok: false, reason: 'tls' }, { ok: false, reason: 'tls' }]);
  });

  test('both CAs in one bundle: verified', async () => {
    expect(await both(http({ tls: { ca: otherCa + signed.ca! } }))).toEqual([{ ok: true, reason: null }, { ok: true, reason: null }]);
  });

  test('a reused connection is pooled per CA: a check whose CA changes connects anew and is judged by the new one', async () => {
    const pool = new HttpClientPool();
    const env = { ...DIRECT_PROBE_ENV, httpPool: pool };
    try {
      const good = http({ reuseConnection: true, tls: { ca: signed.ca! } });
      expect(verdict(await probeHttp(good, undefined, env))).toEqual({ ok: true, reason: null });
      expect(verdict(await probeHttp(http({ reuseConnection: true, tls: { ca: otherCa } }), undefined, env))).toEqual({ ok: false, reason: 'tls' });
    } finally {
      await pool.close();
    }
  });
});

describe('tcp with tls', () => {
  const tcp = (t: TcpOptions) => accepted({ kind: 'tcp', target: `127.0.0.1:${(tcpServer.address() as AddressInfo).port}`, timeoutMs: 3000, tcp: t });

  test('the spec\'s CA verifies; another CA does not', async () => {
    expect(verdict(await probeTcp(tcp({ tls: { ca: signed.ca! }, expect: 'hello' }), undefined, DIRECT_PROBE_ENV))).toEqual({ ok: true, reason: null });
    expect(verdict(await probeTcp(tcp({ tls: { ca: otherCa } }), undefined, DIRECT_PROBE_ENV))).toEqual({ ok: false, reason: 'tls' });
  });
});
