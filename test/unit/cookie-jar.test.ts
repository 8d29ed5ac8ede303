// A probe's cookie jar (checks/cookie-jar.ts) and the Set-Cookie reader under it
// (checks/cookie-parse.ts), table by table: what a line says, where a cookie may go, what a
// request sends back and in which order, deletion, bounds, and hostile lines.
import { COOKIE_JAR_LIMITS, CookieJar, defaultPath, domainMatch, hostOfHeader, pathMatch, scopeOf, withJarCookies } from '../../checks/cookie-jar';
import { parseCookieDate, parseSetCookie, SET_COOKIE_LIMITS } from '../../checks/cookie-parse';

const DATE = 'Wed, 02 Dec 2026 08:00:00 GMT';
const u = (s: string) => new URL(s);

/** A jar that received `lines` from `from`, with the answer's Date `date`. */
function jarWith(from: string, lines: string[], date: string | undefined = DATE): CookieJar {
  const jar = new CookieJar();
  jar.receive(u(from), lines, date);
  return jar;
}
const sent = (jar: CookieJar, to: string) => jar.matching(u(to)).map((c) => `${c.name}=${c.value}`).join('; ');

describe('parseSetCookie: one line', () => {
  test.each([
    ['sid=abc', { name: 'sid', value: 'abc', secure: false }],
    ['sid = abc ; Path=/app; Secure; HttpOnly; SameSite=Lax', { name: 'sid', value: 'abc', path: '/app', secure: true }],
    ['sid=; Domain=.Example.COM', { name: 'sid', value: '', domain: 'example.com' }],
    ['sid=x; Domain=', { name: 'sid', value: 'x' }], // an empty Domain is no Domain
    ['sid=x; Path=relative', { name: 'sid', value: 'x' }], // not starting with "/": the default path
    ['sid=x; Max-Age=0', { maxAge: 0 }],
    ['sid=x; Max-Age=-5', { maxAge: -1 }],
    ['sid=x; Max-Age=3600; Max-Age=oops', { maxAge: 3600 }], // an invalid one is left out
    ['sid=a=b', { name: 'sid', value: 'a=b' }],
    ['sid="quoted"', { value: '"quoted"' }], // sent back as set
    ['sid=x; Expires=Mon, 01-Jan-1990 00:00:00 GMT', { expires: Date.UTC(1990, 0, 1) }],
  ])('%j', (line, expected) => {
    expect(parseSetCookie(line)).toMatchObject(expected);
  });

  test.each([
    ['no name=value pair', 'justtext; Path=/'],
    ['an empty name', '=value'],
    ['a name that is not a token', 'a b=c'],
    ['a control character in the value', 'sid=a\x00b'],
    ['a line feed', 'sid=a\nSet-Cookie: x=y'],
    ['name + value over 4096', `sid=${'v'.repeat(SET_COOKIE_LIMITS.pairLength - 2)}`],
    ['a line over 8192', `sid=x; Comment=${'c'.repeat(SET_COOKIE_LIMITS.lineLength)}`],
  ])('refused: %s', (_why, line) => {
    expect(parseSetCookie(line)).toBeNull();
  });

  test('name + value of exactly 4096 is kept', () => {
    expect(parseSetCookie(`sid=${'v'.repeat(SET_COOKIE_LIMITS.pairLength - 3)}`)).not.toBeNull();
  });
});

describe('parseCookieDate (RFC 6265 §5.1.1)', () => {
  test.each([
    ['Wed, 02 Dec 2026 08:00:00 GMT', Date.UTC(2026, 11, 2, 8)], // IMF-fixdate (a Date header)
    ['Sunday, 06-Nov-94 08:49:37 GMT', Date.UTC(1994, 10, 6, 8, 49, 37)], // RFC 850, two-digit year
    ['Sun Nov  6 08:49:37 1994', Date.UTC(1994, 10, 6, 8, 49, 37)], // asctime: UTC, not the node's zone
    ['Thu, 01 Jan 1970 00:00:00 GMT', 0],
    ['1 jan 05 00:00:00', Date.UTC(2005, 0, 1)],
    ['1', undefined], // Date.parse would read 2001
    ['garbage', undefined],
    ['31 Apr 2026 00:00:00', undefined],
    ['1 Jan 1600 00:00:00', undefined],
    ['1 Jan 2026 24:00:00', undefined],
  ])('%j', (text, expected) => {
    expect(parseCookieDate(text)).toBe(expected);
  });
});

describe('where a cookie may go', () => {
  test.each([
    ['www.example.com', undefined, { domain: 'www.example.com', hostOnly: true }],
    ['www.example.com', 'example.com', { domain: 'example.com', hostOnly: false }],
    ['example.com', 'example.com', { domain: 'example.com', hostOnly: false }],
    ['www.example.com', 'other.com', null], // not the host's domain
    ['example.com', 'www.example.com', null], // a subdomain of the host
    ['www.example.com', 'com', null], // a single label: a public suffix, for all the jar knows
    ['localhost', 'localhost', { domain: 'localhost', hostOnly: true }], // the single label is the host itself
    ['www.example.com', 'example.com.', null],
    ['127.0.0.1', '127.0.0.1', { domain: '127.0.0.1', hostOnly: true }], // an address: host-only
    ['127.0.0.1', '0.0.1', null],
    ['::1', '::1', { domain: '::1', hostOnly: true }],
  ] as const)('host %s, Domain %s → %j', (host, domain, expected) => {
    expect(scopeOf(host, domain)).toEqual(expected);
  });

  test.each([
    ['example.com', 'example.com', true],
    ['www.example.com', 'example.com', true],
    ['wwwexample.com', 'example.com', false],
    ['10.0.0.1', '0.0.1', false],
  ])('domainMatch(%s, %s) is %s', (host, domain, expected) => expect(domainMatch(host, domain)).toBe(expected));

  test.each([
    ['/', '/'],
    ['', '/'],
    ['/login', '/'],
    ['/app/login', '/app'],
    ['/app/sub/', '/app/sub'],
  ])('defaultPath(%j) is %j', (path, expected) => expect(defaultPath(path)).toBe(expected));

  test.each([
    ['/app', '/app', true],
    ['/app/home', '/app', true],
    ['/app/home', '/app/', true],
    ['/application', '/app', false],
    ['/', '/app', false],
    ['/anything', '/', true],
  ])('pathMatch(%j, %j) is %s', (path, cookiePath, expected) => expect(pathMatch(path, cookiePath)).toBe(expected));

  test.each([
    ['status.example.com:8443', 'status.example.com'],
    ['Status.Example.com', 'status.example.com'],
    ['[::1]:8080', '::1'],
    ['10.0.0.7', '10.0.0.7'],
  ])('hostOfHeader(%j) is %j', (header, expected) => expect(hostOfHeader(header)).toBe(expected));
});

describe('what the next hop sends', () => {
  test('host-only and domain cookies, by host', () => {
    const jar = jarWith('http://www.example.com/login', ['host=1', 'dom=2; Domain=example.com']);
    expect(sent(jar, 'http://www.example.com/')).toBe('host=1; dom=2');
    expect(sent(jar, 'http://api.example.com/')).toBe('dom=2');
    expect(sent(jar, 'http://example.com:8080/')).toBe('dom=2'); // cookies ignore the port
    expect(sent(jar, 'http://other.com/')).toBe('');
  });

  test('a refused Domain drops the cookie, not the others', () => {
    const jar = jarWith('http://www.example.com/', ['evil=1; Domain=other.com', 'tld=1; Domain=com', 'ok=1']);
    expect(jar.size).toBe(1);
    expect(sent(jar, 'http://www.example.com/')).toBe('ok=1');
  });

  test('an IP host: host-only whatever the Domain', () => {
    const jar = jarWith('http://127.0.0.1:8080/', ['a=1', 'b=2; Domain=127.0.0.1', 'c=3; Domain=0.0.1']);
    expect(sent(jar, 'http://127.0.0.1:9090/x')).toBe('a=1; b=2');
    expect(sent(jar, 'http://127.0.0.2/')).toBe('');
  });

  test('path: explicit, default, and not elsewhere', () => {
    const jar = jarWith('http://h.test/app/login', ['def=1', 'root=2; Path=/', 'admin=3; Path=/admin']);
    expect(sent(jar, 'http://h.test/app/home')).toBe('def=1; root=2');
    expect(sent(jar, 'http://h.test/home')).toBe('root=2');
    expect(sent(jar, 'http://h.test/admin/x')).toBe('admin=3; root=2');
    expect(sent(jar, 'http://h.test/administrator')).toBe('root=2');
  });

  test('Secure: only over https, and not taken from a plain-http answer', () => {
    const jar = jarWith('https://h.test/', ['s=1; Secure', 'p=2']);
    expect(sent(jar, 'https://h.test/')).toBe('s=1; p=2');
    expect(sent(jar, 'http://h.test/')).toBe('p=2');
    expect(jarWith('http://h.test/', ['s=1; Secure']).size).toBe(0);
  });

  test('order: longer paths first, then older first (§5.4)', () => {
    const jar = jarWith('http://h.test/', ['b=1; Path=/', 'a=2; Path=/a/b', 'c=3; Path=/a', 'd=4; Path=/']);
    expect(sent(jar, 'http://h.test/a/b/c')).toBe('a=2; c=3; b=1; d=4');
  });

  test('set again: the value replaced, its place kept; another path is another cookie', () => {
    const jar = jarWith('http://h.test/', ['a=1', 'b=2']);
    jar.receive(u('http://h.test/'), ['a=9', 'a=5; Path=/x'], DATE);
    expect(sent(jar, 'http://h.test/')).toBe('a=9; b=2');
    expect(sent(jar, 'http://h.test/x')).toBe('a=5; a=9; b=2');
  });
});

describe('deletion', () => {
  test.each([
    ['Max-Age=0', 'sid=; Max-Age=0'],
    ['a negative Max-Age', 'sid=; Max-Age=-1'],
    ['Expires before the answer’s Date', 'sid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT'],
    ['Expires equal to the Date', `sid=; Expires=${DATE}`],
  ])('%s deletes', (_why, line) => {
    const jar = jarWith('http://h.test/', ['sid=1', 'keep=1']);
    jar.receive(u('http://h.test/'), line, DATE);
    expect(sent(jar, 'http://h.test/')).toBe('keep=1');
  });

  test('Max-Age wins over Expires; a future Expires keeps', () => {
    expect(jarWith('http://h.test/', ['a=1; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT']).size).toBe(1);
    expect(jarWith('http://h.test/', ['a=1; Max-Age=0; Expires=Wed, 01 Jan 2100 00:00:00 GMT']).size).toBe(0);
    expect(jarWith('http://h.test/', ['a=1; Expires=Wed, 01 Jan 2100 00:00:00 GMT']).size).toBe(1);
  });

  test('without a Date header Expires deletes nothing (no clock of the node is compared)', () => {
    const jar = new CookieJar();
    jar.receive(u('http://h.test/'), ['a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT'], undefined);
    expect(jar.size).toBe(1);
  });

  test('deleting another path or domain leaves the cookie', () => {
    const jar = jarWith('http://www.h.test/', ['a=1']);
    jar.receive(u('http://www.h.test/'), ['a=; Max-Age=0; Path=/x', 'a=; Max-Age=0; Domain=h.test'], DATE);
    expect(sent(jar, 'http://www.h.test/')).toBe('a=1');
  });
});

describe('bounds and hostile input', () => {
  test(`at most ${COOKIE_JAR_LIMITS.cookies} cookies; more are ignored, a replacement still counts`, () => {
    const lines = Array.from({ length: COOKIE_JAR_LIMITS.cookies + 10 }, (_, i) => `c${i}=${i}`);
    const jar = jarWith('http://h.test/', lines);
    expect(jar.size).toBe(COOKIE_JAR_LIMITS.cookies);
    jar.receive(u('http://h.test/'), ['c0=new', 'extra=1'], DATE);
    expect(jar.size).toBe(COOKIE_JAR_LIMITS.cookies);
    expect(sent(jar, 'http://h.test/')).toMatch(/^c0=new; c1=1;/);
  });

  test(`the jar's part of a Cookie header stays within ${COOKIE_JAR_LIMITS.headerLength} characters`, () => {
    const big = 'v'.repeat(SET_COOKIE_LIMITS.pairLength - 100); // two fit, the third does not, a small one still does
    const jar = jarWith('http://h.test/', ['a1=' + big, 'a2=' + big, 'a3=' + big, 'small=1']);
    const header = sent(jar, 'http://h.test/');
    expect(header.length).toBeLessThanOrEqual(COOKIE_JAR_LIMITS.headerLength);
    expect(header.split('; ').map((p) => p.split('=')[0])).toEqual(['a1', 'a2', 'small']);
  });

  test('malformed, oversized and odd lines never throw', () => {
    const jar = new CookieJar();
    const odd = ['', ';', '=', '==;;', 'a', `x=${'y'.repeat(100_000)}`, 'a=1; Domain=..', 'a=1; Max-Age=99999999999999999999999', 'a=1; Expires=' + '9'.repeat(10_000)];
    expect(() => jar.receive(u('http://h.test/'), odd, 'not a date')).not.toThrow();
    expect(() => jar.receive(u('http://h.test/'), undefined, undefined)).not.toThrow();
    expect(jar.size).toBe(1); // the huge Max-Age one
  });
});

describe('withJarCookies: the Cookie header of a hop', () => {
  const jar = jarWith('http://h.test/', ['sid=new', 'lang=de']);

  test('no jar cookie for the hop: the headers object itself', () => {
    const headers = { accept: '*/*' };
    expect(withJarCookies(headers, jar, u('http://other.test/'))).toBe(headers);
  });

  test("the spec's own pairs first, those the jar sets replaced", () => {
    expect(withJarCookies({ Cookie: 'consent=yes; sid=stale', accept: '*/*' }, jar, u('http://h.test/'))).toEqual({ accept: '*/*', cookie: 'consent=yes; sid=new; lang=de' });
  });

  test('the host a Host header names (http.host) is the one cookies match', () => {
    const vhost = new CookieJar();
    vhost.receive(u('http://10.0.0.7/login'), ['sid=1; Domain=example.com'], DATE, 'status.example.com');
    expect(withJarCookies({ host: 'status.example.com:80' }, vhost, u('http://10.0.0.7/home')).cookie).toBe('sid=1');
    expect(withJarCookies({}, vhost, u('http://10.0.0.7/home')).cookie).toBeUndefined();
  });
});
