import { leanEligible } from '../../checks/http-lean';
import { normalizeSpec, type HttpOptions } from '../../checks/spec';

const spec = (http: HttpOptions) => normalizeSpec('e', { kind: 'http', target: 'http://127.0.0.1:1/', http });

describe('leanEligible: which specs skip undici', () => {
  const cases: [string, HttpOptions, boolean][] = [
    ['the defaults (GET, 2xx, fresh connection)', {}, true],
    ['HEAD', { method: 'HEAD' }, true],
    ['headers, expected statuses, latency bound, TLS options', { headers: { 'x-a': 'b' }, expectStatus: [204, '3xx'], maxLatencyMs: 100, tls: { verify: false } }, true],
    ['maxBodyBytes alone (no body is read)', { maxBodyBytes: 10 }, true],
    ['POST', { method: 'POST' }, false],
    ['a request body', { method: 'PUT', body: 'x' }, false],
    ['redirects followed', { maxRedirects: 1 }, false],
    ['keep-alive', { reuseConnection: true }, false],
    ['bodyContains', { bodyContains: 'ok' }, false],
    ['bodyRegex', { bodyRegex: 'o+k' }, false],
    ['json', { json: [{ path: '$.a', equals: 1 }] }, false],
  ];
  test.each(cases)('%s', (_name, http, expected) => {
    expect(leanEligible(spec(http))).toBe(expected);
  });
});
