// Lookout against the cases of prometheus/blackbox_exporter's prober tests (prober/http_test.go,
// prober/tcp_test.go): each row names the Go test function it mirrors, the server's answer as raw
// bytes (test/helpers/raw-http-target.ts), the spec that says what the blackbox module said, and
// the verdict. Rows marked "Go net/http" have no blackbox test of their own: they are what Go's
// client (and so every blackbox probe) does with those bytes. Every HTTP row runs on both paths —
// runProbe (the lean path where the spec allows it) and undici — which must agree.
// Documented differences from blackbox (README "Truncated responses and interim (1xx) answers")
// are rows too, with the blackbox verdict written beside Lookout's.
import http from 'node:http';
import net from 'node:net';
import { probeHttp } from '../../checks/http-probe';
import type { ProbeOutcome } from '../../checks/outcome';
import { runProbe } from '../../checks/probe';
import { closeProbeEnv, DIRECT_PROBE_ENV } from '../../checks/probe-env';
import { normalizeSpec, type HttpOptions } from '../../checks/spec';
import { probeTcp } from '../../checks/tcp-probe';
import { startRawHttpTarget, type RawHttpTarget, type RawStep } from '../helpers/raw-http-target';
import { closedPort } from '../helpers/targets';
import { certExpiringIn } from '../helpers/certs';
import { startLineServer } from '../helpers/line-server';

/** A whole response with a Content-Length; `headers` as [name, value] pairs (a name may repeat). */
function answer(status: number, headers: [string, string][] = [], body = ''): string {
  const lines = headers.map(([n, v]) => `${n}: ${v}\r\n`).join('');
  return `HTTP/1.1 ${status} X\r\n${lines}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
const OK = answer(200);
const DB = 'Bad news: could not connect to database server';
const ct = (v: string): [string, string][] => [['Content-Type', v]];
const cookies: [string, string][] = [
  ['Set-Cookie', 'zz=4; expires=Mon, 01-Jan-1990 00:00:00 GMT; Domain=www.example.com; Path=/'],
  ['Set-Cookie', 'gid=1; Expires=Tue, 19-Mar-2019 20:08:29 GMT; Domain=.example.com; Path=/'],
];
const COOKIE_RE = '.*Domain=\\.example\\.com.*';

type Expect = Partial<Pick<ProbeOutcome, 'ok' | 'reason' | 'message'>>;
const pass: Expect = { ok: true };
const failed = (reason: string, message?: string): Expect => ({ ok: false, reason: reason as ProbeOutcome['reason'], ...(message ? { message } : {}) });

/** [blackbox test, case, the server's answer, the spec's http options, Lookout's verdict] */
const HTTP_ROWS: [string, string, RawStep[], HttpOptions, Expect][] = [
  ['TestHTTPStatusCodes', '200, default 2xx', [OK], {}, pass],
  ['TestHTTPStatusCodes', '300, default 2xx', [answer(300)], {}, failed('status', 'expected status 2xx, got 300')],
  ['TestHTTPStatusCodes', '404 in [200, 404]', [answer(404)], { expectStatus: [200, 404] }, pass],
  ['TestHTTPStatusCodes', '201 not in [200, 404]', [answer(201)], { expectStatus: [200, 404] }, failed('status')],
  ['TestContentLength', 'a body of its content-length, no assertion', [answer(200, [], 'hello world'.repeat(10))], {}, pass],
  ['TestContentLength', '404 with a body', [answer(404, [], 'not found')], {}, failed('status')],
  ['TestMaxResponseLength', 'short: under the limit', [answer(200, [], 'A'.repeat(127))], { maxBodyBytes: 128 }, pass],
  // blackbox fails a body over body_size_limit; Lookout reads no further and judges what it kept.
  ['TestMaxResponseLength', 'long: over the limit (blackbox: failure; documented difference)', [answer(200, [], 'A'.repeat(129))], { maxBodyBytes: 128 }, pass],
  ['TestRedirectNotFollowed', '302 expected, not followed', [answer(302, [['Location', '/noredirect']])], { expectStatus: [302] }, pass],
  ['TestFailIfNotSSL', 'requireTls, the final response over http', [OK], { requireTls: true, maxRedirects: 1 }, failed('tls')],
  ['TestFailIfNotSSLLogMsg', 'requireTls, a server that closes without an answer', ['end'], { requireTls: true, maxRedirects: 1 }, failed('reset')],
  ['TestFailIfBodyMatchesRegexp', 'one regex, match', [answer(200, [], DB)], { bodyNotRegex: 'could not connect to database' }, failed('body', 'body matches /could not connect to database/')],
  ['TestFailIfBodyMatchesRegexp', 'one regex, no match', [answer(200, [], 'Download the latest version here')], { bodyNotRegex: 'could not connect to database' }, pass],
  ['TestFailIfBodyMatchesRegexp', 'multiple regexes (one alternation), match', [answer(200, [], 'internal error')], { bodyNotRegex: 'could not connect to database|internal error' }, failed('body')],
  ['TestFailIfBodyMatchesRegexp', 'substring (bodyNotContains), match', [answer(200, [], DB)], { bodyNotContains: 'database' }, failed('body', 'body contains "database"')],
  ['TestFailIfBodyNotMatchesRegexp', 'no match', [answer(200, [], DB)], { bodyRegex: 'Download the latest version here' }, failed('body')],
  ['TestFailIfBodyNotMatchesRegexp', 'match', [answer(200, [], 'Download the latest version here')], { bodyRegex: 'Download the latest version here' }, pass],
  ['TestFailIfHeaderMatchesRegexp', 'matches: fails', [answer(200, ct('text/javascript'))], { expectHeaders: [{ name: 'Content-Type', notMatches: 'text/javascript' }] }, failed('header', 'header Content-Type matches /text/javascript/ (1 value)')],
  ['TestFailIfHeaderMatchesRegexp', 'no match: passes', [answer(200, ct('application/octet-stream'))], { expectHeaders: [{ name: 'Content-Type', notMatches: 'text/javascript' }] }, pass],
  ['TestFailIfHeaderMatchesRegexp', 'lower-case name, no match', [answer(200, ct('application/octet-stream'))], { expectHeaders: [{ name: 'content-type', notMatches: 'text/javascript' }] }, pass],
  ['TestFailIfHeaderMatchesRegexp', '.* on an empty value', [answer(200, ct(''))], { expectHeaders: [{ name: 'Content-Type', notMatches: '.*' }] }, failed('header')],
  ['TestFailIfHeaderMatchesRegexp', 'missing, not allowed', [OK], { expectHeaders: [{ name: 'X-Missing', notMatches: '.*' }] }, failed('header', 'header X-Missing is missing')],
  ['TestFailIfHeaderMatchesRegexp', 'missing, allowMissing', [OK], { expectHeaders: [{ name: 'X-Missing', notMatches: '.*', allowMissing: true }] }, pass],
  ['TestFailIfHeaderMatchesRegexp', 'Set-Cookie, the second of two values matches', [answer(200, cookies)], { expectHeaders: [{ name: 'Set-Cookie', notMatches: COOKIE_RE }] }, failed('header', `header Set-Cookie matches /${COOKIE_RE}/ (2 values)`)],
  ['TestFailIfHeaderNotMatchesRegexp', 'match', [answer(200, ct('text/javascript'))], { expectHeaders: [{ name: 'Content-Type', matches: 'text/javascript' }] }, pass],
  ['TestFailIfHeaderNotMatchesRegexp', 'no match', [answer(200, ct('application/octet-stream'))], { expectHeaders: [{ name: 'Content-Type', matches: 'text/javascript' }] }, failed('header', 'header Content-Type does not match /text/javascript/ (1 value)')],
  ['TestFailIfHeaderNotMatchesRegexp', 'missing, not allowed', [OK], { expectHeaders: [{ name: 'X-Missing', matches: '.*' }] }, failed('header')],
  ['TestFailIfHeaderNotMatchesRegexp', 'missing, allowMissing', [OK], { expectHeaders: [{ name: 'X-Missing', matches: '.*', allowMissing: true }] }, pass],
  ['TestFailIfHeaderNotMatchesRegexp', 'Set-Cookie, one of two values matches', [answer(200, cookies)], { expectHeaders: [{ name: 'Set-Cookie', matches: COOKIE_RE }] }, pass],
  ['TestFailIfHeaderNotMatchesRegexp', 'Set-Cookie, the only value does not match', [answer(200, cookies.slice(0, 1))], { expectHeaders: [{ name: 'Set-Cookie', matches: COOKIE_RE }] }, failed('header')],
  ['(header present, Gatus)', 'present: true / false', [answer(200, ct('x'))], { expectHeaders: [{ name: 'content-type', present: true }, { name: 'X-Debug', present: false }] }, pass],
  ['(header present, Gatus)', 'present: false, but sent', [answer(200, [['X-Debug', '1']])], { expectHeaders: [{ name: 'x-debug', present: false }] }, failed('header', 'header x-debug is present, and must not be')],
  ['(json notEquals, Gatus [BODY].status != DOWN)', 'the value is the forbidden one', [answer(200, [], '{"status":"DOWN"}')], { json: [{ path: '$.status', notEquals: 'DOWN' }] }, failed('json', '$.status is "DOWN", which notEquals forbids')],
  ['(json notEquals, Gatus [BODY].status != DOWN)', 'another value, or none', [answer(200, [], '{"status":"UP"}')], { json: [{ path: '$.status', notEquals: 'DOWN' }, { path: '$.missing', notEquals: null }] }, pass],
  ['Go net/http (RFC 9110 §15.2)', '100 Continue, then 200', ['HTTP/1.1 100 Continue\r\n\r\n', OK], {}, pass],
  ['Go net/http (RFC 9110 §15.2)', '100 Continue, then 200, with a body assertion (undici)', ['HTTP/1.1 100 Continue\r\n\r\n', answer(200, [], 'ok')], { bodyContains: 'ok' }, pass],
  ['Go net/http (io.ErrUnexpectedEOF)', 'a body cut before its content-length', ['HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nok', 'end'], {}, failed('reset')],
  ['Go net/http (io.ErrUnexpectedEOF)', 'a chunked body cut before its last chunk', ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n', 'end'], {}, failed('reset')],
  ['Go net/http', 'HTTP/1.0, body until the close', ['HTTP/1.0 200 OK\r\n\r\nbody', 'end'], {}, pass],
  ['TestValidHTTPVersion', 'HTTP/1.1 answer, HTTP/1.1 expected', [OK], { expectVersions: ['HTTP/1.1'] }, pass],
  ['TestValidHTTPVersion', 'HTTP/1.0 answer, HTTP/1.1 expected', ['HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n'], { expectVersions: ['HTTP/1.1'] }, failed('protocol', 'expected HTTP/1.1, got an HTTP/1.0 response')],
  ['TestValidHTTPVersion', 'HTTP/1.0 answer, either expected', ['HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n'], { expectVersions: ['HTTP/1.1', 'HTTP/1.0'] }, pass],
  ['TestValidHTTPVersion', 'the final head counts, not an interim 100', ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n'], { expectVersions: ['HTTP/1.0'] }, pass],
  ['TestValidHTTPVersion', 'status line split across packets', ['HTT', 'P/1.0 200 OK\r\ncontent-length: 0\r\n\r\n'], { expectVersions: ['HTTP/1.1'] }, failed('protocol')],
  ['TestValidHTTPVersion', 'headers split after the status line', ['HTTP/1.0 200 OK\r\nx: ', 'y\r\ncontent-length: 0\r\n\r\n'], { expectVersions: ['HTTP/1.0'] }, pass],
  ['TestValidHTTPVersion', 'after a redirect: the final response counts', [answer(302, [['Location', '/http-1.0']])], { maxRedirects: 1, expectVersions: ['HTTP/1.1'] }, failed('protocol')],
  ['Go net/http', 'headers split across packets', ['HTTP/1.1 200 OK\r\nconte', 'nt-length: 2\r\n\r', '\nok'], { expectHeaders: [{ name: 'Content-Length', matches: '^2$' }] }, pass],
];

let target: RawHttpTarget;
beforeAll(async () => {
  target = await startRawHttpTarget();
  HTTP_ROWS.forEach(([, , steps], i) => target.set(`/${i}`, steps));
  target.set('/http-1.0', ['HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n']);
});
afterAll(async () => {
  await target.close();
  await closeProbeEnv(DIRECT_PROBE_ENV);
});

describe('HTTP, as prober/http_test.go (both paths)', () => {
  test.each(HTTP_ROWS.map((row, i) => [row[0], row[1], i, row[3], row[4]] as const))('%s: %s', async (_test, _case, i, http, expected) => {
    const spec = normalizeSpec('conformance', { kind: 'http', target: `${target.url}/${i}`, timeoutMs: 2000, http });
    const [viaRunProbe, viaUndici] = [await runProbe(spec), await probeHttp(spec)];
    expect(viaRunProbe).toMatchObject(expected);
    expect(viaUndici).toMatchObject({ ok: viaRunProbe.ok, reason: viaRunProbe.reason, message: viaRunProbe.message });
  });
});

describe('HTTP with a server that reads the request, as prober/http_test.go', () => {
  test('TestCookieJar: "/" sets somecookie (Expires a year on) and redirects to /noredirect, which wants exactly "somecookie=cookie" (both paths; http.cookies)', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/') {
        const expires = new Date(Date.now() + 365 * 24 * 3600 * 1000).toUTCString(); // the server's clock, as its Date header
        res.writeHead(302, { location: '/noredirect', 'set-cookie': `somecookie=cookie; Expires=${expires}` }).end();
      } else {
        res.writeHead(req.headers.cookie === 'somecookie=cookie' ? 200 : 400).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
    const spec = (h: HttpOptions) => normalizeSpec('conformance-cookies', { kind: 'http', target: url, timeoutMs: 2000, http: h });
    const withJar = spec({ maxRedirects: 10, cookies: true });
    expect(await runProbe(withJar)).toMatchObject({ ...pass, redirects: 1 });
    expect(await probeHttp(withJar)).toMatchObject({ ...pass, redirects: 1 });
    // blackbox always has its jar; in Lookout it is opt-in: without it /noredirect refuses.
    expect(await runProbe(spec({ maxRedirects: 10 }))).toMatchObject({ ...failed('status'), httpStatus: 400 });
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('HTTP headers sent, as prober/http_test.go TestHTTPHeaders', () => {
  test('the Host (http.host) and the spec\'s other headers reach the server as written, on both paths; the connection goes to the target', async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
    const spec = normalizeSpec('conformance-headers', {
      kind: 'http',
      target: url,
      timeoutMs: 2000,
      http: { host: 'example.com', headers: { 'Accept-Language': 'en-US', 'User-Agent': 'unsuspicious user', 'Accept-Encoding': 'gzip' } },
    });
    expect(await runProbe(spec)).toMatchObject(pass); // the lean path: GET, no body assertion
    expect(await probeHttp(spec)).toMatchObject(pass);
    expect(seen.map((h) => [h.host, h['accept-language'], h['user-agent'], h['accept-encoding']])).toEqual([
      ['example.com', 'en-US', 'unsuspicious user', 'gzip'],
      ['example.com', 'en-US', 'unsuspicious user', 'gzip'],
    ]);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('TCP, as prober/tcp_test.go', () => {
  /** A server that writes `greeting`, waits for a line, answers `reply` and closes. */
  async function ircServer(reply: string): Promise<{ target: string; close(): void }> {
    const server = net.createServer((c) => {
      c.on('error', () => {});
      c.write(':ircd.localhost NOTICE AUTH :*** Looking up your hostname...\n');
      c.once('data', () => c.end(reply));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { target: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, close: () => server.close() };
  }
  const tcp = (t: string, options = {}) => normalizeSpec('conformance-tcp', { kind: 'tcp', target: t, timeoutMs: 2000, tcp: options });
  const irc = { send: 'NICK prober\r\nUSER prober prober prober :prober\r\n', expect: ' 001 ' };

  test('TestTCPConnection: a server that accepts passes', async () => {
    const server = await ircServer('');
    expect(await probeTcp(tcp(server.target))).toMatchObject(pass);
    server.close();
  });

  test('TestTCPConnectionFails: nobody listening is refused', async () => {
    expect(await probeTcp(tcp(`127.0.0.1:${await closedPort()}`))).toMatchObject(failed('refused'));
  });

  test('TestTCPConnectionQueryResponseIRC: the welcome passes, a refusal fails (substring expect, not a regex)', async () => {
    const welcome = await ircServer(':ircd.localhost 001 prober :Welcome to IRC!\n');
    const banned = await ircServer('ERROR: Your IP address has been blacklisted.\n');
    expect(await probeTcp(tcp(welcome.target, irc))).toMatchObject(pass);
    expect(await probeTcp(tcp(banned.target, irc))).toMatchObject({ ok: false });
    welcome.close();
    banned.close();
  });

  test('TestTCPConnectionQueryResponseIRC, as a dialog: the greeting, NICK / USER, then 001; a refusal fails at that step', async () => {
    const dialog = [{ expect: 'NOTICE AUTH' }, { send: irc.send }, { expect: irc.expect }];
    const welcome = await ircServer(':ircd.localhost 001 prober :Welcome to IRC!\n');
    const banned = await ircServer('ERROR: Your IP address has been blacklisted.\n');
    expect(await probeTcp(tcp(welcome.target, { dialog }))).toMatchObject(pass);
    expect(await probeTcp(tcp(banned.target, { dialog }))).toMatchObject({ ...failed('body'), step: 'tcp.dialog[2]' });
    welcome.close();
    banned.close();
  });

  test('TestTCPConnectionQueryResponseMatching: an SSH banner matched by blackbox\'s own regex, its version sent back as ${1}', async () => {
    let confirmed: string | undefined;
    const ssh = await startLineServer({
      greeting: 'SSH-2.0-OpenSSH_6.9p1 Debian-2\n',
      answer: (line) => {
        confirmed = /^CONFIRM (\S+)$/.exec(line)?.[1];
        return confirmed ? { write: 'OK\n', then: 'close' } : { then: 'close' };
      },
    });
    const dialog = [{ expectRegex: '^SSH-2.0-([^ -]+)(?: (.*))?$' }, { send: 'CONFIRM ${1}\n' }, { expect: 'OK' }];
    expect(await probeTcp(tcp(ssh.target, { dialog }))).toMatchObject(pass);
    expect(confirmed).toBe('OpenSSH_6.9p1');
    await ssh.close();
  });

  test('TestTCPConnectionQueryResponseStartTLS: 220, EHLO → 250-STARTTLS, STARTTLS → 220, upgrade, EHLO over TLS → 250-AUTH, QUIT (no per-check CA in Lookout: verify off; verify on fails with tls)', async () => {
    const cert = await certExpiringIn(30);
    const smtp = await startLineServer({
      greeting: '220 ESMTP StartTLS pseudo-server\n',
      cert,
      answer: (line, secure) => {
        if (line === 'EHLO tls.prober') return secure ? '250-AUTH\n250 DSN\n' : '250-STARTTLS\n250 DSN\n';
        if (line === 'STARTTLS' && !secure) return { write: '220 Ready to start TLS\n', then: 'starttls' };
        return { write: '221 bye\n', then: 'close' };
      },
    });
    const dialog = [
      { expect: '220 ' },
      { send: 'EHLO tls.prober\r\n' },
      { expect: '250-STARTTLS' },
      { send: 'STARTTLS\r\n' },
      { expect: '220 ' },
      { starttls: true as const },
      { send: 'EHLO tls.prober\r\n' },
      { expect: '250-AUTH' },
      { send: 'QUIT\r\n' },
    ];
    expect(await probeTcp(tcp(smtp.target, { tls: { verify: false }, dialog }))).toMatchObject(pass);
    expect(await probeTcp(tcp(smtp.target, { dialog }))).toMatchObject({ ...failed('tls'), step: 'tcp.dialog[5]' });
    await smtp.close();
  });
});
