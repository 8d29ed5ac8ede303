// A dns check end to end: a real `lookout node` process (dist/) on its own nats-server runs dns
// checks against a DNS server the test starts on 127.0.0.1 and publishes results with the dns
// fields; its spec API rejects a dns.server the node's address policy denies (LOOKOUT_TARGET_DENY)
// and an invalid dns section, and stores nothing for either.
import { waitFor } from '../helpers/poll';
import { rr, startDnsServer, type DnsTestServer } from '../../testkit/dns-server';
import { startNodeProcess, type NodeProcessFixture } from '../helpers/node-process';
import { request } from '../helpers/lookout';

let dns: DnsTestServer;
let f: NodeProcessFixture;

beforeAll(async () => {
  dns = await startDnsServer({ 'app.test': { records: [rr.a('app.test', '10.0.0.1')] } });
  f = await startNodeProcess({}, { LOOKOUT_TARGET_DENY: '127.0.0.2/32' });
  // The node is up once its spec API answers.
  await waitFor('the spec API', () => request(f.nc, 'lookout.spec.list', '', 1000).then((r) => r.ok === true), { timeoutMs: 60_000 });
});

afterAll(async () => {
  await f?.close();
  await dns?.close();
});

const check = (target: string, dnsOptions: object = {}) => ({ kind: 'dns', target, intervalMs: 1000, timeoutMs: 500, dns: { server: dns.address, ...dnsOptions } });

test('a dns check publishes results with the server, rcode and answers, and goes up', async () => {
  expect(await f.put('dns-ok', check('app.test', { answersEqual: ['10.0.0.1'] }))).toMatchObject({ ok: true, id: 'dns-ok' });
  const [first] = await waitFor('a dns result', () => f.events.results('dns-ok'), { until: (rs) => rs.length >= 1 });
  expect(first).toMatchObject({
    checkId: 'dns-ok',
    ok: true,
    status: 'up',
    reason: null,
    kind: 'dns',
    target: 'app.test',
    dns: { server: dns.address, transport: 'udp', rcode: 'NOERROR', answers: 1 },
    timings: { firstByte: expect.any(Number), total: expect.any(Number) },
  });
  await waitFor('the up transition', () => f.events.statuses('dns-ok'), { until: (ss) => ss.some((s) => s.to === 'up') });
  expect(dns.queries.udp).toBeGreaterThanOrEqual(1);
});

test('a name that does not exist: reason nxdomain', async () => {
  await f.put('dns-nx', check('gone.test'));
  const [first] = await waitFor('a dns result', () => f.events.results('dns-nx'), { until: (rs) => rs.length >= 1 });
  expect(first).toMatchObject({ ok: false, reason: 'nxdomain', message: 'expected rcode NOERROR, got NXDOMAIN', dns: { rcode: 'NXDOMAIN', answers: 0 } });
});

test('a denied DNS server is rejected by the spec API, and nothing is stored', async () => {
  const reply = await f.put('dns-denied', { kind: 'dns', target: 'app.test', dns: { server: '127.0.0.2:53' } });
  expect(reply).toEqual({
    ok: false,
    error: { code: 'denied', path: 'dns.server', message: "DNS server 127.0.0.2:53 is denied by this node's address policy: LOOKOUT_TARGET_DENY: 127.0.0.2/32" },
  });
  expect(await request(f.nc, 'lookout.spec.get.dns-denied')).toMatchObject({ ok: false, error: { code: 'not_found' } });
});

test('an invalid dns section is rejected with its code and path', async () => {
  expect(await f.put('dns-bad', { kind: 'dns', target: 'app.test', dns: { type: 'PTR' } })).toMatchObject({
    ok: false,
    error: { code: 'enum', path: 'dns.type' },
  });
  expect(await f.put('dns-bad', { kind: 'dns', target: 'app.test', dns: { answersContain: ['not-an-address'] } })).toMatchObject({
    ok: false,
    error: { code: 'format', path: 'dns.answersContain[0]' },
  });
});
