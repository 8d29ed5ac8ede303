// Benchmark 8 — how closely a probe keeps its deadline, in process (no NATS, no node): hostile
// targets on 127.0.0.1 and `probeHttp` / `probeTcp` called directly, the wall time measured around
// each call. The tests check what the outcome says (reason "timeout", "timed out after 300 ms",
// the phase it stopped in); how soon after `timeoutMs` it returns is measured here.
//   - http-silent: a server that accepts and never answers, timeoutMs 300
//   - http-drip:   headers, then one body byte every 100 ms forever, with a body assertion
//   - tcp-silent:  accepts, never answers; send + expect, timeoutMs 300
//   - drip-unread: the dripping body without body assertions: returns at the headers
//   - abort:       a silent target with timeoutMs 5000, aborted 50 ms in: abort() → return
//   - concurrent:  BENCH_CONCURRENT http-silent probes at once, each one's overshoot
// Goals (the bounds the tests used to assert): overshoot ≤ 100 ms; abort → return < 100 ms;
// drip-unread well under timeoutMs.
//
//   npm run build && npm run bench:deadline
//   knobs: BENCH_ROUNDS (40), BENCH_CONCURRENT (50)

import http from 'node:http';
import net from 'node:net';
import { probeHttp } from '../checks/http-probe';
import { closeProbeEnv, DIRECT_PROBE_ENV } from '../checks/probe-env';
import { normalizeSpec, type CheckSpec } from '../checks/spec';
import { probeTcp } from '../checks/tcp-probe';
import { dist } from './lib/stats';
import { envInt, note, runBench, sleep } from './lib/util';

const ROUNDS = envInt('BENCH_ROUNDS', 40);
const CONCURRENT = envInt('BENCH_CONCURRENT', 50);
const TIMEOUT = 300;

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as net.AddressInfo).port;
}

async function timed<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await f();
  return { value, ms: performance.now() - t0 };
}

const spec = (id: string, s: Partial<CheckSpec>) => normalizeSpec(id, { timeoutMs: TIMEOUT, ...s } as CheckSpec);

runBench('probe-deadline', async (cleanup) => {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => void sockets.add(s.on('error', () => {})));
  const silentPort = await listen(silent);
  const drip = http.createServer((_req, res) => {
    res.writeHead(200);
    res.flushHeaders();
    const t = setInterval(() => res.write('x'), 100);
    res.on('close', () => clearInterval(t));
  });
  const dripPort = await listen(drip);
  cleanup(() => new Promise((r) => silent.close(() => r(undefined))));
  cleanup(() => new Promise((r) => drip.close(() => r(undefined))));
  cleanup(() => drip.closeAllConnections());
  cleanup(() => sockets.forEach((s) => s.destroy()));
  cleanup(() => closeProbeEnv(DIRECT_PROBE_ENV));

  const httpSilent = spec('b-silent', { kind: 'http', target: `http://127.0.0.1:${silentPort}/` });
  const httpDrip = spec('b-drip', { kind: 'http', target: `http://127.0.0.1:${dripPort}/`, http: { bodyContains: 'never' } });
  const dripUnread = spec('b-unread', { kind: 'http', target: `http://127.0.0.1:${dripPort}/` });
  const tcpSilent = spec('b-tcp', { kind: 'tcp', target: `127.0.0.1:${silentPort}`, tcp: { send: 'hello', expect: 'world' } });
  const longSilent = spec('b-abort', { kind: 'http', target: `http://127.0.0.1:${silentPort}/`, timeoutMs: 5000 });

  const over = { httpSilent: [] as number[], httpDrip: [] as number[], tcpSilent: [] as number[] };
  const unread: number[] = [];
  const abort: number[] = [];
  const wrong: string[] = [];
  const expectReason = (what: string, reason: string | null, want: string | null) => void (reason !== want && wrong.push(`${what}: ${reason}`));
  for (let i = 0; i < ROUNDS; i++) {
    const a = await timed(() => probeHttp(httpSilent));
    expectReason('http-silent', a.value.reason, 'timeout');
    over.httpSilent.push(a.ms - TIMEOUT);
    const b = await timed(() => probeHttp(httpDrip));
    expectReason('http-drip', b.value.reason, 'timeout');
    over.httpDrip.push(b.ms - TIMEOUT);
    const c = await timed(() => probeTcp(tcpSilent));
    expectReason('tcp-silent', c.value.reason, 'timeout');
    over.tcpSilent.push(c.ms - TIMEOUT);
    const d = await timed(() => probeHttp(dripUnread));
    expectReason('drip-unread', d.value.reason, null);
    unread.push(d.ms);
    const ctl = new AbortController();
    const p = probeHttp(longSilent, ctl.signal);
    await sleep(50);
    const e = await timed(() => {
      ctl.abort();
      return p;
    });
    expectReason('abort', e.value.reason, 'error');
    abort.push(e.ms);
  }
  note('sequential rounds done');
  const concurrent = await Promise.all(Array.from({ length: CONCURRENT }, () => timed(() => probeHttp(httpSilent))));
  for (const c of concurrent) expectReason('concurrent', c.value.reason, 'timeout');
  const concurrentOver = concurrent.map((c) => c.ms - TIMEOUT);

  const d = (xs: number[]) => dist(xs, 1);
  const worstOver = Math.max(...over.httpSilent, ...over.httpDrip, ...over.tcpSilent);
  return {
    rounds: ROUNDS,
    timeoutMs: TIMEOUT,
    overshootMs: { httpSilent: d(over.httpSilent), httpDrip: d(over.httpDrip), tcpSilent: d(over.tcpSilent), [`concurrent${CONCURRENT}`]: d(concurrentOver) },
    dripUnreadMs: d(unread),
    abortToReturnMs: d(abort),
    wrongOutcomes: wrong.slice(0, 5),
    goals: { overshootMs: 100, abortMs: 100, dripUnreadMs: TIMEOUT },
    met: { overshoot: worstOver <= 100, concurrent: Math.max(...concurrentOver) <= 100, abort: Math.max(...abort) < 100, dripUnread: Math.max(...unread) < TIMEOUT, outcomes: wrong.length === 0 },
  };
});
