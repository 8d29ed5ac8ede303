import net from 'node:net';
import { leanEligible, probeHttpLean } from '../../checks/http-lean';
import { probeHttp } from '../../checks/http-probe';
import { normalizeSpec, type CheckSpec, type HttpOptions } from '../../checks/spec';
import {
  closedPort,
  startDripTarget,
  startHttpTarget,
  startHugeBodyTarget,
  startSilentTarget,
  startTcpTarget,
  type HttpTarget,
  resolverKnowingNothing,
  selfSignedCert,
} from '../helpers/targets';
import { closeProbeEnv, DIRECT_PROBE_ENV } from '../../checks/probe-env';

function httpSpec(target: string, http: HttpOptions = {}, extra: Partial<CheckSpec> = {}) {
  return normalizeSpec(extra.id ?? 'http-test', { kind: 'http', target, timeoutMs: 2000, http, ...extra });
}

const closers: (() => Promise<unknown>)[] = [];
async function started<T extends { close(): Promise<void> }>(target: Promise<T>): Promise<T> {
  const t = await target;
  closers.push(() => t.close());
  return t;
}

let web: HttpTarget;
beforeAll(async () => {
  web = await started(startHttpTarget());
});
afterAll(async () => {
  await closeProbeEnv(DIRECT_PROBE_ENV);
  await Promise.all(closers.map((close) => close()));
});

describe('answers', () => {
  test('a healthy 200 passes, with connect and firstByte timings', async () => {
    const out = await probeHttp(httpSpec(`${web.url}/healthy`));
    expect(out).toMatchObject({ ok: true, reason: null, message: null, httpStatus: 200 });
    expect(out.latencyMs).toBe(out.timings.total);
    expect(out.timings.dns).toBeUndefined(); // IP literal: no lookup
    expect(out.timings.tls).toBeUndefined();
    expect(out.timings.connect).toBeGreaterThanOrEqual(0);
    expect(out.timings.firstByte).toBeGreaterThanOrEqual(out.timings.connect!);
    expect(out.timings.total).toBeGreaterThanOrEqual(out.timings.firstByte!);
    expect(out.bodyBytes).toBeUndefined(); // no body assertion: the body is not read
    expect(web.hits('/healthy')).toBe(1);
  });

  test('expected status set: codes and classes', async () => {
    web.set('/unavailable', { status: 503 });
    web.set('/no-content', { status: 204, body: '' });
    expect(await probeHttp(httpSpec(`${web.url}/unavailable`))).toMatchObject({
      ok: false,
      reason: 'status',
      message: 'expected status 2xx, got 503',
      httpStatus: 503,
    });
    expect((await probeHttp(httpSpec(`${web.url}/unavailable`, { expectStatus: [503] }))).ok).toBe(true);
    expect((await probeHttp(httpSpec(`${web.url}/unavailable`, { expectStatus: ['5xx'] }))).ok).toBe(true);
    expect((await probeHttp(httpSpec(`${web.url}/no-content`, { expectStatus: [200, 204] }))).ok).toBe(true);
    expect(await probeHttp(httpSpec(`${web.url}/no-content`, { expectStatus: [200, '3xx'] }))).toMatchObject({
      reason: 'status',
      message: 'expected status 200, 3xx, got 204',
    });
  });

  test('body substring and regex', async () => {
    web.set('/page', { body: 'service status: GREEN (build 42)' });
    const page = `${web.url}/page`;
    expect(await probeHttp(httpSpec(page, { bodyContains: 'GREEN' }))).toMatchObject({ ok: true, bodyBytes: 32, truncated: false });
    expect(await probeHttp(httpSpec(page, { bodyContains: 'RED' }))).toMatchObject({ reason: 'body', message: 'body does not contain "RED"' });
    expect((await probeHttp(httpSpec(page, { bodyRegex: 'build \\d+\\)$' }))).ok).toBe(true);
    expect(await probeHttp(httpSpec(page, { bodyRegex: '^RED' }))).toMatchObject({ reason: 'body', message: 'body does not match /^RED/' });
  });

  test('JSON-path equality', async () => {
    web.set('/json', { body: JSON.stringify({ status: 'up', checks: [{ name: 'db', ok: true }], meta: { 'v.1': [1, 2] } }) });
    web.set('/not-json', { body: '<html>' });
    const json = `${web.url}/json`;
    const pass = await probeHttp(
      httpSpec(json, {
        json: [
          { path: '$.status', equals: 'up' },
          { path: '$.checks[0]', equals: { ok: true, name: 'db' } },
          { path: '$.meta["v.1"]', equals: [1, 2] },
        ],
      }),
    );
    expect(pass.ok).toBe(true);
    expect(await probeHttp(httpSpec(json, { json: [{ path: '$.status', equals: 'down' }] }))).toMatchObject({
      reason: 'json',
      message: '$.status is "up", expected "down"',
    });
    expect(await probeHttp(httpSpec(json, { json: [{ path: '$.checks[1].ok', equals: true }] }))).toMatchObject({
      reason: 'json',
      message: '$.checks[1].ok is missing, expected true',
    });
    expect(await probeHttp(httpSpec(`${web.url}/not-json`, { json: [{ path: '$', equals: {} }] }))).toMatchObject({
      reason: 'json',
      message: 'body is not valid JSON',
    });
  });

  test('latency bound: fails only when everything else passed', async () => {
    web.set('/slow', { delayMs: 150 });
    expect(await probeHttp(httpSpec(`${web.url}/slow`, { maxLatencyMs: 50 }))).toMatchObject({ ok: false, reason: 'latency' });
    expect((await probeHttp(httpSpec(`${web.url}/slow`, { maxLatencyMs: 1500 }))).ok).toBe(true);
    web.set('/slow-error', { delayMs: 150, status: 500 });
    expect((await probeHttp(httpSpec(`${web.url}/slow-error`, { maxLatencyMs: 50 }))).reason).toBe('status');
  });

  test('method, headers and body are sent', async () => {
    const before = web.requests.length;
    const out = await probeHttp(
      httpSpec(`${web.url}/submit?x=1`, { method: 'POST', headers: { 'x-probe': 'lookout', 'content-type': 'text/plain' }, body: 'ping' }),
    );
    expect(out.ok).toBe(true);
    const seen = web.requests[before]!;
    expect(seen).toMatchObject({ method: 'POST', url: '/submit?x=1', body: 'ping' });
    expect(seen.headers).toMatchObject({ 'x-probe': 'lookout', 'content-type': 'text/plain', 'content-length': '4' });
  });

  test('HEAD', async () => {
    expect(await probeHttp(httpSpec(`${web.url}/head`, { method: 'HEAD' }))).toMatchObject({ ok: true, httpStatus: 200 });
    expect(web.requests.at(-1)).toMatchObject({ method: 'HEAD', url: '/head' });
  });
});

describe('redirects', () => {
  beforeAll(() => {
    web.set('/moved', { status: 301, headers: { location: '/r1' } });
    web.set('/r1', { status: 302, headers: { location: 'r2?step=2' } }); // relative to /r1
    web.set('/r2', { status: 307, headers: { location: `${web.url}/final` } }); // absolute
    web.set('/final', { body: 'arrived' });
    web.set('/no-location', { status: 302 });
    web.set('/see-other', { status: 303, headers: { location: '/final' } });
  });

  test('off by default: the 3xx is the answer', async () => {
    expect(await probeHttp(httpSpec(`${web.url}/moved`))).toMatchObject({ reason: 'status', message: 'expected status 2xx, got 301', httpStatus: 301 });
    const hits = web.hits('/r1');
    expect(await probeHttp(httpSpec(`${web.url}/moved`, { expectStatus: [301] }))).toMatchObject({ ok: true, httpStatus: 301 });
    expect(web.hits('/r1')).toBe(hits);
  });

  test('followed (relative and absolute), each hop on a new connection', async () => {
    const connections = web.connections;
    const out = await probeHttp(httpSpec(`${web.url}/moved`, { maxRedirects: 3, bodyContains: 'arrived' }));
    expect(out).toMatchObject({ ok: true, httpStatus: 200, redirects: 3 });
    expect(web.requests.at(-2)!.url).toBe('/r2?step=2');
    expect(web.connections - connections).toBe(4);
  });

  test('bounded: one hop too many fails with status', async () => {
    expect(await probeHttp(httpSpec(`${web.url}/moved`, { maxRedirects: 2 }))).toMatchObject({
      reason: 'status',
      message: 'too many redirects (more than 2)',
      httpStatus: 307,
      redirects: 2,
    });
  });

  test('a 3xx without Location is the answer', async () => {
    expect(await probeHttp(httpSpec(`${web.url}/no-location`, { maxRedirects: 2, expectStatus: [302] }))).toMatchObject({ ok: true, redirects: 0 });
  });

  test('tls on an http: target applies to the https: hop a redirect leads to', async () => {
    const secure = await started(startHttpTarget({ tls: true })); // a self-signed certificate
    web.set('/to-https', { status: 302, headers: { location: `${secure.url}/landed` } });
    const hits = secure.hits('/landed');
    // Verified by default: the self-signed hop fails; with verify off it passes and counts as over TLS.
    expect(await probeHttp(httpSpec(`${web.url}/to-https`, { maxRedirects: 1 }))).toMatchObject({ ok: false, reason: 'tls', redirects: 1 });
    expect(await probeHttp(httpSpec(`${web.url}/to-https`, { maxRedirects: 1, requireTls: true, tls: { verify: false } }))).toMatchObject({ ok: true, httpStatus: 200, redirects: 1 });
    expect(secure.hits('/landed') - hits).toBe(1);
  });

  test('303 after POST continues as a GET without body', async () => {
    const before = web.requests.length;
    const out = await probeHttp(httpSpec(`${web.url}/see-other`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' }, maxRedirects: 1 }));
    expect(out).toMatchObject({ ok: true, redirects: 1 });
    expect(web.requests[before + 1]).toMatchObject({ method: 'GET', url: '/final', body: '' });
    expect(web.requests[before + 1]!.headers['content-type']).toBeUndefined();
  });
});

describe('connections', () => {
  test('a fresh connection per probe by default', async () => {
    const before = web.requests.length;
    const connections = web.connections;
    for (let i = 0; i < 3; i++) expect((await probeHttp(httpSpec(`${web.url}/fresh`))).ok).toBe(true);
    const ids = new Set(web.requests.slice(before).map((r) => r.connection));
    expect(ids.size).toBe(3);
    expect(web.connections - connections).toBe(3);
  });

  test('reuseConnection keeps one socket per check until released', async () => {
    const spec = httpSpec(`${web.url}/reused`, { reuseConnection: true }, { id: 'reuser' });
    const before = web.requests.length;
    const connections = web.connections;
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await probeHttp(spec));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(outcomes[0]!.timings.connect).toBeDefined();
    expect(outcomes[2]!.timings.connect).toBeUndefined(); // no connect: the socket was reused
    expect(new Set(web.requests.slice(before).map((r) => r.connection)).size).toBe(1);
    expect(web.connections - connections).toBe(1);

    await DIRECT_PROBE_ENV.httpPool.release('reuser');
    expect((await probeHttp(spec)).timings.connect).toBeDefined();
    expect(web.connections - connections).toBe(2);
  });
});

describe('interim answers on a kept-alive connection', () => {
  test('every answer preceded by 100 Continue (and a 103): each probe passes, on one connection', async () => {
    // A raw server: every request on a connection gets interim heads, then a whole 200.
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      let received = '';
      socket.on('error', () => {});
      socket.on('data', (chunk) => {
        received += chunk.toString('latin1');
        for (let end = received.indexOf('\r\n\r\n'); end >= 0; end = received.indexOf('\r\n\r\n')) {
          received = received.slice(end + 4);
          socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n');
          socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
    for (const http of [{ reuseConnection: true }, { reuseConnection: true, bodyContains: 'ok' }]) {
      const spec = httpSpec(url, http, { id: `interim-${Object.keys(http).length}` });
      for (let i = 0; i < 3; i++) expect(await probeHttp(spec)).toMatchObject({ ok: true, httpStatus: 200 });
    }
    expect(connections).toBe(2);
    await DIRECT_PROBE_ENV.httpPool.release('interim-1');
    await DIRECT_PROBE_ENV.httpPool.release('interim-2');
  });
});

describe('hostile targets', () => {
  // How soon after timeoutMs a probe returns is a benchmark (bench:deadline, BENCHMARKS.md); the
  // tests check what the outcome reports: which deadline stopped it, and in which phase.
  test('a server that accepts and never answers: timeout, after connecting, before any byte', async () => {
    const silent = await started(startSilentTarget());
    const outcome = await probeHttp(httpSpec(`http://${silent.target}/`, {}, { timeoutMs: 300 }));
    expect(outcome).toMatchObject({ ok: false, reason: 'timeout', message: 'timed out after 300 ms' });
    expect(outcome.timings.connect).toBeDefined();
    expect(outcome.timings.firstByte).toBeUndefined();
    expect(outcome.latencyMs).toBe(outcome.timings.total);
    expect(silent.connections).toBe(1);
  });

  test('a body dripping forever: timeout after the headers', async () => {
    const drip = await started(startDripTarget());
    const outcome = await probeHttp(httpSpec(drip.url, { bodyContains: 'never' }, { timeoutMs: 300 }));
    expect(outcome).toMatchObject({ ok: false, reason: 'timeout', message: 'timed out after 300 ms', httpStatus: 200 });
    expect(outcome.timings.firstByte).toBeDefined();
  });

  test('without body assertions a chunked body is still read to its end: one that never ends times out, unless maxBodyBytes is 0', async () => {
    // A truncated response is `reset` (README "Truncated responses"): to know, the body is read.
    const drip = await started(startDripTarget());
    const read = await probeHttp(httpSpec(drip.url, {}, { timeoutMs: 300 }));
    expect(read).toMatchObject({ ok: false, reason: 'timeout', httpStatus: 200 });
    const notRead = await probeHttp(httpSpec(drip.url, { maxBodyBytes: 0 }, { timeoutMs: 300 }));
    expect(notRead).toMatchObject({ ok: true, reason: null, httpStatus: 200 });
    expect(notRead.timings.firstByte).toBeDefined();
    expect(notRead.bodyBytes).toBeUndefined();
  });

  test('a huge body is cut at maxBodyBytes', async () => {
    const huge = await started(startHugeBodyTarget());
    const cap = 64 * 1024;
    const found = await probeHttp(httpSpec(huge.url, { bodyContains: 'xxxx', maxBodyBytes: cap }));
    expect(found).toMatchObject({ ok: true, bodyBytes: cap, truncated: true });
    const missing = await probeHttp(httpSpec(huge.url, { bodyRegex: 'y', maxBodyBytes: cap }));
    expect(missing).toMatchObject({ ok: false, reason: 'too_large', bodyBytes: cap, truncated: true });
    expect(missing.message).toBe(`body does not match /y/ in the first ${cap} bytes (body cut)`);
    expect(await probeHttp(httpSpec(huge.url, { maxBodyBytes: 10 }))).toMatchObject({ ok: true });
  });

  test('connection refused', async () => {
    const port = await closedPort();
    expect(await probeHttp(httpSpec(`http://127.0.0.1:${port}/`))).toMatchObject({
      ok: false,
      reason: 'refused',
      message: `connection refused by 127.0.0.1:${port}`,
    });
  });

  test('an unresolvable host', async () => {
    const out = await probeHttp(httpSpec('http://nope.invalid/'), undefined, { ...DIRECT_PROBE_ENV, lookup: resolverKnowingNothing });
    expect(out).toMatchObject({ ok: false, reason: 'dns' });
    expect(out.message).toMatch(/^cannot resolve nope\.invalid/);
    expect(out.timings.dns).toBeUndefined(); // the lookup did not complete
  });

  test('a peer that is not HTTP: protocol', async () => {
    const garbage = await started(startTcpTarget({ banner: 'SSH-2.0-OpenSSH_9.6\r\n\r\n' }));
    expect((await probeHttp(httpSpec(`http://${garbage.target}/`))).reason).toBe('protocol');
  });

  test('a peer that closes before answering: reset', async () => {
    const closer = await started(startTcpTarget({ closeOnData: true }));
    expect(await probeHttp(httpSpec(`http://${closer.target}/`))).toMatchObject({
      reason: 'reset',
      message: `connection closed by ${closer.target} before a complete response`,
    });
  });

  test('an external abort stops the probe: error "aborted"', async () => {
    // The 5 s deadline did not stop it ("timed out after 5000 ms"): the abort did.
    const silent = await started(startSilentTarget());
    const shutdown = new AbortController();
    const probe = probeHttp(httpSpec(`http://${silent.target}/`, {}, { timeoutMs: 5000 }), shutdown.signal);
    shutdown.abort();
    const outcome = await probe;
    expect(outcome).toMatchObject({ ok: false, reason: 'error', message: 'aborted' });
    expect(await probeHttp(httpSpec(web.url), shutdown.signal)).toMatchObject({ reason: 'error', message: 'aborted' });
  });
});

describe('TLS', () => {
  let secure: HttpTarget;
  beforeAll(async () => {
    secure = await started(startHttpTarget({ tls: true }));
  });

  test('a self-signed certificate fails verification', async () => {
    const out = await probeHttp(httpSpec(secure.url));
    expect(out).toMatchObject({ ok: false, reason: 'tls' });
    expect(out.message).toMatch(/self-signed certificate.*DEPTH_ZERO_SELF_SIGNED_CERT/);
  });

  test('passes with verification off, with a tls timing', async () => {
    const out = await probeHttp(httpSpec(`${secure.url}/x`, { tls: { verify: false } }));
    expect(out).toMatchObject({ ok: true, httpStatus: 200 });
    expect(out.timings.tls).toBeGreaterThan(0);
    expect(out.timings.firstByte).toBeGreaterThanOrEqual(out.timings.connect! + out.timings.tls!);
  });

  test('SNI: the host name by default, none for an IP literal, or the configured servername', async () => {
    const sent = secure.servernames.length;
    await probeHttp(httpSpec(`https://localhost:${secure.port}/`, { tls: { verify: false } }));
    await probeHttp(httpSpec(`${secure.url}/`, { tls: { verify: false } }));
    await probeHttp(httpSpec(`${secure.url}/`, { tls: { verify: false, servername: 'api.example.test' } }));
    expect(secure.servernames.slice(sent)).toEqual(['localhost', false, 'api.example.test']);
  });

  test('a host name is resolved and timed', async () => {
    const out = await probeHttp(httpSpec(`https://localhost:${secure.port}/`, { tls: { verify: false } }));
    expect(out.ok).toBe(true);
    expect(out.timings.dns).toBeGreaterThanOrEqual(0);
  });
});

describe('a virtual host by address (http.host)', () => {
  const both = async (spec: ReturnType<typeof httpSpec>) => {
    expect(leanEligible(spec)).toBe(true);
    return [await probeHttp(spec), await probeHttpLean(spec, undefined, DIRECT_PROBE_ENV)];
  };

  test('the Host header is http.host on both paths; the connection goes to the target', async () => {
    const before = web.requests.length;
    const outcomes = await both(httpSpec(`${web.url}/vhost`, { host: 'status.example.com:8080' }));
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    expect(web.requests.slice(before).map((r) => r.headers.host)).toEqual(['status.example.com:8080', 'status.example.com:8080']);
  });

  test('over TLS its name is the servername the certificate is checked against, unless tls.servername says otherwise', async () => {
    const secure = await started(startHttpTarget({ tls: true })); // CN/SAN localhost and 127.0.0.1
    const { cert } = await selfSignedCert();
    const at = (host: string, servername?: string) => httpSpec(`${secure.url}/`, { host, tls: { ca: cert, ...(servername ? { servername } : {}) } });
    const sni = secure.servernames.length;
    expect((await both(at('localhost'))).map((o) => [o.ok, o.reason])).toEqual([[true, null], [true, null]]);
    expect((await both(at('status.example.com'))).map((o) => [o.ok, o.reason])).toEqual([[false, 'tls'], [false, 'tls']]);
    expect((await both(at('status.example.com', 'localhost'))).map((o) => o.ok)).toEqual([true, true]);
    // An address as the Host sends no SNI (and the certificate is checked against the target's address).
    expect((await both(at('127.0.0.1:443'))).map((o) => o.ok)).toEqual([true, true]);
    // Handshakes the client refused (the name did not match) are not recorded by the server.
    expect(secure.servernames.slice(sni)).toEqual(['localhost', 'localhost', 'localhost', 'localhost', false, false]);
  });

  test('a redirect on the same origin keeps it; one to another origin does not', async () => {
    const other = await started(startHttpTarget());
    web.set('/vhost-same', { status: 302, headers: { location: '/vhost-landed' } });
    web.set('/vhost-away', { status: 302, headers: { location: `${other.url}/elsewhere` } });
    expect((await probeHttp(httpSpec(`${web.url}/vhost-same`, { host: 'status.example.com', maxRedirects: 1 }))).ok).toBe(true);
    expect(web.requests.at(-1)).toMatchObject({ url: '/vhost-landed', headers: { host: 'status.example.com' } });
    expect((await probeHttp(httpSpec(`${web.url}/vhost-away`, { host: 'status.example.com', maxRedirects: 1 }))).ok).toBe(true);
    expect(other.requests.at(-1)!.headers.host).toBe(other.url.replace('http://', ''));
  });
});
