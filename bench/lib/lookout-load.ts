// One `lookout node` process (production profile, defaults) probing `rate` checks at a 1 s
// interval (so `rate` probes/s, open loop: each check on its own timer), every result published to
// its own nats-server. The checks are HTTP against nginx (a fresh connection per probe), or of
// another kind (`dns` against testkit's DNS server, `grpc` against its gRPC health server, `push`
// with this process reporting in for every check once an interval): the spec of check i comes from
// `specOf`, and a `drive` function, when given, runs beside the node from the put to the end. Measured once every check is owned and probed for a
// warm-up: probes from lookout_probes_total on /metrics, CPU (utime + stime) of the node's process
// tree from /proc, over the window only.

import { loadavg } from 'node:os';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ProberWindow, OursFn } from './blackbox-load';
import { spawnNode, nodeEnv } from './lookout';
import { startNats } from './nats-server';
import { LoadMeter, processTree, treeCpuMs } from './procfs';
import { histogramDelta, histogramQuantile, sum } from './prom';
import { checkId, natsClient, putSpecs } from './specs';
import { sleep, waitFor } from './util';

export const INTERVAL_MS = 1000;

/** The spec of check `id` (JSON, as put): what one probe of the load does. */
export type SpecOf = (id: string) => Record<string, unknown>;

/** HTTP GET against nginx on `port`, a path per check (the §1 load). */
export const httpSpecOf =
  (port: number): SpecOf =>
  (id) => ({ kind: 'http', target: `http://127.0.0.1:${port}/c/${id}`, intervalMs: INTERVAL_MS, timeoutMs: INTERVAL_MS - 1 });

/** An A query of `name` to the DNS server at `server` ("127.0.0.1:port"). */
export const dnsSpecOf =
  (server: string, name: string): SpecOf =>
  () => ({ kind: 'dns', target: name, intervalMs: INTERVAL_MS, timeoutMs: INTERVAL_MS - 1, dns: { server } });

/** grpc.health.v1 Check (the server as a whole, plaintext) against `address` ("127.0.0.1:port"). */
export const grpcSpecOf =
  (address: string): SpecOf =>
  () => ({ kind: 'grpc', target: address, intervalMs: INTERVAL_MS, timeoutMs: INTERVAL_MS - 1 });

/** A push check with a period of one interval (its grace and cadence the defaults: one interval each). */
export const pushSpecOf: SpecOf = () => ({ kind: 'push', intervalMs: INTERVAL_MS });

/** Something that loads the node from outside beside its probing (started after the put); returns its stop. */
export type Drive = (nc: NatsConnection, ids: readonly string[]) => () => void;

/**
 * Reports in for every check once an interval, open loop: the ids in turn, spread evenly over
 * the interval (a tick every 10 ms publishes the reports due by then), each an empty payload (`ok`).
 */
export const reportEveryInterval: Drive = (nc, ids) => {
  const t0 = performance.now();
  let sent = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) * ids.length) / INTERVAL_MS);
    for (; sent < due; sent++) nc.publish(`lookout.push.${ids[sent % ids.length]!}`);
  }, 10);
  return () => clearInterval(timer);
};

/**
 * `profileDir`: the node runs with --cpu-prof into it and is stopped with SIGTERM (so the profile is written).
 * `drive`: runs from the put to the end of the window (its publishes are this process's CPU: not the node's).
 */
/** `env`: settings for this node on top of nodeEnv() (a variant row, e.g. LOOKOUT_TIMER_GRAIN_MS=0). */
export async function lookoutAtRate(specOf: SpecOf, rate: number, warmSec: number, seconds: number, ours: OursFn, profileDir?: string, drive?: Drive, env: Record<string, string> = {}): Promise<ProberWindow> {
  const nats = await startNats();
  const nc = await natsClient(nats.url);
  const node = spawnNode({
    id: `bench-tp-${rate}`,
    natsUrl: nats.url,
    env: nodeEnv(env),
    echo: true,
    ...(profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
  });
  let stopDrive: (() => void) | undefined;
  try {
    await node.httpPort();
    const specs = new Map<string, unknown>();
    for (let i = 0; i < rate; i++) specs.set(checkId(i), specOf(checkId(i)));
    await putSpecs(nc, specs);
    stopDrive = drive?.(nc, [...specs.keys()]);
    await waitFor('all checks owned', async () => sum(await node.metrics(), 'lookout_checks_owned') === rate, 60_000, 200);
    // Warm-up after every check is owned: each is scheduled and probed a few times (first verdicts, JIT).
    await sleep(warmSec * 1000);
    const m0 = await node.metrics();
    const meter = new LoadMeter(() => [...processTree(node.pid), nats.pid, ...ours()]);
    const c0 = treeCpuMs(node.pid);
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const c1 = treeCpuMs(node.pid);
    const wall = performance.now() - t0;
    const load = meter.read();
    const m1 = await node.metrics();
    const d = (name: string, ...match: string[]) => sum(m1, name, ...match) - sum(m0, name, ...match);
    const lat = histogramDelta(m1, m0, 'lookout_schedule_lateness_seconds');
    return {
      count: d('lookout_probes_total'),
      ok: d('lookout_probes_total', 'result="ok"'),
      cpuMs: c1 - c0,
      wallMs: wall,
      foreignPct: load.foreignPct,
      loadavg1m: loadavg()[0]!,
      extra: {
        checks: rate,
        published: d('lookout_published_total', 'type="result"'),
        skippedRounds: d('lookout_skipped_rounds_total'),
        latenessP99le: histogramQuantile(lat, 'lookout_schedule_lateness_seconds', 0.99).le,
        ...(drive ? { pushReportsAccepted: d('lookout_push_reports_total', 'outcome="accepted"'), pushReportsRefused: d('lookout_push_reports_total') - d('lookout_push_reports_total', 'outcome="accepted"') } : {}),
      },
    };
  } finally {
    stopDrive?.();
    await node.kill(profileDir ? 'SIGTERM' : 'SIGKILL');
    await nc.close();
    await nats.stop();
  }
}
