// The redirect rules of an HTTP probe (checks/http-redirect.ts), table by table: which answers
// redirect, when following stops, and what the next hop's request is.
import { firstHop, followRedirect, redirected, redirectLocation, type Hop } from '../../checks/http-redirect';

const hop = (url: string, method = 'GET', headers: Record<string, string> = {}, body?: string): Hop => ({
  url: new URL(url),
  method,
  headers,
  ...(body !== undefined ? { body } : {}),
});

describe('redirectLocation: which answers redirect', () => {
  test.each([
    [301, '/a', 5, '/a'],
    [302, '/a', 5, '/a'],
    [303, '/a', 5, '/a'],
    [307, '/a', 5, '/a'],
    [308, '/a', 5, '/a'],
    [308, ['/first', '/second'], 5, '/first'],
    [302, undefined, 5, undefined], // a redirect status without Location is the answer
    [200, '/a', 5, undefined],
    [304, '/a', 5, undefined],
    [300, '/a', 5, undefined],
    [302, '/a', 0, undefined], // redirects off: the 302 is the answer
  ] as const)('%s with Location %j, maxRedirects %s → %j', (status, location, max, expected) => {
    expect(redirectLocation(status, location as string | string[] | undefined, max)).toBe(expected);
  });
});

describe('followRedirect: when following stops', () => {
  const from = hop('http://a.test/start');
  test.each([
    ['the limit is reached', 'http://a.test/next', 2, 2, 'too many redirects (more than 2)'],
    ['a scheme other than http(s)', 'ftp://a.test/x', 0, 5, 'redirect to an unsupported location: "ftp://a.test/x"'],
    ['a Location that does not parse', 'http://[bad', 0, 5, 'redirect to an unsupported location: "http://[bad"'],
  ])('%s', (_why, location, followed, max, message) => {
    expect(followRedirect(from, 302, location, followed, max, 'full')).toEqual({ failure: { reason: 'status', message } });
  });

  test('redacted detail does not quote the Location', () => {
    const step = followRedirect(from, 302, 'ftp://secret.internal/x', 0, 5, 'redacted');
    expect('failure' in step && step.failure.message).not.toContain('secret');
  });

  test.each([
    ['a relative path', '/next?q=1', 'http://a.test/next?q=1'],
    ['a path relative to the current one', 'other', 'http://a.test/other'],
    ['another origin', 'https://b.test:8443/x', 'https://b.test:8443/x'],
    ['a scheme-relative URL', '//c.test/y', 'http://c.test/y'],
  ])('follows %s', (_what, location, next) => {
    const step = followRedirect(from, 302, location, 1, 2, 'full');
    expect('next' in step && step.next.url.href).toBe(next);
  });
});

describe('redirected: the next request', () => {
  const withBody = { 'Content-Type': 'application/json', 'content-length': '2', 'Content-Encoding': 'gzip', 'x-trace': '1' };
  test.each([
    // status, method, → method, keeps the body
    [301, 'POST', 'GET', false],
    [302, 'POST', 'GET', false],
    [303, 'POST', 'GET', false],
    [303, 'PUT', 'GET', false],
    [303, 'GET', 'GET', false],
    [303, 'HEAD', 'HEAD', true], // HEAD stays HEAD (and has no body to lose)
    [301, 'PUT', 'PUT', true],
    [302, 'DELETE', 'DELETE', true],
    [307, 'POST', 'POST', true],
    [308, 'POST', 'POST', true],
  ] as const)('%s after %s → %s', (status, method, nextMethod, keepsBody) => {
    const next = redirected(hop('http://a.test/', method, withBody, '{}'), status, new URL('http://a.test/next'));
    expect(next.method).toBe(nextMethod);
    expect(next.url.href).toBe('http://a.test/next');
    if (keepsBody) {
      expect(next.body).toBe('{}');
      expect(next.headers).toEqual(withBody);
    } else {
      expect(next).not.toHaveProperty('body');
      expect(next.headers).toEqual({ 'x-trace': '1' }); // the body's headers go with it
    }
  });

  const credentials = { Authorization: 'Bearer t', cookie: 'c=1', 'Proxy-Authorization': 'p', Host: 'a.test', accept: 'text/plain' };
  test.each([
    ['the same origin keeps credentials', 'http://a.test/other', credentials],
    ['another host drops them', 'http://b.test/', { accept: 'text/plain' }],
    ['another scheme drops them', 'https://a.test/', { accept: 'text/plain' }],
    ['another port drops them', 'http://a.test:8080/', { accept: 'text/plain' }],
  ])('%s', (_what, to, headers) => {
    expect(redirected(hop('http://a.test/', 'GET', credentials), 307, new URL(to)).headers).toEqual(headers);
  });

  test('a cross-origin 303 after a POST drops both credentials and body headers', () => {
    const next = redirected(hop('http://a.test/', 'POST', { ...credentials, ...withBody }, '{}'), 303, new URL('http://b.test/'));
    expect(next).toEqual({ url: new URL('http://b.test/'), method: 'GET', headers: { accept: 'text/plain', 'x-trace': '1' } });
  });
});

describe('firstHop', () => {
  test('is the spec request, with a body only when the spec has one', () => {
    expect(firstHop('http://a.test/x', { method: 'GET', headers: { a: '1' } })).toEqual({ url: new URL('http://a.test/x'), method: 'GET', headers: { a: '1' } });
    expect(firstHop('http://a.test/x', { method: 'POST', headers: {}, body: '' })).toMatchObject({ method: 'POST', body: '' });
  });
});
