// `http.cookies` on real local servers: the cookies a redirect answer sets reach the next hops
// that match them (a login flow), and nothing else — another path, another origin, the next probe.
// Two servers on 127.0.0.1 are reached by name through a stub resolver in the ProbeEnv
// (a.cookies.test and b.cookies.test), so domain and host-only cookies can be told apart.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { probeHttp } from '../../checks/http-probe';
import { closeProbeEnv, DIRECT_PROBE_ENV, type ProbeEnv } from '../../checks/probe-env';
import { normalizeSpec, type HttpOptions } from '../../checks/spec';

const SECRET = 's3cret-session-value';

/** An answer: status, Set-Cookie lines, other headers. */
type Answer = { status: number; cookies?: string[]; headers?: Record<string, string> };
type Route = (cookie: string | undefined, hit: number) => Answer;

interface CookieServer {
  port: number;
  /** The Cookie header of each request to a path (undefined: none sent). */
  seen(path: string): (string | undefined)[];
  close(): Promise<void>;
}

async function cookieServer(routes: Record<string, Route>): Promise<CookieServer> {
  const seen = new Map<string, (string | undefined)[]>();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const log = seen.get(path) ?? [];
    seen.set(path, log);
    log.push(req.headers.cookie);
    const route = routes[path];
    const answer = route ? route(req.headers.cookie, log.length) : { status: 404 };
    res.writeHead(answer.status, { ...answer.headers, ...(answer.cookies ? { 'set-cookie': answer.cookies } : {}) });
    res.end(answer.status === 200 ? 'welcome' : '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen: (path) => seen.get(path) ?? [],
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const redirect = (location: string, cookies?: string[]): Answer => ({ status: 302, headers: { location }, ...(cookies ? { cookies } : {}) });
/** 200 with the session cookie, 401 without it. */
const home: Route = (cookie) => ({ status: (cookie ?? '').split('; ').includes(`session=${SECRET}`) ? 200 : 401 });

// Names for the two servers, both 127.0.0.1: the connector resolves through the env's lookup.
const env: ProbeEnv = { ...DIRECT_PROBE_ENV, lookup: async () => ['127.0.0.1'] };
const probe = (target: string, h: HttpOptions) => probeHttp(normalizeSpec('cookies', { kind: 'http', target, timeoutMs: 2000, http: h }), undefined, env);

let a: CookieServer;
let b: CookieServer;
let A: string;
let B: string;
beforeAll(async () => {
  b = await cookieServer({ '/land': () => ({ status: 200 }) });
  B = `http://b.cookies.test:${b.port}`;
  a = await cookieServer({
    '/login': () => redirect('/home', [`session=${SECRET}; Path=/; HttpOnly`, 'admin=1; Path=/admin']),
    '/home': home,
    '/once': (_c, hit) => redirect('/home', hit === 1 ? [`session=${SECRET}`] : []),
    '/cross': () => redirect(`${B}/land`, ['hostonly=1; Path=/', 'shared=1; Domain=cookies.test; Path=/', 'elsewhere=1; Domain=other.test']),
    '/flood': () => redirect('/home', [...Array.from({ length: 60 }, (_, i) => `c${i}=${i}`), `bad=${'x'.repeat(9000)}`, 'no pair', `session=${SECRET}`]),
  });
  A = `http://a.cookies.test:${a.port}`;
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
  await closeProbeEnv(DIRECT_PROBE_ENV);
});

describe('a login redirect', () => {
  test('with cookies: the session set by /login reaches /home, which passes', async () => {
    const out = await probe(`${A}/login`, { maxRedirects: 2, cookies: true });
    expect(out).toMatchObject({ ok: true, httpStatus: 200, redirects: 1 });
    expect(a.seen('/home').at(-1)).toBe(`session=${SECRET}`);
  });

  test('without cookies: /home answers 401 and the probe fails with status', async () => {
    const out = await probe(`${A}/login`, { maxRedirects: 2 });
    expect(out).toMatchObject({ ok: false, reason: 'status', message: 'expected status 2xx, got 401', redirects: 1 });
    expect(a.seen('/home').at(-1)).toBeUndefined();
  });

  test('no cookie value in the result, failed or passed', async () => {
    const failed = await probe(`${A}/login`, { maxRedirects: 2, cookies: true, expectStatus: [204] });
    expect(failed).toMatchObject({ ok: false, reason: 'status' });
    const passed = await probe(`${A}/login`, { maxRedirects: 2, cookies: true });
    expect(JSON.stringify([failed, passed])).not.toContain(SECRET);
  });

  test('a cookie scoped to another path (/admin) is not sent to /home', async () => {
    await probe(`${A}/login`, { maxRedirects: 2, cookies: true });
    expect(a.seen('/home').at(-1)).not.toContain('admin=');
  });

  test("the spec's own Cookie header: its other pairs kept, the one the jar sets replaced", async () => {
    await probe(`${A}/login`, { maxRedirects: 2, cookies: true, headers: { Cookie: 'consent=yes; session=stale' } });
    expect(a.seen('/login').at(-1)).toBe('consent=yes; session=stale');
    expect(a.seen('/home').at(-1)).toBe(`consent=yes; session=${SECRET}`);
  });

  test('a new, empty jar every probe: the next probe of the same spec does not carry the session', async () => {
    const spec = normalizeSpec('cookies-once', { kind: 'http', target: `${A}/once`, timeoutMs: 2000, http: { maxRedirects: 1, cookies: true } });
    expect(await probeHttp(spec, undefined, env)).toMatchObject({ ok: true }); // /once set the cookie this time
    expect(await probeHttp(spec, undefined, env)).toMatchObject({ ok: false, reason: 'status', httpStatus: 401 }); // not this time
  });
});

describe('across origins', () => {
  test('the other origin gets only the cookies that match it: the domain cookie, not the host-only one or the spec header', async () => {
    const out = await probe(`${A}/cross`, { maxRedirects: 1, cookies: true, headers: { Cookie: 'consent=yes' } });
    expect(out).toMatchObject({ ok: true, redirects: 1 });
    expect(b.seen('/land').at(-1)).toBe('shared=1');
  });
});

describe('hostile Set-Cookie lines', () => {
  test('60 cookies, an oversized and a malformed line: at most 50 kept, the probe still judges the answer', async () => {
    const out = await probe(`${A}/flood`, { maxRedirects: 1, cookies: true });
    // The session came after 50 others: the jar was full, so /home refuses — and says nothing of why.
    expect(out).toMatchObject({ ok: false, reason: 'status', httpStatus: 401 });
    const sent = a.seen('/home').at(-1)!.split('; ');
    expect(sent).toHaveLength(50);
    expect(sent.some((p) => p.startsWith('bad=') || p.startsWith('session='))).toBe(false);
  });
});
