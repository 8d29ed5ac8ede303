// Benchmark 2 — scale on one node: 100k TCP checks at a 60 s interval assigned to one
// `lookout node` process (production profile, LOOKOUT_JITTER_MS=0 so that a result's at − slot is
// its scheduling lateness).
//
// The specs are written straight into the lookout_specs KV bucket before the node starts. The
// target is a separate process that accepts TCP connections and closes them (100k / 60 s = 1.7k
// connects per second). Measured:
//   - spec feed: node start → the first shard's "specs loaded" (the node's own log, with its ms);
//   - assignment → all scheduled: from the node's "following assignment" log line to the first
//     /metrics scrape showing lookout_checks_owned = 100k (polled every 50 ms: an upper bound);
//   - RSS (VmRSS, peak VmHWM from /proc) and V8 heap used (lookout_nodejs_heap_size_used_bytes),
//     sampled every 5 s;
//   - scheduling lateness from every result on lookout.result.>: at − slot (ms resolution; negative
//     would mean early), p50/p99/max, per interval, over two full intervals after all scheduled;
//     plus the node's own lookout_schedule_lateness_seconds histogram (bucket bounds);
//   - skipped rounds (lookout_skipped_rounds_total) and results received vs expected (2 per check);
//   - CPU of the node and of the target (its process tree) over the window (does the probing itself saturate?).
// Goals: all scheduled ≤ 2 s, RSS ≤ 256 MB, p99 lateness ≤ 10 ms.
//
// BENCH_KIND=http: HTTP checks instead, one URL each (`http://127.0.0.1:<port>/c/<id>`, as users'
// checks have a URL of their own) on Debian's nginx answering `return 200` (one worker); the
// target's CPU is then nginx's master and worker.
//
//   npm run build && npm run bench:scale
//   knobs: BENCH_CHECKS (100000), BENCH_INTERVAL_MS (60000), BENCH_INTERVALS (2), BENCH_KIND (tcp | http)

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { spawnNode, nodeEnv } from './lib/lookout';
import { startNats } from './lib/nats-server';
import { cpuMs, LoadMeter, memMiB, processTree, treeCpuMs } from './lib/procfs';
import { histogramDelta, histogramQuantile, sum, type Samples } from './lib/prom';
import { checkId, putSpecs } from './lib/specs';
import { dist } from './lib/stats';
import { startNginx, startTcpSink } from './lib/targets';
import { envInt, GiveUp, note, round, runBench, sleep, waitFor } from './lib/util';

const CHECKS = envInt('BENCH_CHECKS', 100_000);
const INTERVAL = envInt('BENCH_INTERVAL_MS', 60_000);
const INTERVALS = envInt('BENCH_INTERVALS', 2);
const KIND = process.env.BENCH_KIND ?? 'tcp';
if (KIND !== 'tcp' && KIND !== 'http') throw new Error(`BENCH_KIND must be tcp or http, not ${KIND}`);

/** The checks' target: a TCP sink that accepts and closes, or nginx answering 200. */
async function startTarget(): Promise<{ pid: number; stop(): Promise<void>; spec(id: string): Record<string, unknown> }> {
  if (KIND === 'http') {
    const nginx = await startNginx(1);
    return { pid: nginx.pid, stop: () => nginx.stop(), spec: (id) => ({ kind: 'http', target: `http://127.0.0.1:${nginx.port}/c/${id}`, intervalMs: INTERVAL, timeoutMs: 2000 }) };
  }
  const sink = await startTcpSink();
  return { pid: sink.pid, stop: () => sink.stop(), spec: () => ({ kind: 'tcp', target: `127.0.0.1:${sink.port}`, intervalMs: INTERVAL, timeoutMs: 2000 }) };
}

runBench('scale', async (cleanup) => {
  const nats = await startNats('max_payload: 1048576');
  cleanup(() => nats.stop());
  const target = await startTarget();
  cleanup(() => target.stop());
  const nc = await connect({ servers: nats.url, name: 'bench-scale' });
  cleanup(() => nc.close());

  const specs = new Map<string, unknown>();
  for (let i = 0; i < CHECKS; i++) specs.set(checkId(i), target.spec(checkId(i)));
  const putMs = await putSpecs(nc, specs);
  specs.clear();
  (globalThis as { gc?: () => void }).gc?.();
  note(`${CHECKS} specs written to KV in ${Math.round(putMs)} ms`);

  // Results: lateness (at − slot) per slot window, counted only once all checks are scheduled.
  let windowFrom = Infinity;
  const late: number[][] = Array.from({ length: INTERVALS }, () => []);
  let early = 0;
  let resultsAll = 0;
  let skippedField = 0;
  /** Results per check in each interval of the window (more than one = a check probed twice). */
  const perCheck: Map<string, number>[] = Array.from({ length: INTERVALS }, () => new Map());
  const epochs = new Map<number, number>();
  /** A few examples of a second result of a check within one interval (times relative to the window start). */
  const twice: { check: string; slot: number; at: number; epoch: number }[] = [];
  nc.subscribe('lookout.result.>', {
    callback: (err, m) => {
      if (err) return;
      resultsAll++;
      const r = m.json<{ checkId: string; at: string; slot: number; skipped: number; epoch: number }>();
      const w = Math.floor((r.slot - windowFrom) / INTERVAL);
      if (w < 0 || w >= INTERVALS) return;
      const n = (perCheck[w]!.get(r.checkId) ?? 0) + 1;
      perCheck[w]!.set(r.checkId, n);
      if (n > 1 && twice.length < 5) twice.push({ check: r.checkId, slot: r.slot - windowFrom, at: Date.parse(r.at) - windowFrom, epoch: r.epoch });
      epochs.set(r.epoch, (epochs.get(r.epoch) ?? 0) + 1);
      const l = Date.parse(r.at) - r.slot;
      if (l < 0) early++;
      late[w]!.push(l);
      skippedField += r.skipped;
    },
  });

  // Heartbeat gaps of the node (every heartbeatMs, 500 ms in production): a long gap means its event
  // loop was blocked that long — peers would suspect it after 1.5 s and declare it dead after 3.5 s.
  const beats: number[] = [];
  nc.subscribe('lookout._node.heartbeat', {
    callback: (err) => {
      if (!err) beats.push(Date.now());
    },
  });
  const maxGap = (from: number, to: number) => {
    let g = 0;
    for (let i = 1; i < beats.length; i++) if (beats[i]! >= from && beats[i - 1]! <= to) g = Math.max(g, beats[i]! - beats[i - 1]!);
    return g;
  };

  const t0 = Date.now();
  const node = spawnNode({ id: 'bench-scale', natsUrl: nats.url, env: nodeEnv({ LOOKOUT_JITTER_MS: '0' }), echo: true });
  cleanup(() => node.kill('SIGKILL'));
  // BENCH_LOG_DIR=DIR keeps the node's log lines (DIR/bench-scale.ndjson, written at the end), as bench/sim-1m.ts does.
  const logDir = process.env.BENCH_LOG_DIR;
  if (logDir) cleanup(() => { mkdirSync(logDir, { recursive: true }); writeFileSync(join(logDir, 'bench-scale.ndjson'), node.logs.map((l) => JSON.stringify(l)).join('\n') + '\n'); });
  const port = await node.httpPort();
  // Poll the gauge until every check is owned (scheduled: the runners set them into the timer queue as they load).
  const owned = await waitFor(
    'lookout_checks_owned = all checks',
    async () => {
      if (!node.alive()) throw new GiveUp(`the node exited (${String(await node.exited)}) before owning every check`);
      const s = await node.metrics();
      return sum(s, 'lookout_checks_owned') === CHECKS ? { at: Date.now(), s } : null;
    },
    120_000,
    50,
  );
  const following = await node.waitLog('following assignment', (l) => l.msg === 'following assignment', 1000);
  const applied = await node.waitLog('assignment applied', (l) => l.msg === 'assignment applied', 1000);
  const loaded = await node.waitLog('specs loaded', (l) => l.msg === 'specs loaded', 120_000);
  const assignedAt = Date.parse(String(following.time));
  const allScheduledMs = owned.at - assignedAt;
  note('timeline (ms after spawn):', {
    httpUp: port ? Date.parse(String(node.logs.find((l) => String(l.msg).startsWith('http endpoints'))?.time)) - t0 : null,
    following: assignedAt - t0,
    applied: Date.parse(String(applied.time)) - t0,
    specsLoaded: Date.parse(String(loaded.time)) - t0,
    specsLoadedMsOwn: loaded.ms,
    allOwned: owned.at - t0,
  });

  // Two full intervals from the next whole second after everything is scheduled.
  windowFrom = Math.ceil((owned.at + 1000) / 1000) * 1000;
  const windowTo = windowFrom + INTERVALS * INTERVAL;
  await sleep(windowFrom - Date.now());
  const m0 = await node.metrics();
  const c0 = { node: cpuMs(node.pid), target: treeCpuMs(target.pid), nats: cpuMs(nats.pid) };
  const meter = new LoadMeter(() => [node.pid, ...processTree(target.pid), nats.pid, process.pid]);
  const w0 = performance.now();
  let rssMax = 0;
  let heapMax = 0;
  let heapLast = 0;
  let lagP99Max = 0;
  while (Date.now() < windowTo + 3000) {
    const mem = memMiB(node.pid);
    rssMax = Math.max(rssMax, mem.rss);
    try {
      const s: Samples = await node.metrics();
      heapLast = sum(s, 'lookout_nodejs_heap_size_used_bytes') / 2 ** 20;
      heapMax = Math.max(heapMax, heapLast);
      lagP99Max = Math.max(lagP99Max, sum(s, 'lookout_nodejs_eventloop_lag_p99_seconds'));
    } catch (err) {
      note('metrics scrape failed:', String(err));
    }
    note(`t+${Math.round((Date.now() - windowFrom) / 1000)}s rss=${Math.round(mem.rss)}MiB heap=${Math.round(heapLast)}MiB results=${resultsAll}`);
    await sleep(5000);
  }
  const m1 = await node.metrics();
  const wallMs = performance.now() - w0;
  const c1 = { node: cpuMs(node.pid), target: treeCpuMs(target.pid), nats: cpuMs(nats.pid) };
  const load = meter.read();
  const mem = memMiB(node.pid);
  const hist = histogramDelta(m1, m0, 'lookout_schedule_lateness_seconds');
  const all = late.flat();
  const perInterval = late.map((xs) => dist(xs, 1));
  const overall = dist(all, 1);
  const shardLoads = node.logs.filter((l) => l.msg === 'specs loaded');
  return {
    checks: CHECKS,
    kind: KIND,
    intervalMs: INTERVAL,
    intervals: INTERVALS,
    specsPutMs: Math.round(putMs),
    specsLoadedMs: loaded.ms,
    allScheduledMs,
    rssMiB: round(mem.rss, 1),
    rssPeakMiB: round(Math.max(mem.hwm, rssMax), 1),
    heapUsedMiB: round(heapLast, 1),
    heapUsedMaxMiB: round(heapMax, 1),
    latenessMs: { p50: overall.p50, p99: overall.p99, max: overall.max, n: overall.n },
    latenessPerIntervalMs: perInterval.map((d) => ({ p50: d.p50, p99: d.p99, max: d.max, n: d.n })),
    early,
    latenessHistogramP99LeMs: histogramQuantile(hist, 'lookout_schedule_lateness_seconds', 0.99).le * 1000,
    skippedRounds: sum(m1, 'lookout_skipped_rounds_total') - sum(m0, 'lookout_skipped_rounds_total'),
    skippedInResults: skippedField,
    results: all.length,
    checksProbedTwiceInAnInterval: perCheck.map((m) => [...m.values()].filter((n) => n > 1).length),
    checksNotProbedInAnInterval: perCheck.map((m) => CHECKS - m.size),
    resultEpochs: Object.fromEntries(epochs),
    leaseLostAtStartup: node.logs.some((l) => l.msg === 'no longer leader'),
    probedTwiceExamples: twice,
    // A node logs "specs loaded" once per shard it loads (256 on one node): the first and the last of them.
    nodeEvents: node.logs
      .filter((l) => ['elected leader', 'no longer leader', 'following assignment', 'assignment applied'].includes(String(l.msg)) || (l.msg === 'specs loaded' && (l === shardLoads[0] || l === shardLoads.at(-1))))
      .map((l) => ({ t: Date.parse(String(l.time)) - t0, msg: l.msg, ...(l.epoch !== undefined ? { epoch: l.epoch } : {}), ...(l.term !== undefined ? { term: l.term } : {}), ...(l.gained !== undefined ? { gained: l.gained, lost: l.lost } : {}) })),
    windowStartMs: windowFrom - t0,
    heartbeatGapMaxMs: { startup: maxGap(t0, windowFrom), window: maxGap(windowFrom, windowTo) },
    expectedResults: CHECKS * INTERVALS,
    eventLoopLagP99MaxMs: round(lagP99Max * 1000, 1),
    cpuPct: {
      node: Math.round((100 * (c1.node - c0.node)) / wallMs),
      target: Math.round((100 * (c1.target - c0.target)) / wallMs),
      nats: Math.round((100 * (c1.nats - c0.nats)) / wallMs),
      foreign: load.foreignPct,
    },
    goals: { allScheduledMs: 2000, rssMiB: 256, latenessP99Ms: 10 },
  };
});
