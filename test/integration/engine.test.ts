// The check engine end to end on one node: real nats-server, real HTTP/TCP targets, the node's
// own scheduler. Results flow, verdict changes publish exactly one transition each, deletes stop
// checks, a restarted node resumes every stored check and continues seq.
import type { NatsConnection } from '@nats-io/transport-node';
import type { NodeHandle } from '../../app/start-node';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { client, Collector, request, startTestNode } from '../helpers/lookout';
import { waitFor } from '../helpers/poll';
import { closedPort, startHttpTarget, startHttpTarget as startHttps, startSilentTarget, UNRESOLVABLE_HOST, type HttpTarget } from '../helpers/targets';

let server: NatsServer;
let node: NodeHandle;
let nc: NatsConnection;
let target: HttpTarget;
let events: Collector;

beforeAll(async () => {
  server = await startNatsServer();
  node = await startTestNode(server);
  nc = await client(server);
  target = await startHttpTarget();
  events = new Collector(nc, 'lookout.>');
});

afterAll(async () => {
  events?.stop();
  await nc?.close();
  await node?.stop();
  await target?.close();
  await server?.cleanup();
});

const put = (id: string, spec: object) => request(nc, `lookout.spec.put.${id}`, spec);

test('a healthy target produces results with every contract field', async () => {
  target.set('/healthy', { status: 200, body: 'all good' });
  await put('healthy', { kind: 'http', target: `${target.url}/healthy`, intervalMs: 1000, timeoutMs: 500, http: { bodyContains: 'good' }, labels: { team: 'web' } });
  const [r1, r2] = await waitFor('two results', () => events.results('healthy'), { until: (rs) => rs.length >= 2 });
  expect(r1).toEqual({
    checkId: 'healthy',
    ok: true,
    status: 'up',
    latencyMs: expect.any(Number),
    reason: null,
    message: null,
    node: node.nodeId,
    at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    epoch: expect.any(Number),
    seq: 1,
    vantage: 0,
    kind: 'http',
    target: `${target.url}/healthy`,
    slot: expect.any(Number),
    intervalMs: 1000,
    timings: expect.objectContaining({ connect: expect.any(Number), firstByte: expect.any(Number), total: expect.any(Number) }),
    httpStatus: 200,
    bodyBytes: 8,
    truncated: false,
    history: '000000111', // 8 pre-filled by the default policy (initial 2 of window 8), then ✓
    skipped: 0,
  });
  expect(r1.epoch).toBeGreaterThanOrEqual(1); // the single node elected itself and assigned all shards to itself
  expect(r2.seq).toBe(2);
  expect(r2.slot - r1.slot).toBe(1000);
  expect(events.statuses('healthy')).toEqual([expect.objectContaining({ from: 'unknown', to: 'up', seq: 1, epoch: r1.epoch, node: node.nodeId, reason: null })]);
});

test('a target that turns bad gives exactly one up → down after the policy says so, and one down → up on recovery', async () => {
  target.set('/flip', { status: 200 });
  await put('flip', { kind: 'http', target: `${target.url}/flip`, intervalMs: 1000, timeoutMs: 500, policy: { type: 'consecutive', rise: 2, fall: 2 } });
  // consecutive starts down (initial "down"): two passes make it up.
  await waitFor('flip up', () => events.statuses('flip'), { until: (ss) => ss.some((s) => s.to === 'up') });
  target.set('/flip', { status: 503 });
  const down = await waitFor('up → down', () => events.statuses('flip').find((s) => s.from === 'up' && s.to === 'down'));
  expect(down).toMatchObject({ reason: 'status', message: expect.stringContaining('503') });
  // fall 2: the transition came with the second consecutive failure, not the first.
  const results = events.results('flip');
  const at = results.findIndex((r) => r.seq === down.seq);
  expect(results.slice(at - 1, at + 1).map((r) => [r.ok, r.status])).toEqual([[false, 'up'], [false, 'down']]);
  target.set('/flip', { status: 200 });
  const up = await waitFor('down → up', () => events.statuses('flip').find((s) => s.from === 'down' && s.to === 'up' && s.seq > down.seq));
  const r2 = events.results('flip');
  const i = r2.findIndex((r) => r.seq === up.seq);
  expect(r2.slice(i - 1, i + 1).map((r) => [r.ok, r.status])).toEqual([[true, 'down'], [true, 'up']]);
  // Two more healthy rounds: no further transitions.
  await waitFor('two more results', () => events.results('flip').slice(-3), { until: (rs) => rs.filter((r) => r.seq > up.seq).length >= 2 });
  expect(events.statuses('flip').map((s) => `${s.from}→${s.to}`)).toEqual(['unknown→down', 'down→up', 'up→down', 'down→up']);
  const seqs = events.results('flip').map((r) => r.seq);
  expect(seqs).toEqual(seqs.map((_, k) => k + 1));
});

test('delete stops the check within one interval', async () => {
  target.set('/gone', { status: 200 });
  await put('gone', { kind: 'http', target: `${target.url}/gone`, intervalMs: 1000, timeoutMs: 500 });
  await put('sentinel', { kind: 'http', target: `${target.url}/sentinel`, intervalMs: 1000, timeoutMs: 500 });
  await waitFor('gone probed', () => events.results('gone'), { until: (rs) => rs.length >= 1 });
  expect(await request(nc, 'lookout.spec.delete.gone')).toEqual({ ok: true, id: 'gone', existed: true });
  const deletedAt = Date.now();
  const hitsAtDelete = target.hits('/gone');
  // The sentinel (same interval) is our clock: two of its slots after the delete span > 1 interval.
  await waitFor('two sentinel rounds after the delete', () => events.results('sentinel').slice(-3), { until: (rs) => rs.filter((r) => r.slot > deletedAt).length >= 2 });
  // At most the one slot under way when the delete landed; none after it.
  expect(events.results('gone').filter((r) => r.slot > deletedAt).length).toBeLessThanOrEqual(1);
  expect(target.hits('/gone') - hitsAtDelete).toBeLessThanOrEqual(1);
});

test('hostile targets give down results with the right reason, and the node keeps going', async () => {
  const silent = await startSilentTarget();
  const tls = await startHttps({ tls: true });
  const refused = await closedPort();
  try {
    const specs: Record<string, object> = {
      'h-silent': { kind: 'http', target: `http://${silent.target}/`, intervalMs: 1000, timeoutMs: 300 },
      'h-dns': { kind: 'http', target: `http://${UNRESOLVABLE_HOST}/`, intervalMs: 1000, timeoutMs: 500 },
      'h-refused': { kind: 'tcp', target: `127.0.0.1:${refused}`, intervalMs: 1000, timeoutMs: 500 },
      'h-tls': { kind: 'http', target: `${tls.url}/`, intervalMs: 1000, timeoutMs: 500 },
      'h-tls-noverify': { kind: 'http', target: `${tls.url}/`, intervalMs: 1000, timeoutMs: 500, http: { tls: { verify: false } } },
    };
    for (const [id, spec] of Object.entries(specs)) await put(id, spec);
    // The first result that speaks of the target: on a machine this loaded a probe's deadline may
    // be eaten by the node's own stall, and that result is `inconclusive` (protocol/overload.ts).
    const first = (id: string) => waitFor(`a result for ${id}`, () => events.results(id).find((r) => r.reason !== 'inconclusive'));
    // The published outcome says what stopped the probe: its own 300 ms deadline, after connecting
    // and before any byte came back (how fast the deadline fires is bench:deadline's figure).
    const silentResult = await first('h-silent');
    expect(silentResult).toMatchObject({ ok: false, reason: 'timeout', message: 'timed out after 300 ms' });
    expect(silentResult.timings.connect).toEqual(expect.any(Number));
    expect(silentResult.timings.firstByte).toBeUndefined();
    expect(await first('h-dns')).toMatchObject({ ok: false, reason: 'dns' });
    expect(await first('h-refused')).toMatchObject({ ok: false, reason: 'refused' });
    expect(await first('h-tls')).toMatchObject({ ok: false, reason: 'tls' });
    expect(await first('h-tls-noverify')).toMatchObject({ ok: true, httpStatus: 200 });
    for (const id of Object.keys(specs)) await request(nc, `lookout.spec.delete.${id}`);
  } finally {
    await silent.close();
    await tls.close();
  }
});

test('a restarted node resumes every stored check from KV and continues seq without a spurious transition', async () => {
  target.set('/persist', { status: 200 });
  target.set('/persist-too', { status: 200 });
  await put('persist', { kind: 'http', target: `${target.url}/persist`, intervalMs: 1000, timeoutMs: 500 });
  await put('persist-too', { kind: 'http', target: `${target.url}/persist-too`, intervalMs: 1000, timeoutMs: 500 });
  await waitFor('persist has 2 results', () => [events.results('persist').length, events.results('persist-too').length], { until: ([a, b]) => a! >= 2 && b! >= 1 });
  await node.stop();
  const before = events.results('persist');
  const last = before[before.length - 1];
  node = await startTestNode(server);
  const after = await waitFor('results from the new node', () => {
    const r = events.results('persist').filter((x) => x.node === node.nodeId);
    return r.length >= 2 && r;
  });
  expect(after[0].seq).toBe(last.seq + 1);
  expect(after[0].status).toBe('up');
  expect(events.statuses('persist')).toHaveLength(1); // only the first unknown → up
  // The other stored check came back too.
  await waitFor('persist-too resumed', () => events.results('persist-too').slice(-2), { until: (rs) => rs.some((r) => r.node === node.nodeId) });
});
