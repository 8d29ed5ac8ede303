// The dns probe against a DNS server the test starts on 127.0.0.1 (testkit/dns-server.ts):
// each record type and expectation, the rcodes and their reasons, a server that never answers, a
// truncated UDP answer retried over TCP, garbage and a mismatched id, a closed port, and a server
// the address policy denies (it sees no query). No sleeps: the silent server is the deadline's.
import dns from 'node:dns';
import { buildAddressPolicy } from '../../checks/address-policy';
import { probeDns, systemDnsServer } from '../../checks/dns-probe';
import { runProbe } from '../../checks/probe';
import { DIRECT_PROBE_ENV, type ProbeEnv } from '../../checks/probe-env';
import { normalizeSpec, type DnsOptions } from '../../checks/spec';
import { rr, startDnsServer, type DnsTestServer } from '../../testkit/dns-server';
import { closedPort } from '../helpers/targets';

let server: DnsTestServer;

beforeAll(async () => {
  server = await startDnsServer({
    'app.test': { records: [rr.a('app.test', '10.0.0.1'), rr.a('app.test', '10.0.0.2'), rr.aaaa('app.test', '2001:db8::1')] },
    'www.test': { records: [rr.cname('www.test', 'app.test.'), rr.a('www.test', '10.0.0.1')] },
    'mail.test': { records: [rr.mx('mail.test', 10, 'MX1.mail.test'), rr.mx('mail.test', 20, 'mx2.mail.test')] },
    'txt.test': { records: [rr.txt('txt.test', 'v=spf1 ', '-all')] },
    'ns.test': { records: [{ type: 'NS', name: 'ns.test', ttl: 60, data: 'ns1.test' }] },
    '_sip._tcp.test': { records: [rr.srv('_sip._tcp.test', 0, 5, 5060, 'sip.test')] },
    'empty.test': { records: [] },
    'broken.test': { rcode: 'SERVFAIL' },
    'refusing.test': { rcode: 'REFUSED' },
    'formerr.test': { rcode: 'FORMERR' },
    'silent.test': { silent: true },
    'garbage.test': { garbage: true },
    'wrong-id.test': { wrongId: true },
    'big.test': { truncateUdp: true, records: [rr.a('big.test', '10.9.9.9')] },
  });
});
afterAll(() => server.close());

function spec(name: string, dnsOptions: DnsOptions = {}, timeoutMs = 1500) {
  return normalizeSpec('dns-test', { kind: 'dns', target: name, timeoutMs, dns: { server: server.address, ...dnsOptions } });
}

describe('a passing query', () => {
  test.each<[string, DnsOptions]>([
    ['app.test', {}],
    ['app.test', { answersContain: ['10.0.0.2'] }],
    ['app.test', { answersEqual: ['10.0.0.2', '10.0.0.1'], minAnswers: 2 }],
    ['app.test', { type: 'AAAA', answersEqual: ['2001:0db8:0:0::1'] }],
    ['www.test', { type: 'CNAME', answersEqual: ['APP.test.'] }],
    ['www.test', { answersEqual: ['10.0.0.1'] }],
    ['mail.test', { type: 'MX', answersContain: ['10 mx1.mail.test'] }],
    ['txt.test', { type: 'TXT', answersEqual: ['v=spf1 -all'] }],
    ['ns.test', { type: 'NS', answersEqual: ['ns1.test'] }],
    ['_sip._tcp.test', { type: 'SRV', answersEqual: ['0 5 5060 sip.test'] }],
    ['missing.test', { expectRcode: 'NXDOMAIN' }],
    ['broken.test', { expectRcode: 'SERVFAIL' }],
    ['empty.test', { minAnswers: 0 }],
  ])('%s %j', async (name, options) => {
    const out = await probeDns(spec(name, options));
    expect(out).toMatchObject({ ok: true, reason: null, message: null });
    expect(out.dns).toMatchObject({ server: server.address, transport: 'udp' });
    expect(out.timings.firstByte).toBeGreaterThanOrEqual(0);
    expect(out.latencyMs).toBe(out.timings.total);
  });

  test('reports the rcode and the count of answers of the queried type', async () => {
    const out = await runProbe(spec('www.test'));
    expect(out.dns).toEqual({ server: server.address, transport: 'udp', rcode: 'NOERROR', answers: 1 });
  });
});

describe('a failing query', () => {
  test.each<[string, DnsOptions, string, RegExp]>([
    ['missing.test', {}, 'nxdomain', /expected rcode NOERROR, got NXDOMAIN/],
    ['broken.test', {}, 'servfail', /got SERVFAIL/],
    ['refusing.test', {}, 'refused', /got REFUSED/],
    ['formerr.test', {}, 'answer', /got FORMERR/],
    ['app.test', { expectRcode: 'NXDOMAIN' }, 'answer', /expected rcode NXDOMAIN, got NOERROR/],
    ['empty.test', {}, 'answer', /expected at least 1 A answer, got 0 A answers/],
    ['app.test', { minAnswers: 3 }, 'answer', /expected at least 3 A answers, got 2/],
    ['app.test', { answersContain: ['10.0.0.3'] }, 'answer', /lack "10.0.0.3"/],
    ['app.test', { answersEqual: ['10.0.0.1'] }, 'answer', /expected exactly 1 value, got 1 more/],
    ['mail.test', { type: 'MX', answersContain: ['30 mx1.mail.test'] }, 'answer', /lack "30 mx1.mail.test"/],
    ['txt.test', { type: 'TXT', answersContain: ['v=spf1'] }, 'answer', /lack/],
  ])('%s %j → %s', async (name, options, reason, message) => {
    const out = await probeDns(spec(name, options));
    expect(out).toMatchObject({ ok: false, reason });
    expect(out.message).toMatch(message);
  });

  test('answers are quoted only with full result detail', async () => {
    const redacted = await probeDns(spec('app.test', { answersContain: ['10.0.0.3'] }), undefined, { ...DIRECT_PROBE_ENV, detail: 'redacted' });
    expect(redacted.message).not.toContain('10.0.0.1');
    const full = await probeDns(spec('app.test', { answersContain: ['10.0.0.3'] }));
    expect(full.message).toContain('"10.0.0.1"');
  });

  test('a server that never answers: timeout at the deadline', async () => {
    const out = await probeDns(spec('silent.test', {}, 300));
    expect(out).toMatchObject({ ok: false, reason: 'timeout', message: 'timed out after 300 ms' });
  });

  test('garbage instead of a DNS message: protocol', async () => {
    const out = await probeDns(spec('garbage.test'));
    expect(out).toMatchObject({ ok: false, reason: 'protocol' });
    expect(out.message).toMatch(/invalid DNS response from 127\.0\.0\.1:\d+ \(udp\)/);
  });

  test('an answer with another id: protocol', async () => {
    const out = await probeDns(spec('wrong-id.test'));
    expect(out).toMatchObject({ ok: false, reason: 'protocol' });
    expect(out.message).toMatch(/does not match the query's/);
  });

  test('a closed port: refused', async () => {
    const port = await closedPort();
    const out = await probeDns(normalizeSpec('dns-test', { kind: 'dns', target: 'app.test', timeoutMs: 1500, dns: { server: `127.0.0.1:${port}` } }));
    expect(out).toMatchObject({ ok: false, reason: 'refused' });
  });
});

test('a truncated UDP answer is asked again over TCP', async () => {
  const before = { ...server.queries };
  const out = await probeDns(spec('big.test', { answersEqual: ['10.9.9.9'] }));
  expect(out).toMatchObject({ ok: true, dns: { transport: 'tcp', rcode: 'NOERROR', answers: 1 } });
  expect(out.timings.connect).toBeGreaterThanOrEqual(0);
  expect(server.queries.udp - before.udp).toBe(1);
  expect(server.queries.tcp - before.tcp).toBe(1);
});

describe('the address policy', () => {
  const denying: ProbeEnv = { ...DIRECT_PROBE_ENV, policy: buildAddressPolicy({ deny: ['127.0.0.0/8'] }) };

  test('a denied server is never sent a query', async () => {
    const before = server.queries.udp + server.queries.tcp;
    const out = await probeDns(spec('app.test'), undefined, denying);
    expect(out).toMatchObject({ ok: false, reason: 'denied' });
    expect(out.message).toMatch(/127\.0\.0\.1:\d+ is denied: LOOKOUT_TARGET_DENY: 127\.0\.0\.0\/8/);
    expect(server.queries.udp + server.queries.tcp).toBe(before);
  });

  test('a server given by name is decided on the addresses it resolves to', async () => {
    const byName: ProbeEnv = { ...denying, lookup: async () => ['127.0.0.1'] };
    const out = await probeDns(normalizeSpec('dns-test', { kind: 'dns', target: 'app.test', dns: { server: `resolver.internal:${server.port}` } }), undefined, byName);
    expect(out).toMatchObject({ ok: false, reason: 'denied' });
    expect(out.message).toMatch(/^resolver\.internal → 127\.0\.0\.1:\d+ is denied/);
  });

  test('an allow list outside the server denies it too', async () => {
    const out = await probeDns(spec('app.test'), undefined, { ...DIRECT_PROBE_ENV, policy: buildAddressPolicy({ allow: ['10.0.0.0/8'] }) });
    expect(out).toMatchObject({ ok: false, reason: 'denied' });
    expect(out.message).toMatch(/not in LOOKOUT_TARGET_ALLOW/);
  });
});

describe('the system resolver', () => {
  test('reads the first configured server, with the default port when it has none', () => {
    expect(systemDnsServer(['10.0.0.53', '10.0.0.54'])).toEqual({ host: '10.0.0.53', port: 53 });
    expect(systemDnsServer(['127.0.0.1:5353'])).toEqual({ host: '127.0.0.1', port: 5353 });
    expect(systemDnsServer(['2001:db8::53'])).toEqual({ host: '2001:db8::53', port: 53 });
    expect(systemDnsServer(['[2001:db8::53]:5353'])).toEqual({ host: '2001:db8::53', port: 5353 });
    expect(systemDnsServer([])).toBeNull();
  });

  test("without dns.server the probe asks the node's resolver (here pointed at the test server)", async () => {
    const saved = dns.getServers();
    dns.setServers([server.address]);
    try {
      const out = await probeDns(normalizeSpec('dns-test', { kind: 'dns', target: 'app.test', timeoutMs: 1500 }));
      expect(out).toMatchObject({ ok: true, dns: { server: server.address, answers: 2 } });
    } finally {
      dns.setServers(saved);
    }
  });
});
