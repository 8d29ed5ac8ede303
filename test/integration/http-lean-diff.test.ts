// The lean HTTP probe (checks/http-lean.ts) against the undici probe (checks/http-probe.ts) on the
// same corpus of raw responses from a real local server: for every answer both must give the same
// verdict, the same failure reason and the same status code (and the same message, except where
// the parsers put a protocol error in their own words). Then what the lean path must keep besides:
// the address policy at connect, the deadline and the caller's abort. The rows of issue 16 (1xx
// before the answer, bodies cut short) also have the verdict both must give (EXPECTED).
import { buildAddressPolicy } from '../../checks/address-policy';
import { leanEligible, probeHttpLean } from '../../checks/http-lean';
import { probeHttp } from '../../checks/http-probe';
import type { ProbeOutcome } from '../../checks/outcome';
import { closeProbeEnv, DIRECT_PROBE_ENV, type ProbeEnv } from '../../checks/probe-env';
import { normalizeSpec, type HttpOptions } from '../../checks/spec';
import { startRawHttpTarget, type RawHttpTarget, type RawStep } from '../helpers/raw-http-target';
import { closedPort, selfSignedCert } from '../helpers/targets';
import { stopSwitches } from '../helpers/stop-switches';

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
const big = (n: number): string => 'x'.repeat(n);

/** name → the server's answer (and the spec's http options, timeout). */
const CORPUS: [string, RawStep[], HttpOptions?, number?][] = [
  ['plain 200', [OK]],
  ['chunked', ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n']],
  ['no content-length (close-delimited)', ['HTTP/1.1 200 OK\r\n\r\nsome body', 'end']],
  ['connection: close', ['HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok', 'end']],
  ['HTTP/1.0', ['HTTP/1.0 200 OK\r\n\r\nok', 'end']],
  ['103 then 200', ['HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n', OK]],
  ['102 then 200 in one write', ['HTTP/1.1 102 Processing\r\n\r\n' + OK]],
  // Interim responses: skipped by both (RFC 9110 §15.2), undici through checks/http-interim.ts.
  ['100 then 200', ['HTTP/1.1 100 Continue\r\n\r\n', OK]],
  ['100 and 200 in one write', ['HTTP/1.1 100 Continue\r\n\r\n' + OK]],
  ['two 100s, split mid-line', ['HTTP/1.1 100 Cont', 'inue\r\n\r\nHTTP/1.1 100 Continue\r\n', '\r\n', OK]],
  ['100 then a 503', ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 503 Unavailable\r\ncontent-length: 0\r\n\r\n']],
  ['100 then chunked', ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n']],
  ['100 then closed', ['HTTP/1.1 100 Continue\r\n\r\n', 'end']],
  ['100 then nothing past the timeout', ['HTTP/1.1 100 Continue\r\n\r\n', 'hold'], {}, 300],
  // Bodies: read to their declared end (or past maxBodyBytes); cut short is `reset`.
  ['chunked split across writes, extensions and trailers', ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2;x=y\r', '\nok\r\n0\r\nx-t: 1\r\n', '\r\n']],
  ['chunked cut after a chunk', ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n', 'end']],
  ['chunked cut, connection: close', ['HTTP/1.1 200 OK\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n', 'end']],
  ['chunked without its final empty line', ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n', 'end']],
  ['chunked never finished, past the timeout', ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n', 'hold'], {}, 300],
  ['chunked, gzip (ends at the close)', ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, gzip\r\n\r\nabc', 'end']],
  ['content-length cut, connection: close', ['HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 10\r\n\r\nok', 'end']],
  ['content-length cut, HTTP/1.0', ['HTTP/1.0 200 OK\r\ncontent-length: 10\r\n\r\nok', 'end']],
  ['content-length cut, reset', ['HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nok', 'reset']],
  ['content-length never finished, past the timeout', ['HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nok', 'hold'], {}, 300],
  ['body over maxBodyBytes, then cut', [`HTTP/1.1 200 OK\r\ncontent-length: 70000\r\n\r\n${big(2000)}`, 'end'], { maxBodyBytes: 1024 }],
  ['body cut, maxBodyBytes 0 (not read)', ['HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nok', 'end'], { maxBodyBytes: 0 }],
  ['cut body on a 503: the status decides', ['HTTP/1.1 503 Unavailable\r\ncontent-length: 10\r\n\r\nok', 'end']],
  ['204 with a content-length and no body', ['HTTP/1.1 204 No Content\r\ncontent-length: 10\r\n\r\n', 'hold']],
  ['malformed: chunk size with a space', ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2 \r\nok\r\n0\r\n\r\n']],
  ['malformed: chunk longer than its size', ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nokX\r\n0\r\n\r\n']],
  ['101 not asked for (protocol: Lookout hangs up)', ['HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n', 'hold'], {}, 500],
  ['204', ['HTTP/1.1 204 No Content\r\n\r\n']],
  ['304', ['HTTP/1.1 304 Not Modified\r\netag: "x"\r\n\r\n']],
  ['304 expected', ['HTTP/1.1 304 Not Modified\r\n\r\n'], { expectStatus: [304] }],
  ['500', ['HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n']],
  ['301 not followed', ['HTTP/1.1 301 Moved Permanently\r\nlocation: /elsewhere\r\ncontent-length: 0\r\n\r\n']],
  ['status without reason', ['HTTP/1.1 200\r\ncontent-length: 0\r\n\r\n']],
  ['HEAD with a content-length and no body', ['HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n', 'hold'], { method: 'HEAD' }],
  ['headers split across writes', ['HTTP/1.1 200 OK\r\nconte', 'nt-length: 2\r\nx-a: b', '\r\n', '\r\nok']],
  ['status line split mid-way', ['HTTP/1.', '1 2', '03 Partial', ' Info\r\n\r\n']],
  ['one byte at a time', [...'HTTP/1.1 200 OK\r\nx: y\r\n\r\n']],
  ['body over maxBodyBytes', [`HTTP/1.1 200 OK\r\ncontent-length: 70000\r\n\r\n${big(70_000)}`], { maxBodyBytes: 1024 }],
  ['content-length longer than the body (reset)', ['HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nok', 'end']],
  ['malformed: four-digit status', ['HTTP/1.1 2000 OK\r\n\r\n']],
  ['malformed: two-digit status', ['HTTP/1.1 20 OK\r\n\r\n']],
  ['malformed: letters for status', ['HTTP/1.1 abc OK\r\n\r\n']],
  ['malformed: HTTX', ['HTTX/1.1 200 OK\r\n\r\n']],
  ['malformed: version 1.2', ['HTTP/1.2 200 OK\r\n\r\n']],
  ['malformed: version 2.0', ['HTTP/2.0 200 OK\r\n\r\n']],
  ['malformed: no space after version', ['HTTP/1.1200 OK\r\n\r\n']],
  ['malformed: garbage', ['hello there\r\n\r\n']],
  ['malformed: lower-case http', ['http/1.1 200 OK\r\n\r\n']],
  ['malformed: tab after the status', ['HTTP/1.1 200\tOK\r\n\r\n']],
  ['CR LF before the status line (skipped)', ['\r\n', OK]],
  ['version 0.9 (accepted)', ['HTTP/0.9 200 OK\r\n\r\n']],
  ['control bytes in the reason (accepted)', ['HTTP/1.1 200 O\x00\x01K\r\n\r\n']],
  ['status 600', ['HTTP/1.1 600 Odd\r\n\r\n']],
  ['malformed: transfer-encoding with content-length', ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 2\r\n\r\n2\r\nok\r\n0\r\n\r\n']],
  ['malformed: content-length past 64 bits', ['HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999999\r\n\r\nok']],
  ['malformed: CR without LF ending the head', ['HTTP/1.1 200 OK\r\nx: y\r\n\rX']],
  ['malformed: bare LF line ends', ['HTTP/1.1 200 OK\ncontent-length: 0\n\n']],
  ['malformed: space in a header name', ['HTTP/1.1 200 OK\r\nbad header: x\r\n\r\n']],
  ['malformed: control byte in a value', ['HTTP/1.1 200 OK\r\nx: a\x01b\r\n\r\n']],
  ['malformed: header without colon', ['HTTP/1.1 200 OK\r\nnocolon\r\n\r\n']],
  ['malformed: obs-fold', ['HTTP/1.1 200 OK\r\nx: a\r\n  b\r\n\r\n']],
  ['malformed: content-length not a number', ['HTTP/1.1 200 OK\r\ncontent-length: abc\r\n\r\n']],
  ['malformed: two content-lengths', ['HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok']],
  ['oversized header (one)', [`HTTP/1.1 200 OK\r\nx-big: ${big(20_000)}\r\n\r\n`]],
  ['oversized headers (many)', [`HTTP/1.1 200 OK\r\n${Array.from({ length: 400 }, (_, i) => `x-h${i}: ${big(50)}\r\n`).join('')}\r\n`]],
  ['oversized headers, never finished', [`HTTP/1.1 200 OK\r\nx-big: ${big(20_000)}`, 'hold'], {}, 500],
  ['slow headers past the timeout', ['HTTP/1.1 200 OK\r\n', 'hold'], {}, 300],
  ['no answer past the timeout', ['hold'], {}, 300],
  ['closed without an answer', ['end']],
  ['closed mid status line', ['HTTP/1.1 2', 'end']],
  ['closed mid headers', ['HTTP/1.1 200 OK\r\nx: y\r\n', 'end']],
  ['reset without an answer', ['reset']],
  ['reset mid headers', ['HTTP/1.1 200 OK\r\nx: y\r\n', 'reset']],
];

let target: RawHttpTarget;
beforeAll(async () => {
  target = await startRawHttpTarget();
  for (const [name, steps] of CORPUS) target.set(`/${encodeURIComponent(name)}`, steps);
});
afterAll(async () => {
  await target.close();
  await closeProbeEnv(DIRECT_PROBE_ENV);
});

function spec(url: string, http: HttpOptions = {}, timeoutMs = 2000) {
  return normalizeSpec('lean-diff', { kind: 'http', target: url, timeoutMs, http });
}

/** What must agree; the message too, but for protocol errors (each parser words its own). */
function verdict(o: ProbeOutcome): Partial<ProbeOutcome> {
  return { ok: o.ok, reason: o.reason, httpStatus: o.httpStatus, ...(o.reason === 'protocol' ? {} : { message: o.message }) };
}

/** The verdict some rows must have (both paths, as they agree): the cases issue 16 is about. */
const EXPECTED: Record<string, Partial<ProbeOutcome>> = {
  '100 then 200': { ok: true, httpStatus: 200 },
  '100 and 200 in one write': { ok: true, httpStatus: 200 },
  'two 100s, split mid-line': { ok: true, httpStatus: 200 },
  '100 then chunked': { ok: true, httpStatus: 200 },
  '100 then closed': { ok: false, reason: 'reset' },
  '101 not asked for (protocol: Lookout hangs up)': { ok: false, reason: 'protocol', message: expect.stringContaining('no upgrade was asked for; Lookout closed the connection') },
  'content-length longer than the body (reset)': { ok: false, reason: 'reset', message: expect.stringContaining('before the end of the response body') },
  'chunked cut after a chunk': { ok: false, reason: 'reset', message: expect.stringContaining('before the end of the response body') },
  'chunked cut, connection: close': { ok: false, reason: 'reset' },
  'chunked without its final empty line': { ok: false, reason: 'reset' },
  'content-length cut, connection: close': { ok: false, reason: 'reset' },
  'content-length cut, HTTP/1.0': { ok: false, reason: 'reset' },
  'content-length cut, reset': { ok: false, reason: 'reset' },
  'chunked never finished, past the timeout': { ok: false, reason: 'timeout' },
  'body over maxBodyBytes, then cut': { ok: true },
  'body cut, maxBodyBytes 0 (not read)': { ok: true },
  'malformed: chunk size with a space': { ok: false, reason: 'protocol' },
};

// Every row in full: jest takes a callback with more parameters than its row has for a `done` test.
const ROWS = CORPUS.map(([name, steps, http, timeoutMs]) => [name, steps, http ?? {}, timeoutMs ?? 2000] as const);

describe('the lean path answers as undici does', () => {
  test.each(ROWS)('%s', async (name, _steps, http, timeoutMs) => {
    const s = spec(`${target.url}/${encodeURIComponent(name)}`, http, timeoutMs);
    expect(leanEligible(s)).toBe(true);
    const undici = await probeHttp(s, undefined, DIRECT_PROBE_ENV);
    const lean = await probeHttpLean(s, undefined, DIRECT_PROBE_ENV);
    expect(verdict(lean)).toEqual(verdict(undici));
    expect(lean.bodyBytes).toBeUndefined();
    if (EXPECTED[name]) expect(lean).toMatchObject(EXPECTED[name]);
  });

  // The one difference known: undici trips over its own assertion on a status under 100.
  test('a status under 100: protocol (undici: an internal assertion, `error`)', async () => {
    target.set('/099', ['HTTP/1.1 099 Low\r\n\r\n']);
    const s = spec(`${target.url}/099`);
    expect(await probeHttp(s, undefined, DIRECT_PROBE_ENV)).toMatchObject({ ok: false, reason: 'error', message: expect.stringContaining('statusCode >= 100') });
    expect(await probeHttpLean(s, undefined, DIRECT_PROBE_ENV)).toMatchObject({ ok: false, reason: 'protocol' });
  });

  test('connection refused', async () => {
    const s = spec(`http://127.0.0.1:${await closedPort()}/`);
    const [undici, lean] = [await probeHttp(s, undefined, DIRECT_PROBE_ENV), await probeHttpLean(s, undefined, DIRECT_PROBE_ENV)];
    expect(lean.reason).toBe('refused');
    expect(verdict(lean)).toEqual(verdict(undici));
  });
});

describe('what the lean path keeps', () => {
  test('the address policy decides before connecting: a denied address sees no connection', async () => {
    const env: ProbeEnv = { ...DIRECT_PROBE_ENV, policy: buildAddressPolicy({ deny: ['127.0.0.0/8'] }) };
    const s = spec(`${target.url}/${encodeURIComponent('plain 200')}`);
    const before = target.connections();
    const [undici, lean] = [await probeHttp(s, undefined, env), await probeHttpLean(s, undefined, env)];
    expect(lean).toMatchObject({ ok: false, reason: 'denied' });
    expect(verdict(lean)).toEqual(verdict(undici));
    expect(target.connections()).toBe(before);
  });

  test('a host name resolves through the env lookup and the policy sees its addresses', async () => {
    const env: ProbeEnv = { ...DIRECT_PROBE_ENV, lookup: async () => ['127.0.0.1'], policy: buildAddressPolicy({ deny: ['127.0.0.1/32'] }) };
    const s = spec(`${target.url.replace('127.0.0.1', 'target.test')}/`);
    const [undici, lean] = [await probeHttp(s, undefined, env), await probeHttpLean(s, undefined, env)];
    expect(lean).toMatchObject({ ok: false, reason: 'denied', message: expect.stringContaining('target.test → 127.0.0.1') });
    expect(verdict(lean)).toEqual(verdict(undici));
  });

  test('a lookup still running at the deadline: timeout, as undici', async () => {
    const env: ProbeEnv = { ...DIRECT_PROBE_ENV, lookup: () => new Promise<string[]>(() => {}) };
    const s = spec('http://never.test/', {}, 200);
    const [undici, lean] = [await probeHttp(s, undefined, env), await probeHttpLean(s, undefined, env)];
    expect(lean).toMatchObject({ ok: false, reason: 'timeout', message: 'timed out after 200 ms' });
    expect(verdict(lean)).toEqual(verdict(undici));
  });

  test("the caller's abort stops the probe with `error: aborted`, already aborted or in flight", async () => {
    const s = spec(`${target.url}/${encodeURIComponent('no answer past the timeout')}`, {}, 60_000);
    // An AbortController's signal, and the runners' ProbeStop (no AbortController per probe), alike.
    for (const make of stopSwitches) {
      const done = make();
      done.abort();
      expect(await probeHttpLean(s, done.signal, DIRECT_PROBE_ENV)).toMatchObject({ ok: false, reason: 'error', message: 'aborted' });
      const stop = make();
      const connected = target.connections();
      const running = probeHttpLean(s, stop.signal, DIRECT_PROBE_ENV);
      // Abort once the server has the connection (polling the event loop, not a clock).
      while (target.connections() === connected) await new Promise((r) => setImmediate(r));
      stop.abort();
      expect(await running).toMatchObject({ ok: false, reason: 'error', message: 'aborted' });
    }
  });

  test('HTTPS: the same answers over TLS, the same TLS failure for a certificate that does not verify, the same certificate expiry', async () => {
    const secure = await startRawHttpTarget(await selfSignedCert());
    try {
      secure.set('/', [OK]);
      secure.set('/500', ['HTTP/1.1 500 Oops\r\ncontent-length: 0\r\n\r\n']);
      // selfSignedCert lives one day: a threshold of 2 days is `cert_expiry`, after the status.
      const rows = [['/', false, null, undefined], ['/500', false, 'status', undefined], ['/', true, 'tls', undefined], ['/', false, 'cert_expiry', 2], ['/500', false, 'status', 2]] as const;
      for (const [path, verify, reason, minDaysLeft] of rows) {
        const s = spec(`${secure.url}${path}`, { tls: { verify, ...(minDaysLeft ? { minDaysLeft } : {}) } });
        expect(leanEligible(s)).toBe(true);
        const [undici, lean] = [await probeHttp(s, undefined, DIRECT_PROBE_ENV), await probeHttpLean(s, undefined, DIRECT_PROBE_ENV)];
        expect(lean.reason).toBe(reason);
        if (reason !== 'tls') expect(lean.timings.tls).toEqual(expect.any(Number));
        expect(verdict(lean)).toEqual(verdict(undici));
        expect(lean.cert?.notAfter).toBe(undici.cert?.notAfter);
        if (reason !== 'tls') expect(lean.cert?.notAfter).toEqual(expect.any(String));
      }
    } finally {
      await secure.close();
    }
  });

  test('the request: method, path and query, host, the spec headers and the User-Agent', async () => {
    const seen: string[] = [];
    const net = await import('node:net');
    const server = net.createServer((socket) => {
      socket.once('data', (chunk) => {
        seen.push(chunk.toString('latin1'));
        socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as import('node:net').AddressInfo).port;
    const env: ProbeEnv = { ...DIRECT_PROBE_ENV, userAgent: 'lookout/test' };
    const out = await probeHttpLean(spec(`http://127.0.0.1:${port}/p/q?x=1`, { method: 'HEAD', headers: { 'x-token': 'abc' } }), undefined, env);
    server.close();
    expect(out.ok).toBe(true);
    expect(seen[0]).toBe(`HEAD /p/q?x=1 HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: close\r\nx-token: abc\r\nuser-agent: lookout/test\r\n\r\n`);
  });
});
