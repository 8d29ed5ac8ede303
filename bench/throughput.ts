// Benchmark 1 — probe efficiency, Lookout vs prometheus-blackbox-exporter, at the load users run.
//
// Target: Debian's nginx, one worker, `return 200 "ok\n"` on loopback. For each repetition, in
// turn (never two at the same time), at each rate R of BENCH_RATES:
//   lookout    one `lookout node` (production profile, defaults) with R HTTP checks at a 1 s
//              interval: an open-loop load of R probes/s, fresh connection per probe, every result
//              published to NATS (bench/lib/lookout-load.ts)
//   bb-paced   blackbox_exporter driven at R probes/s (open loop) over 16 keep-alive connections
//              from this process (bench/lib/blackbox-load.ts)
//   lookout-dns   the same node with R dns checks (an A query each, to testkit's DNS server on
//              127.0.0.1 over UDP, in this process): issue 15's row for the dns kind
//   lookout-grpc  the same with R grpc checks (grpc.health.v1 Check, plaintext, a fresh grpc-js
//              channel per probe, to testkit's gRPC health server in this process): the grpc row
//   lookout-push  the same with R push checks (a 1 s period) and this process reporting in for
//              each once a second on lookout.push.<id>: R reports/s in and R evaluations/s (each a
//              published result) out: the push row, per evaluation
// and once per repetition
//   bb-wrk     blackbox_exporter driven by `wrk -t1 -c8` (closed loop: wrk cannot pace)
// so the order is lookout@R1, bb-paced@R1, lookout-dns@R1, lookout-grpc@R1, lookout-push@R1, lookout@R2, …, bb-wrk,
// then again. The dns, grpc and push rows report probes per CPU-second of the node alone: no blackbox
// row is driven for those kinds (its dns and grpc modules are not compared here). Their servers
// run in this process, so their CPU is neither the node's nor foreign.
// Each prober is warmed up (all checks owned and probed) before a window of BENCH_SECONDS; the CPU
// counted is utime + stime of the prober's process tree (all threads) from /proc over the window
// only: the node; the exporter. Not counted: nginx, nats-server, the drivers. Achieved probes/s is
// reported next to the target rate. Every window records loadavg and foreign CPU (host busy minus
// our processes); windows with foreign CPU above BENCH_MAX_FOREIGN_PCT are flagged and left out
// of the medians. Ratio = Lookout probes per CPU-second ÷ blackbox's, per rate, for both drivers.
//
//   apt-get install -y wrk nginx-light prometheus-blackbox-exporter
//   npm run build && flock /work/notes/heavy.lock npm run bench:throughput
//
// Knobs (environment):
//   BENCH_RATES            probes/s to run Lookout and bb-paced at            (1500,3000)
//   BENCH_REPS             interleaved repetitions                           (3)
//   BENCH_SECONDS          measured window per run                           (10)
//   BENCH_WARM_SECONDS     warm-up before each window                        (4)
//   BENCH_WRK_CONNECTIONS  wrk connections for bb-wrk                        (8)
//   BENCH_BB_CONCURRENCY   keep-alive connections of the bb-paced driver     (16)
//   BENCH_MAX_FOREIGN_PCT  foreign CPU (% of one core) above which a window is flagged (15)
//   BENCH_RETRIES          re-measurements of a flagged window                (1)
//   BENCH_BUDGET_SECONDS   no re-measurement after this long (keeps a locked run short) (420)
//   BENCH_ONLY             subset of lookout,bb-paced,bb-wrk,lookout-dns,lookout-grpc,lookout-push (all)
//   BENCH_PROFILE_DIR      set: one extra Lookout run at the first rate with --cpu-prof into this
//                          dir (not in the medians), its top functions in the summary
//   BENCH_VARIANTS         more HTTP rows with settings of their own, interleaved with the others:
//                          "name:NAME=v,NAME=v;name2:…" → rows lookout[name]@R (e.g.
//                          "grain0:LOOKOUT_TIMER_GRAIN_MS=0" beside the default), each with its ratios

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { blackboxPaced, blackboxWrk, type ProberWindow } from './lib/blackbox-load';
import { summarizeProfile } from './lib/cpuprofile';
import { dnsSpecOf, grpcSpecOf, httpSpecOf, lookoutAtRate, pushSpecOf, reportEveryInterval, type SpecOf } from './lib/lookout-load';
import { parseSettings } from './lib/lookout';
import { childPids } from './lib/procfs';
import { interleave, measureUntilClean, parseRates, ratio, summarize } from './lib/rate-math';
import { startNginx } from './lib/targets';
import { envInt, note, round, runBench } from './lib/util';
import { rr, startDnsServer } from '../testkit/dns-server';
import { startGrpcServer } from '../testkit/grpc-server';

const RATES = parseRates(process.env.BENCH_RATES ?? '1500,3000');
const REPS = envInt('BENCH_REPS', 3);
const SECONDS = envInt('BENCH_SECONDS', 10);
const WARM = envInt('BENCH_WARM_SECONDS', 4);
const WRK_CONN = envInt('BENCH_WRK_CONNECTIONS', 8);
const BB_CONC = envInt('BENCH_BB_CONCURRENCY', 16);
const MAX_FOREIGN = envInt('BENCH_MAX_FOREIGN_PCT', 15);
const RETRIES = envInt('BENCH_RETRIES', 1);
const BUDGET_S = envInt('BENCH_BUDGET_SECONDS', 420);
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
const ONLY = new Set((process.env.BENCH_ONLY ?? 'lookout,bb-paced,bb-wrk,lookout-dns,lookout-grpc,lookout-push').split(','));
/** The name every dns check asks for (one A record in the bench's DNS server). */
const DNS_NAME = 'app.bench';

/** BENCH_VARIANTS parsed: a name and its node settings per variant row. */
const VARIANTS: { name: string; env: Record<string, string> }[] = (process.env.BENCH_VARIANTS ?? '')
  .split(';')
  .filter((v) => v.includes(':'))
  .map((v) => {
    const [name, settings] = [v.slice(0, v.indexOf(':')), v.slice(v.indexOf(':') + 1)];
    return { name, env: parseSettings(settings, ',') };
  });

type Run = { kind: 'lookout' | 'bb-paced' | 'lookout-dns' | 'lookout-grpc' | 'lookout-push'; rate: number } | { kind: 'variant'; name: string; env: Record<string, string>; rate: number } | { kind: 'bb-wrk' };

function plan(): Run[] {
  const perRep: Run[] = [];
  for (const rate of RATES) {
    if (ONLY.has('lookout')) perRep.push({ kind: 'lookout', rate });
    for (const v of VARIANTS) perRep.push({ kind: 'variant', ...v, rate });
    if (ONLY.has('bb-paced')) perRep.push({ kind: 'bb-paced', rate });
    if (ONLY.has('lookout-dns')) perRep.push({ kind: 'lookout-dns', rate });
    if (ONLY.has('lookout-grpc')) perRep.push({ kind: 'lookout-grpc', rate });
    if (ONLY.has('lookout-push')) perRep.push({ kind: 'lookout-push', rate });
  }
  if (ONLY.has('bb-wrk')) perRep.push({ kind: 'bb-wrk' });
  return interleave(REPS, perRep).map(([, r]) => r);
}

const label = (r: Run) => (r.kind === 'bb-wrk' ? 'bb-wrk' : r.kind === 'variant' ? `lookout[${r.name}]@${r.rate}` : `${r.kind}@${r.rate}`);

function row(ws: ProberWindow[]) {
  const s = summarize(ws, MAX_FOREIGN);
  return {
    ...s,
    okPct: ws.length ? round((100 * ws.reduce((a, w) => a + w.ok, 0)) / Math.max(1, ws.reduce((a, w) => a + w.count, 0)), 1) : NaN,
    foreignPct: ws.map((w) => w.foreignPct),
    loadavg1m: ws.map((w) => round(w.loadavg1m, 2)),
    extra: ws.map((w) => w.extra),
  };
}

/** One extra Lookout run under --cpu-prof at the first rate; the profile's top functions. */
async function profiledRun(nginxPort: number, ours: () => number[], dir: string) {
  const w = await lookoutAtRate(httpSpecOf(nginxPort), RATES[0]!, WARM, SECONDS, ours, dir);
  note(`profiled lookout@${RATES[0]}: ${Math.round((w.count * 1000) / w.cpuMs)} per CPU-s (profiler overhead included)`);
  const f = readdirSync(dir).filter((x) => x.endsWith('.cpuprofile')).sort().pop();
  if (!f) return { dir, error: 'no .cpuprofile written' };
  const s = summarizeProfile(join(dir, f), 20);
  for (const x of s.functions) note(`  ${x.selfPct}% self ${x.totalPct}% total ${x.fn}`);
  return { file: join(dir, f), busyMs: s.busyMs, gcMs: s.gcMs, top: s.functions.slice(0, 8).map((x) => `${x.selfPct}% ${x.fn}`) };
}

runBench('throughput', async (cleanup) => {
  const nginx = await startNginx(1);
  cleanup(() => nginx.stop());
  const ours = () => [process.pid, nginx.pid, ...childPids(nginx.pid)];
  // The dns and grpc rows' targets, in this process (started only when their rows run).
  const kindSpecs: Partial<Record<'lookout-dns' | 'lookout-grpc', SpecOf>> = {};
  if (ONLY.has('lookout-dns')) {
    const dns = await startDnsServer({ [DNS_NAME]: { records: [rr.a(DNS_NAME, '10.0.0.1')] } });
    cleanup(() => dns.close());
    kindSpecs['lookout-dns'] = dnsSpecOf(dns.address, DNS_NAME);
  }
  if (ONLY.has('lookout-grpc')) {
    const grpc = await startGrpcServer({ health: { '': 1 } }); // 1: SERVING
    cleanup(() => grpc.close());
    kindSpecs['lookout-grpc'] = grpcSpecOf(grpc.address);
  }
  const windows = new Map<string, ProberWindow[]>();
  let version = 'unknown';
  const t0 = performance.now();
  const budgetLeft = () => performance.now() - t0 < BUDGET_S * 1000;
  const measure = async (run: Run): Promise<ProberWindow> => {
    if (run.kind === 'lookout') return lookoutAtRate(httpSpecOf(nginx.port), run.rate, WARM, SECONDS, ours);
    if (run.kind === 'variant') return lookoutAtRate(httpSpecOf(nginx.port), run.rate, WARM, SECONDS, ours, undefined, undefined, run.env);
    if (run.kind === 'lookout-dns' || run.kind === 'lookout-grpc') return lookoutAtRate(kindSpecs[run.kind]!, run.rate, WARM, SECONDS, ours);
    if (run.kind === 'lookout-push') return lookoutAtRate(pushSpecOf, run.rate, WARM, SECONDS, ours, undefined, reportEveryInterval);
    const bb = run.kind === 'bb-wrk' ? await blackboxWrk(nginx.port, WRK_CONN, WARM, SECONDS, ours) : await blackboxPaced(nginx.port, run.rate, BB_CONC, WARM, SECONDS, ours);
    version = bb.version;
    return bb;
  };
  for (const run of plan()) {
    const k = label(run);
    const show = (w: ProberWindow) =>
      note(`${k}: ${Math.round((w.count * 1000) / w.wallMs)} probes/s, ${Math.round((w.count * 1000) / w.cpuMs)} per CPU-s, ${Math.round((100 * w.cpuMs) / w.wallMs)}% CPU, ok ${w.ok}/${w.count}, foreign ${w.foreignPct}%, load ${round(w.loadavg1m, 2)}`, w.extra ?? {});
    const ws = await measureUntilClean(() => measure(run), MAX_FOREIGN, RETRIES, budgetLeft, (w) => (show(w), note(`${k}: foreign CPU ${w.foreignPct}% > ${MAX_FOREIGN}%: flagged, measuring again`)));
    show(ws[ws.length - 1]!);
    windows.set(k, [...(windows.get(k) ?? []), ...ws]);
  }
  const profile = PROFILE_DIR ? await profiledRun(nginx.port, ours, PROFILE_DIR) : undefined;
  const rows = Object.fromEntries([...windows].map(([k, ws]) => [k, row(ws)]));
  const per = (k: string) => rows[k]?.perCpuSec ?? NaN;
  // Per rate, a Lookout row's probes per CPU-second against blackbox's under each driver.
  const ratiosOf = (rowAt: (rate: number) => string) =>
    Object.fromEntries(RATES.map((rate) => [rate, { vsWrkC8: ratio(per(rowAt(rate)), per('bb-wrk')), vsPaced16: ratio(per(rowAt(rate)), per(`bb-paced@${rate}`)) }]));
  const ratios = ratiosOf((rate) => `lookout@${rate}`);
  const variantRatios = Object.fromEntries(VARIANTS.map((v) => [v.name, ratiosOf((rate) => `lookout[${v.name}]@${rate}`)]));
  const perKind = Object.fromEntries(
    RATES.map((rate) => [rate, { http: per(`lookout@${rate}`), dns: per(`lookout-dns@${rate}`), grpc: per(`lookout-grpc@${rate}`), push: per(`lookout-push@${rate}`) }]),
  );
  return {
    rates: RATES,
    reps: REPS,
    seconds: SECONDS,
    warmSeconds: WARM,
    maxForeignPct: MAX_FOREIGN,
    blackboxVersion: version,
    rows,
    ratioLookoutToBlackbox: ratios,
    ...(VARIANTS.length ? { variants: VARIANTS, variantRatios } : {}),
    lookoutPerCpuSecondByKind: perKind,
    goal: 'lookout >= 3x blackbox per CPU-second at every rate',
    ...(profile ? { profile } : {}),
  };
});
