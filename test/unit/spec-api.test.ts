// The spec API actor on an in-memory bus and bucket: requests get replies, a rejected plain
// publish gets an event on spec.rejected, the queue group answers each request once, a failing
// store answers `unavailable` and changes nothing.
import pino from 'pino';
import { specApi } from '../../actors/spec-api';
import { buildAddressPolicy } from '../../checks/address-policy';
import { ManualClock } from '../../runtime/clock';
import { createMetrics } from '../../runtime/metrics';
import { SpecBucketFull } from '../../runtime/store';
import { subjects } from '../../runtime/subjects';
import { flush, host, silentLog } from '../helpers/actor-host';
import { FakeHub } from '../helpers/fake-bus';
import { FakeSpecBucket } from '../helpers/fake-spec-store';

const s = subjects('lookout');
const spec = { kind: 'http', target: 'http://127.0.0.1:8080/health', intervalMs: 5000, timeoutMs: 1000 };

const roomy = { ratePerSec: 1000, burst: 1000, maxPending: 1000 };

function setup(nodes = ['n1'], admission = roomy, log = silentLog, maxSpecs = 1000) {
  const clock = new ManualClock();
  const hub = new FakeHub();
  const bucket = new FakeSpecBucket();
  // The cluster's spec count as heartbeats would tell it (app/node-specs.ts): here, the bucket's.
  const specTotal = () => bucket.size;
  const metrics = createMetrics();
  for (const n of nodes) {
    const input = { bus: hub.connect(n), subjects: s, log, metrics, store: bucket, specTotal, maxSpecBytes: 4096, targetPolicy: buildAddressPolicy(), maxSpecs, clock, admission, summaryEveryMs: 10_000 };
    host(specApi, input, clock);
  }
  const user = hub.connect('user');
  const ask = async (subject: string, payload: unknown) => (await user.request(subject, payload, 1000)).json() as any;
  return { clock, hub, bucket, metrics, user, ask };
}

const metricLines = async (metrics: ReturnType<typeof createMetrics>, name: string) => (await metrics.registry.getSingleMetricAsString(name)).split('\n').filter((l) => !l.startsWith('#'));

test('put, get, delete by request: replies carry the revision; nothing stored for an invalid spec', async () => {
  const { bucket, ask } = setup();
  expect(await ask('lookout.spec.put.api', spec)).toEqual({ ok: true, id: 'api', revision: 1 });
  expect(await ask('lookout.spec.get.api', '')).toMatchObject({ ok: true, id: 'api', revision: 1, spec });
  const bad = await ask('lookout.spec.put.bad', { ...spec, intervalMs: 10 });
  expect(bad).toMatchObject({ ok: false, error: { code: expect.any(String), path: 'intervalMs' } });
  expect(await bucket.get('bad')).toBeNull();
  expect(await ask('lookout.spec.delete.api', '')).toEqual({ ok: true, id: 'api', existed: true });
  expect(await ask('lookout.spec.get.api', '')).toMatchObject({ ok: false, error: { code: 'not_found', path: 'id' } });
});

test('a rejected plain publish produces an event on spec.rejected.<id>; an accepted one is stored silently', async () => {
  const { hub, bucket, user } = setup();
  user.publish('lookout.spec.put.quiet', { ...spec, kind: 'gopher' });
  user.publish('lookout.spec.put.fine', spec);
  await flush();
  expect(hub.published('lookout.spec.rejected.>').map((p) => [p.subject, p.msg.ok, p.msg.id, p.msg.error.path])).toEqual([['lookout.spec.rejected.quiet', false, 'quiet', 'kind']]);
  expect(await bucket.get('quiet')).toBeNull();
  expect((await bucket.get('fine'))?.revision).toBe(1);
});

test('bytes that are not JSON, and a payload over the size limit, are rejected with a code', async () => {
  const { user } = setup();
  const notJson = (await user.requestBytes('lookout.spec.put.x', '{nope')).json() as any;
  expect(notJson).toMatchObject({ ok: false, error: { code: expect.any(String) } });
  const big = (await user.request('lookout.spec.put.x', { ...spec, labels: { a: 'x'.repeat(5000) } }, 1000)).json() as any;
  expect(big).toMatchObject({ ok: false, error: { code: expect.any(String) } });
  expect(big.error.message).toMatch(/4096|bytes|large/);
});

test('requests are served by one member of the queue group: one reply, one write', async () => {
  const { hub, bucket, ask } = setup(['n1', 'n2', 'n3']);
  for (let i = 0; i < 6; i++) expect(await ask(`lookout.spec.put.c${i}`, spec)).toMatchObject({ ok: true, revision: i + 1 });
  expect(hub.published('_INBOX.>')).toHaveLength(6);
  expect(await bucket.count()).toBe(6);
});

test('list pages through the store in its order, with the cluster total', async () => {
  const { bucket, ask } = setup();
  for (const id of ['b', 'a', 'c']) await bucket.put(id, spec as never);
  expect(await ask('lookout.spec.list', { limit: 2 })).toEqual({ ok: true, ids: ['a', 'b'], next: 'b', total: 3 });
  expect(await ask('lookout.spec.list', { after: 'b', limit: 2 })).toEqual({ ok: true, ids: ['c'], next: null, total: 3 });
});

test('a failing store answers unavailable and changes nothing; the request is counted by outcome', async () => {
  const { bucket, metrics, ask } = setup();
  bucket.fail = new Error('JetStream storage full');
  const r = await ask('lookout.spec.put.api', spec);
  expect(r).toMatchObject({ ok: false, error: { code: 'unavailable' } });
  expect(r.error.message).toMatch(/nothing was changed/);
  bucket.fail = null;
  expect(await bucket.get('api')).toBeNull();
  expect(await metricLines(metrics, 'lookout_spec_requests_total')).toEqual(['lookout_spec_requests_total{op="put",outcome="unavailable"} 1']);
});

test('over the rate, requests are answered unavailable at once with a retry hint, counted, and nothing is stored', async () => {
  const { clock, hub, bucket, metrics, user } = setup(['n1'], { ratePerSec: 10, burst: 5, maxPending: 100 });
  const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => user.request(`lookout.spec.put.c${i}`, spec, 1000).then((m) => m.json() as any)));
  expect(replies.filter((r) => r.ok)).toHaveLength(5);
  const shed = replies.filter((r) => !r.ok);
  expect(shed).toHaveLength(15);
  for (const r of shed) {
    expect(r.error).toMatchObject({ code: 'unavailable', path: '' });
    expect(r.error.message).toMatch(/retry after \d+ ms; nothing was changed/);
    expect(r.retryAfterMs).toBeGreaterThanOrEqual(100); // one token per 100 ms at 10/s
  }
  expect(await bucket.count()).toBe(5);
  expect(await metricLines(metrics, 'lookout_spec_requests_shed_total')).toEqual(['lookout_spec_requests_shed_total{why="rate"} 15', 'lookout_spec_requests_shed_total{why="backlog"} 0']);
  // After the hint's wait, a request goes through again.
  clock.advance(Math.max(...shed.map((r) => r.retryAfterMs)));
  expect(await (await user.request('lookout.spec.put.later', spec, 1000)).json()).toMatchObject({ ok: true });
  // A plain publish shed by the gate is told on spec.rejected like any rejected put.
  for (let i = 0; i < 3; i++) user.publish(`lookout.spec.put.p${i}`, spec);
  await flush();
  expect(hub.published('lookout.spec.rejected.>').map((p) => p.msg.error.code)).toContain('unavailable');
});

test('a full backlog sheds at once: the answered ones never exceed the bound in flight', async () => {
  const { bucket, user, metrics } = setup(['n1'], { ratePerSec: 1_000_000, burst: 1_000_000, maxPending: 4 });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const put = bucket.put.bind(bucket);
  bucket.put = async (id, sp) => {
    await gate;
    return put(id, sp);
  };
  const pending = Array.from({ length: 10 }, (_, i) => user.request(`lookout.spec.put.c${i}`, spec, 1000).then((m) => m.json() as any));
  await flush();
  release();
  const replies = await Promise.all(pending);
  expect(replies.filter((r) => r.ok)).toHaveLength(4);
  expect(replies.filter((r) => !r.ok).every((r) => r.error.code === 'unavailable')).toBe(true);
  expect(await metricLines(metrics, 'lookout_spec_requests_shed_total')).toEqual(['lookout_spec_requests_shed_total{why="rate"} 0', 'lookout_spec_requests_shed_total{why="backlog"} 6']);
  expect(await metricLines(metrics, 'lookout_spec_api_backlog')).toEqual(['lookout_spec_api_backlog 0']);
});

test('rejections are logged at debug, with one info summary per period counting them by code', async () => {
  const lines: any[] = [];
  const log = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const { clock, user } = setup(['n1'], { ratePerSec: 1000, burst: 30, maxPending: 1000 }, log);
  await Promise.all(Array.from({ length: 40 }, (_, i) => user.request(`lookout.spec.put.c${i}`, { ...spec, intervalMs: 1 }, 1000)));
  const rejected = lines.filter((l) => l.event === 'spec_request_rejected');
  expect(rejected).toHaveLength(30);
  expect(rejected.every((l) => l.level === 20)).toBe(true); // debug
  expect(lines.filter((l) => l.level >= 30 && l.event !== 'spec_api_serving')).toEqual([]);
  clock.advance(10_000);
  const summaries = lines.filter((l) => l.event === 'spec_rejections');
  expect(summaries).toEqual([expect.objectContaining({ level: 30, counts: { range: 30, 'unavailable(rate)': 10 } })]);
  clock.advance(10_000); // a quiet period: no summary
  expect(lines.filter((l) => l.event === 'spec_rejections')).toHaveLength(1);
});

test('LOOKOUT_MAX_SPECS: a new id beyond the cap is refused with code limit; updates and deletes still work', async () => {
  const { bucket, ask } = setup(['n1'], roomy, silentLog, 2);
  for (const id of ['a', 'b']) await bucket.put(id, spec as never);
  const r = await ask('lookout.spec.put.c', spec);
  expect(r).toMatchObject({ ok: false, error: { code: 'limit', path: 'id' } });
  expect(r.error.message).toMatch(/LOOKOUT_MAX_SPECS \(2\)/);
  expect(await bucket.get('c')).toBeNull();
  expect(await ask('lookout.spec.put.a', { ...spec, intervalMs: 6000 })).toMatchObject({ ok: true });
});

test('a full spec bucket answers storage_full, naming the setting', async () => {
  const { bucket, ask } = setup();
  bucket.fail = new SpecBucketFull(new Error('maximum bytes exceeded'));
  const r = await ask('lookout.spec.put.a', spec);
  expect(r).toMatchObject({ ok: false, error: { code: 'storage_full' } });
  expect(r.error.message).toMatch(/LOOKOUT_SPECS_MAX_BYTES.*nothing was changed/);
});

test('spec.schema answers the CheckSpec JSON Schema', async () => {
  const { ask } = setup();
  const r = await ask('lookout.spec.schema', '');
  expect(r).toMatchObject({ ok: true, schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', $id: 'urn:lookout:check-spec:v1' } });
});
