// Spec API against a real nats-server and a real node: request/reply acks with revisions,
// validation errors with code and path, rejected events for plain publishes, nothing stored on
// error, get / list / delete.
import { listOrderBefore, specKey } from '../../protocol/spec-key';
import { SETTINGS } from '../../runtime/config';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NodeHandle } from '../../app/start-node';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { client, Collector, request, startTestNode } from '../helpers/lookout';
import { waitFor } from '../helpers/poll';

let server: NatsServer;
let node: NodeHandle;
let nc: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer();
  node = await startTestNode(server);
  nc = await client(server);
});

afterAll(async () => {
  await nc?.close();
  await node?.stop();
  await server?.cleanup();
});

const valid = { kind: 'http', target: 'http://127.0.0.1:9/', intervalMs: 60_000, timeoutMs: 1000 };

async function stored(id: string) {
  const kv = await new Kvm(nc).open('lookout_specs');
  const e = await kv.get(specKey(id, SETTINGS.shards.default));
  return e && e.operation === 'PUT' ? e.json<any>() : null;
}

test('put with request → ack with the KV revision; get returns the spec and revision', async () => {
  const r1 = await request(nc, 'lookout.spec.put.api-1', valid);
  expect(r1).toEqual({ ok: true, id: 'api-1', revision: expect.any(Number) });
  const r2 = await request(nc, 'lookout.spec.put.api-1', { ...valid, intervalMs: 30_000 });
  expect(r2.revision).toBeGreaterThan(r1.revision);
  const got = await request(nc, 'lookout.spec.get.api-1');
  expect(got).toEqual({ ok: true, id: 'api-1', revision: r2.revision, spec: { ...valid, intervalMs: 30_000 } });
  expect(await stored('api-1')).toEqual({ ...valid, intervalMs: 30_000 });
});

test('replicas above the cluster\'s vantage points: stored as written, and the ack warns (not silently capped)', async () => {
  const r = await request(nc, 'lookout.spec.put.wide-1', { ...valid, replicas: 5 });
  expect(r).toEqual({ ok: true, id: 'wide-1', revision: expect.any(Number), warnings: [{ code: 'replicas_capped', message: expect.stringContaining('LOOKOUT_VANTAGE_POINTS=3'), path: 'replicas' }] });
  expect(await stored('wide-1')).toMatchObject({ replicas: 5 });
  expect(await request(nc, 'lookout.spec.put.wide-2', { ...valid, replicas: 3 })).not.toHaveProperty('warnings');
  await request(nc, 'lookout.spec.delete.wide-1');
  await request(nc, 'lookout.spec.delete.wide-2');
});

test.each([
  ['unknown field', { ...valid, intervalMS: 5000 }, 'unknown_field', 'intervalMS'],
  ['bad status class', { ...valid, http: { expectStatus: [200, '6xx'] } }, 'format', 'http.expectStatus[1]'],
  ['timeout ≥ interval', { ...valid, intervalMs: 1000, timeoutMs: 1000 }, 'conflict', 'timeoutMs'],
  ['id mismatch', { ...valid, id: 'other' }, 'id_mismatch', 'id'],
  ['not an object', [1, 2], 'not_object', ''],
])('invalid spec (%s) → error reply with code and path, nothing stored', async (_name, spec, code, path) => {
  const id = `bad-${code}`;
  const r = await request(nc, `lookout.spec.put.${id}`, spec);
  expect(r).toEqual({ ok: false, error: { code, path, message: expect.any(String) } });
  expect(r.error.message.length).toBeGreaterThan(5);
  expect(await stored(id)).toBeNull();
});

test('a payload that is not JSON, or too large, or an invalid id → clear error, nothing stored', async () => {
  expect(await request(nc, 'lookout.spec.put.nojson', '{"kind": http')).toMatchObject({ ok: false, error: { code: 'invalid_json', path: '' } });
  const big = JSON.stringify({ ...valid, http: { method: 'POST', body: 'x'.repeat(300 * 1024) } });
  expect(big.length).toBeGreaterThan(256 * 1024); // LOOKOUT_MAX_SPEC_BYTES default
  expect(await request(nc, 'lookout.spec.put.huge', big)).toMatchObject({ ok: false, error: { code: 'too_large', path: '' } });
  expect(await request(nc, 'lookout.spec.put.bad$id', valid)).toMatchObject({ ok: false, error: { code: 'invalid_id', path: 'id' } });
  expect(await request(nc, 'lookout.spec.put.a.b', valid)).toMatchObject({ ok: false, error: { code: 'invalid_id', path: 'id' } });
  expect(await stored('nojson')).toBeNull();
  expect(await stored('huge')).toBeNull();
});

test('a plain publish that is rejected produces an event on spec.rejected.<id>; a valid one is stored', async () => {
  const rejected = new Collector(nc, 'lookout.spec.rejected.>');
  nc.publish('lookout.spec.put.plain-bad', JSON.stringify({ ...valid, kind: 'ftp' }));
  nc.publish('lookout.spec.put.plain-ok', JSON.stringify(valid));
  const ev = await waitFor('rejected event', () => rejected.messages[0]);
  expect(ev.subject).toBe('lookout.spec.rejected.plain-bad');
  expect(ev.msg).toEqual({ ok: false, id: 'plain-bad', error: { code: 'enum', path: 'kind', message: expect.any(String) } });
  await waitFor('plain-ok stored', () => stored('plain-ok'));
  expect(await stored('plain-bad')).toBeNull();
  rejected.stop();
});

test('list is paged in (shard, id) order; delete removes; get of a missing id is not_found', async () => {
  for (const id of ['list-a', 'list-b', 'list-c']) await request(nc, `lookout.spec.put.${id}`, valid);
  // The list reads the bucket at once; its total is the members' heartbeat count (a heartbeat later).
  const all = await waitFor('list shows the new ids, and the total counts them', async () => {
    const r = await request(nc, 'lookout.spec.list');
    return ['list-a', 'list-b', 'list-c'].every((id) => r.ids.includes(id)) && r.total === r.ids.length && r;
  });
  const order = (a: string, b: string) => (listOrderBefore(a, b, SETTINGS.shards.default) ? -1 : 1);
  expect([...all.ids].sort(order)).toEqual(all.ids);
  const at = all.ids.indexOf('list-a');
  const p1 = await request(nc, 'lookout.spec.list', { after: 'list-a', limit: 1 });
  expect(p1.ids).toEqual(all.ids.slice(at + 1, at + 2));
  expect(p1.next).toBe(at + 2 < all.ids.length ? all.ids[at + 1] : null);
  expect(await request(nc, 'lookout.spec.list', { limit: 0 })).toMatchObject({ ok: false, error: { code: 'range', path: 'limit' } });
  expect(await request(nc, 'lookout.spec.delete.list-b')).toEqual({ ok: true, id: 'list-b', existed: true });
  expect(await request(nc, 'lookout.spec.delete.list-b')).toEqual({ ok: true, id: 'list-b', existed: false });
  expect(await request(nc, 'lookout.spec.get.list-b')).toMatchObject({ ok: false, error: { code: 'not_found', path: 'id' } });
  await waitFor('list without list-b', async () => !(await request(nc, 'lookout.spec.list')).ids.includes('list-b'));
});
