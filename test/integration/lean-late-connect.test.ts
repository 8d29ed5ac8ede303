// A lean probe whose connection completes after its deadline writes nothing (checks/lean-connect.ts).
// A process stopped mid-probe (SIGSTOP, a VM freeze) wakes with the connect's I/O callback ahead of
// the deadline timer: the request went out seconds after its slot, beside the new owner's probe
// (the chaos pause scenarios' uncounted duplicate of 2026-12-07). Here the monotonic clock is moved
// past the deadline while the connect is in flight — the timer (5 s) cannot run first — against a
// real TCP server that records what it is sent.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { leanEligible, probeHttpLean } from '../../checks/http-lean';
import { closeProbeEnv, DIRECT_PROBE_ENV } from '../../checks/probe-env';
import { normalizeSpec } from '../../checks/spec';
import { waitFor } from '../helpers/poll';

let server: net.Server;
const conns: { bytes: number; closed: boolean }[] = [];

beforeAll(async () => {
  server = net.createServer((socket) => {
    const c = { bytes: 0, closed: false };
    conns.push(c);
    socket.on('data', (d) => (c.bytes += d.length)).on('close', () => (c.closed = true)).on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await closeProbeEnv(DIRECT_PROBE_ENV);
});
afterEach(() => jest.restoreAllMocks());

const spec = () => normalizeSpec('late', { kind: 'http', target: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`, timeoutMs: 5000 });

test('a connection up after the deadline: a timeout, and no request sent', async () => {
  expect(leanEligible(spec())).toBe(true);
  const real = performance.now.bind(performance);
  const outcome = probeHttpLean(spec(), undefined, DIRECT_PROBE_ENV);
  jest.spyOn(performance, 'now').mockImplementation(() => real() + 10_000);
  const o = await outcome;
  expect([o.ok, o.reason]).toEqual([false, 'timeout']);
  const c = await waitFor('the server saw the connection close', () => conns.length === 1 && conns[0]!.closed && conns[0]!);
  expect(c.bytes).toBe(0);
});

test('in time, the request is sent (the server here never answers: the probe is stopped by the test)', async () => {
  const stop = new AbortController();
  const outcome = probeHttpLean(spec(), stop.signal as never, DIRECT_PROBE_ENV);
  const c = await waitFor('the request reached the server', () => conns.length === 2 && conns[1]!.bytes > 0 && conns[1]!);
  expect(c.bytes).toBeGreaterThan(0);
  stop.abort();
  expect((await outcome).message).toBe('aborted');
});
