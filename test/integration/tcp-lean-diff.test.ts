// The lean TCP probe (checks/tcp-lean.ts) against the full one (checks/tcp-probe.ts) on real
// sockets: for every connect-only spec and every way a connect goes, both give the same verdict,
// reason and message, the same timing phases and the same certificate — and what the lean path must
// keep besides: the address policy at connect, the deadline, the caller's abort. Specs with dialog
// steps are not lean (runProbe sends them to the full probe).
import { buildAddressPolicy } from '../../checks/address-policy';
import type { ProbeOutcome } from '../../checks/outcome';
import { DIRECT_PROBE_ENV, type ProbeEnv } from '../../checks/probe-env';
import { runProbe } from '../../checks/probe';
import { normalizeSpec, type CheckSpec, type TcpOptions } from '../../checks/spec';
import { probeTcpLean, tcpLeanEligible } from '../../checks/tcp-lean';
import { probeTcp } from '../../checks/tcp-probe';
import { closedPort, startSilentTarget, startTcpTarget, type TcpTarget } from '../helpers/targets';
import { stopSwitches } from '../helpers/stop-switches';

function tcpSpec(target: string, tcp: TcpOptions = {}, extra: Partial<CheckSpec> = {}) {
  return normalizeSpec('tcp-lean', { kind: 'tcp', target, timeoutMs: 2000, tcp, ...extra });
}

/** What both paths must agree on: the verdict and its words, which phases were timed, the certificate. */
function verdict(o: ProbeOutcome): object {
  return { ok: o.ok, reason: o.reason, message: o.message, phases: Object.keys(o.timings).sort(), cert: o.cert?.notAfter ?? null, step: o.step, bodyBytes: o.bodyBytes };
}

async function both(spec: ReturnType<typeof tcpSpec>, env: ProbeEnv = DIRECT_PROBE_ENV): Promise<[ProbeOutcome, ProbeOutcome]> {
  expect(tcpLeanEligible(spec)).toBe(true);
  return [await probeTcp(spec, undefined, env), await probeTcpLean(spec, undefined, env)];
}

let silent: TcpTarget;
let secure: TcpTarget;
beforeAll(async () => {
  silent = await startSilentTarget();
  secure = await startTcpTarget({ tls: true });
});
afterAll(async () => {
  await silent.close();
  await secure.close();
});

describe('the lean TCP probe gives what the full one gives', () => {
  test('a completed connect passes, with its connect time and total', async () => {
    const [full, lean] = await both(tcpSpec(silent.target));
    expect(lean).toMatchObject({ ok: true, reason: null, message: null });
    expect(lean.latencyMs).toBe(lean.timings.total);
    expect(verdict(lean)).toEqual(verdict(full));
  });

  test('connection refused', async () => {
    const [full, lean] = await both(tcpSpec(`127.0.0.1:${await closedPort()}`));
    expect(lean.reason).toBe('refused');
    expect(verdict(lean)).toEqual(verdict(full));
  });

  test('a name that does not resolve: dns', async () => {
    const env: ProbeEnv = { ...DIRECT_PROBE_ENV, lookup: async () => [] };
    const [full, lean] = await both(tcpSpec('nothing.test:80'), env);
    expect(lean.reason).toBe('dns');
    expect(verdict(lean)).toEqual(verdict(full));
  });

  test('a name with two addresses: the refused one is skipped, the next connects (timed dns and connect)', async () => {
    const env: ProbeEnv = { ...DIRECT_PROBE_ENV, lookup: async () => ['127.0.0.2', '127.0.0.1'] };
    const [full, lean] = await both(tcpSpec(`two.test:${silent.port}`), env);
    expect(lean).toMatchObject({ ok: true, timings: { dns: expect.any(Number), connect: expect.any(Number) } });
    expect(verdict(lean)).toEqual(verdict(full));
  });

  test('the address policy decides before connecting: a denied address sees no connection', async () => {
    const env: ProbeEnv = { ...DIRECT_PROBE_ENV, policy: buildAddressPolicy({ deny: ['127.0.0.0/8'] }) };
    const before = silent.connections;
    const [full, lean] = await both(tcpSpec(silent.target), env);
    expect(lean).toMatchObject({ ok: false, reason: 'denied' });
    expect(verdict(lean)).toEqual(verdict(full));
    const named = await both(tcpSpec(`db.test:${silent.port}`), { ...env, lookup: async () => ['127.0.0.1'] });
    expect(named[1]).toMatchObject({ ok: false, reason: 'denied', message: expect.stringContaining('db.test → 127.0.0.1') });
    expect(verdict(named[1])).toEqual(verdict(named[0]));
    expect(silent.connections).toBe(before);
  });

  test('a lookup still running at the deadline: timeout', async () => {
    const env: ProbeEnv = { ...DIRECT_PROBE_ENV, lookup: () => new Promise<string[]>(() => {}) };
    const [full, lean] = await both(tcpSpec('never.test:80', {}, { timeoutMs: 200 }), env);
    expect(lean).toMatchObject({ ok: false, reason: 'timeout', message: 'timed out after 200 ms' });
    expect(verdict(lean)).toEqual(verdict(full));
  });

  test('slower than maxLatencyMs: latency (the lookup takes 40 ms, the bound is 10)', async () => {
    const env: ProbeEnv = { ...DIRECT_PROBE_ENV, lookup: () => new Promise<string[]>((r) => setTimeout(() => r(['127.0.0.1']), 40)) };
    const [full, lean] = await both(tcpSpec(`slow.test:${silent.port}`, { maxLatencyMs: 10 }), env);
    // The message names the measured time, which differs between two probes.
    for (const o of [full, lean]) expect(o).toMatchObject({ ok: false, reason: 'latency', message: expect.stringMatching(/^took \d+ ms, bound 10 ms$/) });
    expect({ ...verdict(lean), message: null }).toEqual({ ...verdict(full), message: null });
  });

  test('TLS: a certificate that does not verify, one that does not need to, and its days left', async () => {
    // selfSignedCert lives one day: a threshold of 2 days is `cert_expiry`.
    const rows = [[{}, 'tls'], [{ verify: false }, null], [{ verify: false, minDaysLeft: 2 }, 'cert_expiry']] as const;
    for (const [tls, reason] of rows) {
      const [full, lean] = await both(tcpSpec(secure.target, { tls }));
      expect([tls, lean.reason]).toEqual([tls, reason]);
      if (reason !== 'tls') expect(lean.cert?.notAfter).toEqual(expect.any(String));
      expect(verdict(lean)).toEqual(verdict(full));
    }
  });

  test("the caller's abort stops the probe with `error: aborted`, already aborted or in flight", async () => {
    const hang: ProbeEnv = { ...DIRECT_PROBE_ENV, lookup: () => new Promise<string[]>(() => {}) };
    const s = tcpSpec('never.test:80', {}, { timeoutMs: 60_000 });
    for (const probe of [probeTcp, probeTcpLean]) {
      // An AbortController's signal, and the runners' ProbeStop (no AbortController per probe), alike.
      for (const make of stopSwitches) {
        const done = make();
        done.abort();
        expect(await probe(s, done.signal, hang)).toMatchObject({ ok: false, reason: 'error', message: 'aborted' });
        const stop = make();
        const running = probe(s, stop.signal, hang);
        stop.abort();
        expect(await running).toMatchObject({ ok: false, reason: 'error', message: 'aborted' });
      }
    }
  });
});

describe('which path runs', () => {
  test('a spec with dialog steps is not lean; runProbe sends it to the full probe', async () => {
    const echo = await startTcpTarget({ echo: true });
    try {
      const s = tcpSpec(echo.target, { send: 'ping\n', expect: 'ping' });
      expect(tcpLeanEligible(s)).toBe(false);
      expect(await runProbe(s, undefined, DIRECT_PROBE_ENV)).toMatchObject({ ok: true, timings: { firstByte: expect.any(Number) } });
      expect(echo.received).toBe('ping\n');
    } finally {
      await echo.close();
    }
  });

  test('a connect-only spec is lean, through runProbe too', async () => {
    const s = tcpSpec(silent.target);
    expect(tcpLeanEligible(s)).toBe(true);
    expect(await runProbe(s, undefined, DIRECT_PROBE_ENV)).toMatchObject({ ok: true });
  });
});
