// The scale simulation of issue 12 §4: BENCH_CHECKS checks (default 1,000,000) at a 60 s interval
// over BENCH_NODES (10) `lookout node` processes and one JetStream nats-server in a temp dir, with
// a synthetic prober (LOOKOUT_BENCH_SYNTHETIC_PROBE_MS: every probe resolves ok after a fixed
// latency, no network). Reports:
//   - writeS: the specs written straight to the bucket (sharded keys), before any node starts;
//   - scheduledS: first node spawned → the nodes together run every check (Σ lookout_checks_owned);
//   - per node: RSS (and peak), lookout_specs_held (specs in memory: the shards it serves), checks run;
//   - resumedS: first node spawned → no resume lookup outstanding (a gained check's results are
//     parked until its lookup answers; the first window starts then);
//   - resultsPerS: results the result stream took per second over BENCH_WINDOW_MS (its last_seq),
//     in two windows: `firstInterval` (the first interval, in which every result is a first verdict too:
//     a status message stored and routed) and `later` (once the transition stream holds N: only results);
//     against the offered rate N / interval; probesPerS from lookout_probes_total, publishedPerS
//     from lookout_published_total{type="result"} (what the nodes handed to NATS);
//   - failover: one follower SIGKILLed; rescheduledS (kill → Σ owned by the survivors = N) and the
//     gap between consecutive results of a sample of its checks (minus the interval: the excess);
//     for each sampled check that missed a slot, the results either side of the gap (node, seq,
//     epoch, slot, skipped): which node held the lost slot, and whether seq says a result went unseen.
//
//   npm run build && flock /work/notes/heavy.lock npm run bench:sim-1m
//   knobs: BENCH_CHECKS, BENCH_NODES, BENCH_INTERVAL_MS (60000), BENCH_PROBE_MS (50),
//          BENCH_WINDOW_MS (60000, each window), BENCH_LATER_WINDOW (1; 0: the first window only), BENCH_SCHEDULE_TIMEOUT_MS (1200000), BENCH_RESUME_TIMEOUT_MS (600000), BENCH_SAMPLE (300),
//          BENCH_FAILOVER_TIMEOUT_MS (3 intervals), BENCH_VANTAGE (node default), BENCH_MEMORY_MB (node default),
//          BENCH_NATS_LOG (a file for the nats-server log; none by default), BENCH_LOG_DIR (a directory for every node's log lines)

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { shardOf } from '../protocol/hash';
import { SETTINGS } from '../runtime/config';
import { subjects } from '../runtime/subjects';
import { SYNTHETIC_PROBE_ENV } from '../runtime/synthetic-probe';
import { nodeEnv, spawnNode, type NodeProc } from './lib/lookout';
import { startNats } from './lib/nats-server';
import { cpuMs, LoadMeter, memMiB } from './lib/procfs';
import { scrape, sum, type Samples } from './lib/prom';
import { checkId, putSpecs } from './lib/specs';
import { dist } from './lib/stats';
import { envInt, freePort, note, round, runBench, sleep } from './lib/util';

/** A sampled check's result as the bench heard it. */
interface Heard {
  t: number;
  node: string;
  seq: number;
  slot: number;
  epoch: number;
  skipped: number;
}

const N = envInt('BENCH_CHECKS', 1_000_000);
const NODES = envInt('BENCH_NODES', 10);
const INTERVAL = envInt('BENCH_INTERVAL_MS', 60_000);
const PROBE_MS = envInt('BENCH_PROBE_MS', 50);
const WINDOW = envInt('BENCH_WINDOW_MS', 60_000);
const SCHEDULE_TIMEOUT = envInt('BENCH_SCHEDULE_TIMEOUT_MS', 1_200_000);
const SAMPLE = envInt('BENCH_SAMPLE', 300);
const RESUME_TIMEOUT = envInt('BENCH_RESUME_TIMEOUT_MS', 600_000);
const SHARDS = SETTINGS.shards.default;
const s = subjects('lookout');

interface Node {
  proc: NodeProc;
  port: number;
}

async function metricsOf(nodes: readonly Node[]) {
  return Promise.all(nodes.map(async (n) => (n.proc.alive() ? scrape(n.port).catch(() => null) : null)));
}

/** Σ over the nodes scraped (null: not scraped) of `metric`'s samples whose labels contain all of `match`. */
const sumOver = (all: readonly (Samples | null)[], metric: string, ...match: string[]) => all.reduce((a, x) => a + (x ? sum(x, metric, ...match) : 0), 0);

/**
 * Polls until, summed over the live nodes, every metric of `wants` has its value; returns the
 * seconds since `t0`, or null (timed out). The progress lines show the sums.
 */
async function untilSums(nodes: readonly Node[], t0: number, timeoutMs: number, what: string, wants: readonly (readonly [metric: string, want: number])[]): Promise<number | null> {
  let lastNote = 0;
  for (;;) {
    const m = await metricsOf(nodes);
    const totals = wants.map(([metric]) => sumOver(m, metric));
    const el = performance.now() - t0;
    if (wants.every(([, want], i) => totals[i] === want)) return round(el / 1000, 1);
    const seen = wants.map(([metric, want], i) => `${metric} ${totals[i]} (want ${want})`).join(', ');
    if (el > timeoutMs) {
      note(`${what}: gave up after ${Math.round(el / 1000)} s with ${seen}`);
      return null;
    }
    if (el - lastNote > 15_000) {
      lastNote = el;
      note(`${what}: ${seen} after ${Math.round(el / 1000)} s; RSS MiB ${nodes.map((n) => (n.proc.alive() ? Math.round(memMiB(n.proc.pid).rss) : 0)).join(' ')}`);
    }
    await sleep(2000);
  }
}

/** Polls until the live nodes run N checks between them (seconds since `t0`, or null). */
const untilScheduled = (nodes: readonly Node[], t0: number, timeoutMs: number, what: string) => untilSums(nodes, t0, timeoutMs, what, [['lookout_checks_owned', N]]);

/**
 * Polls the transition stream's last seq (`read`) until every check's first verdict is in: it
 * holds `want`, or — a few checks' first verdicts come late or never (handed over at the start) —
 * one interval has passed and it grew by less than 1% of the offered rate over the last 10 s.
 * Returns the seconds since `t0`, or null (timed out, with what it last read noted).
 */
async function untilFirstVerdicts(read: () => Promise<number>, want: number, t0: number, timeoutMs: number): Promise<number | null> {
  const start = performance.now();
  const seen: { at: number; n: number }[] = [];
  for (;;) {
    const n = await read();
    const at = performance.now();
    seen.push({ at, n });
    while (seen.length > 1 && seen[1]!.at <= at - 10_000) seen.shift();
    const quiet = at - start >= INTERVAL && at - seen[0]!.at >= 10_000 && n - seen[0]!.n < (0.01 * want * 10_000) / INTERVAL;
    if (n >= want || quiet) return round((at - t0) / 1000, 1);
    if (at - start > timeoutMs) {
      note(`first verdicts: gave up after ${Math.round(timeoutMs / 1000)} s at ${n} (want ${want})`);
      return null;
    }
    await sleep(2000);
  }
}

/** What explains a start per node: maps applied, spec snapshots (and their time), shard loads stalled, failed or restarted. */
const START_EVENTS = ['assignment_applied', 'spec_snapshot', 'spec_snapshot_failed', 'shard_specs_stalled', 'shard_specs_failed', 'shard_specs_restarted', 'shard_specs_dropped', 'spec_watch_failed', 'nats_stale_connection', 'nats_disconnected', 'nats_slow_consumer'];
/** What explains a failover besides those: links lost, overload, elections, claims between owners. */
const FAILOVER_EVENTS = [...START_EVENTS, 'node_overloaded', 'leader_elected', 'lease_renew_failed', 'assignment_written', 'handover_claimed', 'claim_held', 'claim_after_taken', 'member_dead', 'provisional_takeover'];
/** Per node, seconds from `at` (ms since the epoch, this host's clock) to the first line of each of `events` (logs from line `from[i]` on). */
function firstAfter(procs: readonly NodeProc[], at: number, events: readonly string[], from: readonly number[]): Record<string, unknown>[] {
  return procs.map((p, i) => {
    const firsts: Record<string, number> = {};
    for (const l of p.logs.slice(from[i] ?? 0)) {
      if (typeof l.event !== 'string' || !events.includes(l.event) || l.event in firsts) continue;
      const t = Date.parse(String(l.time));
      if (Number.isFinite(t)) firsts[l.event] = round((t - at) / 1000, 1);
    }
    return { node: p.id, ...firsts };
  });
}
/** Per node, the `events` logged from line `from[i]` of its log on. */
function startEvents(procs: readonly NodeProc[], events = START_EVENTS, from: readonly number[] = []): Record<string, unknown>[] {
  return procs.map((p, i) => {
    const logs = p.logs.slice(from[i] ?? 0);
    const counts: Record<string, number> = {};
    for (const l of logs) if (typeof l.event === 'string' && events.includes(l.event)) counts[l.event] = (counts[l.event] ?? 0) + 1;
    const snapshotMs = logs.filter((l) => l.event === 'spec_snapshot').map((l) => l.ms);
    const failed = logs.find((l) => l.event === 'spec_snapshot_failed' || l.event === 'shard_specs_failed');
    const why = failed ? String((failed.err as { message?: string } | undefined)?.message ?? failed.msg).slice(0, 200) : undefined;
    return { node: p.id, ...counts, ...(snapshotMs.length ? { snapshotMs } : {}), ...(why ? { firstFailure: why } : {}) };
  });
}

runBench('sim-1m', async (cleanup) => {
  // BENCH_NATS_LOG=FILE keeps the server's log (why it closed a client: slow consumer, stale link).
  const nats = await startNats(['max_payload: 1MB', ...(process.env.BENCH_NATS_LOG ? [`log_file: "${process.env.BENCH_NATS_LOG}"`] : [])].join('\n'));
  cleanup(() => nats.stop());
  const nc = await connect({ servers: nats.url, name: 'bench-sim' });
  cleanup(() => nc.close());
  const specs = new Map<string, unknown>();
  for (let i = 0; i < N; i++) specs.set(checkId(i), { kind: 'tcp', target: '127.0.0.1:9', intervalMs: INTERVAL, timeoutMs: 1000 });
  note(`writing ${N} specs`);
  const writeS = round((await putSpecs(nc, specs, 4000, SHARDS)) / 1000, 1);
  specs.clear();
  note(`specs written in ${writeS} s`);

  const env: Record<string, string> = {
    [SYNTHETIC_PROBE_ENV]: String(PROBE_MS),
    LOOKOUT_MAX_SPECS: String(N),
    LOOKOUT_SPECS_MAX_BYTES: String(4 * 1024 ** 3),
    LOOKOUT_RESULTS_MAX_BYTES: String(2 * 1024 ** 3),
    LOOKOUT_RESULTS_MAX_AGE_MS: '600000',
    // info: the start's events (maps applied, snapshots, shard loads) are counted per node (startEvents).
    LOOKOUT_LOG_LEVEL: 'info',
    ...(process.env.BENCH_VANTAGE ? { LOOKOUT_VANTAGE_POINTS: process.env.BENCH_VANTAGE } : {}),
    ...(process.env.BENCH_MEMORY_MB ? { LOOKOUT_MEMORY_MB: process.env.BENCH_MEMORY_MB } : {}),
  };
  const nodes: Node[] = [];
  const t0 = performance.now();
  for (let i = 1; i <= NODES; i++) {
    const port = await freePort();
    const proc = spawnNode({ id: `sim-${i}`, natsUrl: nats.url, env: nodeEnv({ ...env, LOOKOUT_HTTP_PORT: String(port) }), echo: process.env.BENCH_ECHO === '1' });
    nodes.push({ proc, port });
  }
  cleanup(() => Promise.all(nodes.map((n) => n.proc.kill('SIGKILL'))));
  // BENCH_LOG_DIR=DIR keeps every node's log lines (DIR/<node>.ndjson, written at the end): the timeline of a collapse.
  const logDir = process.env.BENCH_LOG_DIR;
  if (logDir) cleanup(() => { mkdirSync(logDir, { recursive: true }); for (const n of nodes) writeFileSync(join(logDir, `${n.proc.id}.ndjson`), n.proc.logs.map((l) => JSON.stringify(l)).join('\n') + '\n'); });
  const load = new LoadMeter(() => [nats.pid, ...nodes.filter((n) => n.proc.alive()).map((n) => n.proc.pid)]);
  const scheduledS = await untilScheduled(nodes, t0, SCHEDULE_TIMEOUT, 'start');
  const startLoad = load.read();
  const perNode = async () => {
    const m = await metricsOf(nodes);
    return nodes.map((n, i) => ({
      node: n.proc.id,
      ...(n.proc.alive() ? { rssMiB: Math.round(memMiB(n.proc.pid).rss), peakMiB: Math.round(memMiB(n.proc.pid).hwm) } : { dead: true }),
      specsHeld: m[i] ? sum(m[i]!, 'lookout_specs_held') : null,
      checks: m[i] ? sum(m[i]!, 'lookout_checks_owned') : null,
      lagMs: m[i] ? round(sum(m[i]!, 'lookout_event_loop_lag_window_seconds') * 1000, 0) : null,
      // Resume lookups (a gained check's first results wait for its lookup): count and mean seconds so far, and still outstanding.
      lookups: m[i] ? sum(m[i]!, 'lookout_resume_lookup_seconds_count') : null,
      lookupMeanS: m[i] && sum(m[i]!, 'lookout_resume_lookup_seconds_count') > 0 ? round(sum(m[i]!, 'lookout_resume_lookup_seconds_sum') / sum(m[i]!, 'lookout_resume_lookup_seconds_count'), 2) : null,
      lookupsPending: m[i] ? sum(m[i]!, 'lookout_resume_lookups_pending') : null,
    }));
  };
  const atScheduled = await perNode();
  note('scheduled', JSON.stringify(atScheduled));
  const events = startEvents(nodes.map((n) => n.proc));
  note('start events', JSON.stringify(events));
  if (scheduledS === null) return { checks: N, nodes: NODES, intervalMs: INTERVAL, probeMs: PROBE_MS, writeS, scheduledS, perNode: atScheduled, startEvents: events, startLoad, natsRssMiB: Math.round(memMiB(nats.pid).rss) };

  // For the failover below: a follower to SIGKILL, and a sample of its checks whose results are followed from now.
  const m = await metricsOf(nodes);
  const victim = nodes.find((_, i) => m[i] && sum(m[i]!, 'lookout_leader') === 0)!;
  const map = (await (await new Kvm(nc).open(s.bucket('assignment'))).get('map'))!.json<{ shards: string[][] }>();
  const sample: string[] = [];
  for (let i = 0; i < N && sample.length < SAMPLE; i += 7) if (map.shards[shardOf(checkId(i), SHARDS)]![0] === victim.proc.id) sample.push(checkId(i));
  // Each sampled result as heard: when, and who published it with which seq and slot (a missed
  // slot's results say which node held it and whether seq skipped: no probe, or one unseen).
  const seen = new Map<string, Heard[]>();
  const subs = sample.map((id) => nc.subscribe(s.result(id), {
      callback: (err, msg) => {
        if (err) return;
        const r = msg.json<{ node: string; seq: number; slot: number; epoch: number; skipped?: number }>();
        (seen.get(id) ?? seen.set(id, []).get(id)!).push({ t: Date.now(), node: r.node, seq: r.seq, slot: r.slot, epoch: r.epoch, skipped: r.skipped ?? 0 });
      },
    }));
  cleanup(() => subs.forEach((x) => x.unsubscribe()));
  // A scheduled check's results wait for its resume lookup (parked, published when it answers): the
  // first window starts once no lookup is outstanding and every check is still run (`resumedS`,
  // from the first node spawned; a collapsed start has no lookups either), or
  // after BENCH_RESUME_TIMEOUT_MS (then resumedS is null and the window still holds parked results).
  const resumedS = await untilSums(nodes, t0, RESUME_TIMEOUT, 'resume', [['lookout_resume_lookups_pending', 0], ['lookout_checks_owned', N]]);
  // What reaches the result stream, per second, over one window of WINDOW ms.
  const jsm = await jetstreamManager(nc);
  const lastSeq = async (stream: string) => (await jsm.streams.info(stream)).state.last_seq;
  const counted = async () => {
    const all = await metricsOf(nodes);
    return { probes: sumOver(all, 'lookout_probes_total'), published: sumOver(all, 'lookout_published_total', 'type="result"') };
  };
  const window = async () => {
    const load = new LoadMeter(() => [nats.pid, ...nodes.map((n) => n.proc.pid)]);
    const [seq0, c0, n0, tr0, w0] = [await lastSeq(s.resultStream()), await counted(), cpuMs(nats.pid), await lastSeq(s.transitionStream()), performance.now()];
    await sleep(WINDOW);
    const [seq1, c1, n1, tr1, w1] = [await lastSeq(s.resultStream()), await counted(), cpuMs(nats.pid), await lastSeq(s.transitionStream()), performance.now()];
    const perS = (d: number) => Math.round((d * 1000) / (w1 - w0));
    return {
      resultsPerS: perS(seq1 - seq0),
      offeredPerS: Math.round((N * 1000) / INTERVAL),
      probesPerS: perS(c1.probes - c0.probes),
      // Results the nodes handed to NATS (lookout_published_total{type="result"}): above resultsPerS, the server took fewer than were sent.
      publishedPerS: perS(c1.published - c0.published),
      // Verdict changes the transition stream took (each is routed by the notifier pipeline).
      transitionsPerS: perS(tr1 - tr0),
      ...load.read(),
      // Of `oursPct`, the nats-server's share (% of one core): the rest is the nodes'.
      natsPct: Math.round(((n1 - n0) * 100) / (w1 - w0)),
    };
  };
  // The first window: the first interval after the start, in which every check's first verdict
  // (unknown → up) is a verdict change as well — a status message stored and routed per result.
  const firstInterval = await window();
  note('first interval', JSON.stringify(firstInterval));
  // The second: once every check has had its first verdict (untilFirstVerdicts), only results —
  // the load of every later interval (taken after INTERVAL + 2 min even if they did not all come:
  // its transitionsPerS shows it). BENCH_LATER_WINDOW=0 skips it.
  let later: (Awaited<ReturnType<typeof window>> & { firstVerdictsS: number | null }) | null = null;
  if (process.env.BENCH_LATER_WINDOW !== '0') {
    const firstVerdictsS = await untilFirstVerdicts(() => lastSeq(s.transitionStream()), N, t0, INTERVAL + 120_000);
    later = { firstVerdictsS, ...(await window()) };
    note('later window', JSON.stringify(later));
  }
  const windowsNodes = await perNode();
  const natsRssMiB = Math.round(memMiB(nats.pid).rss);
  note('per node', JSON.stringify(windowsNodes));

  // One result of each sampled check before the kill (the windows have usually seen them).
  const until = Date.now() + INTERVAL + 5000;
  while (Date.now() < until && sample.some((id) => !seen.has(id))) await sleep(500);
  const killAt = Date.now();
  const k0 = performance.now();
  const logsAtKill = nodes.map((n) => n.proc.logs.length);
  await victim.proc.kill('SIGKILL');
  const survivors = nodes.filter((n) => n !== victim);
  const rescheduledS = await untilScheduled(survivors, k0, envInt('BENCH_FAILOVER_TIMEOUT_MS', 3 * INTERVAL), 'failover');
  const sinceKill = survivors.map((n) => logsAtKill[nodes.indexOf(n)]!);
  const failoverEvents = startEvents(survivors.map((n) => n.proc), FAILOVER_EVENTS, sinceKill);
  note('failover events', JSON.stringify(failoverEvents));
  // When each survivor held the victim dead and took its slots over, and when the first map after the kill came (s after the kill).
  const failoverTimes = firstAfter(survivors.map((n) => n.proc), killAt, ['member_dead', 'provisional_takeover', 'assignment_applied'], sinceKill);
  const deadline = Date.now() + 3 * INTERVAL;
  while (Date.now() < deadline && sample.some((id) => !(seen.get(id) ?? []).some((h) => h.t > killAt))) await sleep(1000);
  const afterFailover = await perNode();
  note('after the failover', JSON.stringify(afterFailover));
  const gaps: number[] = [];
  // A sampled check whose gap exceeds 1.5 intervals missed a slot: when that slot was due,
  // seconds after the kill (its last result before the kill + one interval).
  const missedDue: number[] = [];
  // Per missed slot: the last result before the kill and the first after (node, seq, slot, epoch;
  // `skipped`: rounds the publisher says it skipped; `seqStep` > 1: results it published unseen or a takeover's seq gap).
  const missed: object[] = [];
  let unresumed = 0;
  for (const id of sample) {
    const hs = seen.get(id) ?? [];
    const before = hs.filter((h) => h.t <= killAt).pop();
    const after = hs.find((h) => h.t > killAt);
    if (before === undefined || after === undefined) unresumed++;
    else {
      gaps.push(after.t - before.t);
      if (after.t - before.t > 1.5 * INTERVAL) {
        missedDue.push((before.t + INTERVAL - killAt) / 1000);
        const brief = (h: Heard) => ({ node: h.node, seq: h.seq, epoch: h.epoch, slotS: round((h.slot - killAt) / 1000, 1), heardS: round((h.t - killAt) / 1000, 1), skipped: h.skipped });
        missed.push({ id, before: brief(before), after: brief(after), seqStep: after.seq - before.seq, slotsApart: round((after.slot - before.slot) / INTERVAL, 2) });
      }
    }
  }
  const gap = dist(gaps.map((g) => g / 1000), 1);
  const excess = dist(gaps.map((g) => Math.max(0, g - INTERVAL) / 1000), 1);
  return {
    checks: N,
    nodes: NODES,
    intervalMs: INTERVAL,
    probeMs: PROBE_MS,
    writeS,
    scheduledS,
    resumedS,
    startEvents: events,
    startLoad,
    firstInterval,
    later,
    perNode: windowsNodes,
    natsRssMiB,
    failover: { victim: victim.proc.id, sampled: sample.length, unresumed, rescheduledS, gapS: gap, excessOverIntervalS: excess, missedSlotDueAfterKillS: dist(missedDue, 1), missed: missed.slice(0, 20), times: failoverTimes, events: failoverEvents, perNode: afterFailover },
  };
});
