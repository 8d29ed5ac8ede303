// The HTTP push endpoint (runtime/push-http.ts) on the node's real HTTP endpoints, with a bus that
// records what it publishes: each signal by its path, the body as the message (sanitized), the
// token from the query or the header, and the refusals (bad id, oversized body, a flood of one id,
// no NATS connection, another method). Real sockets on 127.0.0.1.
import { Registry } from 'prom-client';
import { startHttpEndpoints, type HttpEndpoints } from '../../runtime/http-endpoints';
import { pushRoute } from '../../runtime/push-http';
import { subjects } from '../../runtime/subjects';

let http: HttpEndpoints;
const published: { subject: string; payload: any }[] = [];
let connected = true;
let now = 0;

beforeAll(async () => {
  http = await startHttpEndpoints('127.0.0.1', 0, new Registry(), { natsConnected: () => true, assigned: () => true });
  const bus = { publish: (subject: string, payload: unknown) => void published.push({ subject, payload }) };
  http.mount(pushRoute({ bus, subjects: subjects('acme.lookout'), maxBytes: 64, perSecond: 2, monotonic: () => now, connected: () => connected }), { post: true });
});
afterAll(() => http.close());
beforeEach(() => {
  published.length = 0;
  connected = true;
  now += 60_000; // every bucket full again
});

const call = (path: string, init: RequestInit = {}) =>
  fetch(`http://127.0.0.1:${http.port}${path}`, init).then(async (r): Promise<{ status: number; body: any }> => ({ status: r.status, body: init.method !== 'HEAD' && r.headers.get('content-type')?.includes('json') ? await r.json() : await r.text() }));

test.each([
  ['GET', '/push/job', undefined, 'ok', {}],
  ['POST', '/push/job/', undefined, 'ok', {}],
  ['POST', '/push/job/fail', 'disk\u0000full', 'fail', { message: 'disk full' }],
  ['GET', '/push/job/start', undefined, 'start', {}],
  ['GET', '/push/job/ok?token=abcdefghijklmnop', undefined, 'ok', { token: 'abcdefghijklmnop' }],
  ['HEAD', '/push/job', undefined, 'ok', {}],
])('%s %s → 202, published on <prefix>.push.<id> with signal %s', async (method, path, body, signal, extra) => {
  const r = await call(path, { method, ...(body !== undefined ? { body } : {}) });
  expect(r.status).toBe(202);
  expect(published).toEqual([{ subject: 'acme.lookout.push.job', payload: { signal, ...extra } }]);
});

test('the token header travels in the report', async () => {
  await call('/push/job', { headers: { 'X-Lookout-Push-Token': 'from-the-header-0' } });
  expect(published[0]!.payload).toEqual({ signal: 'ok', token: 'from-the-header-0' });
});

test.each([
  ['/push/a.b', 400, 'invalid_id'],
  ['/push/', 400, 'invalid_id'],
  [`/push/${'x'.repeat(129)}`, 400, 'invalid_id'],
  ['/push/%E0%A4%A', 400, 'invalid_id'],
])('%s → %d %s, nothing published', async (path, status, code) => {
  const r = await call(path);
  expect([r.status, r.body.error.code]).toEqual([status, code]);
  expect(published).toEqual([]);
});

test('a body over the limit → 413 too_large, nothing published', async () => {
  const r = await call('/push/job', { method: 'POST', body: 'x'.repeat(65) });
  expect([r.status, r.body.error.code]).toEqual([413, 'too_large']);
  expect(published).toEqual([]);
});

test('a flood of one id: a burst of 2 × perSecond, then 429 rate_limited; another id is not affected', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await call('/push/flood')).status);
  expect(statuses).toEqual([202, 202, 202, 202, 429, 429]);
  expect((await call('/push/other')).status).toBe(202);
  now += 500; // one more report's worth
  expect((await call('/push/flood')).status).toBe(202);
  expect((await call('/push/flood')).status).toBe(429);
});

test('no NATS connection → 503 unavailable', async () => {
  connected = false;
  const r = await call('/push/job');
  expect([r.status, r.body.error.code]).toEqual([503, 'unavailable']);
  expect(published).toEqual([]);
});

test('other methods, and POST elsewhere, are refused with 405', async () => {
  expect((await call('/push/job', { method: 'PUT' })).status).toBe(405);
  expect((await call('/metrics', { method: 'POST' })).status).toBe(405);
  expect((await call('/healthz')).status).toBe(200);
});
