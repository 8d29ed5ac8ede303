// Benchmark 1 — probe efficiency, Lookout vs prometheus-blackbox-exporter, same run, same target.
//
// Target: Debian's nginx, one worker, "200 ok" on loopback. Each repetition measures, one after
// the other (never at the same time):
//   lookout-fresh     one `lookout node` process (production profile) running BENCH_CHECKS HTTP
//                     checks at BENCH_INTERVAL_MS (default 3000 at 1000 ms: more than one core can
//                     probe, so the node is saturated), a fresh connection per probe
//                     (http.reuseConnection false, the default), every result published to NATS;
//                     probes counted from lookout_probes_total on its /metrics
//   lookout-keepalive the same with http.reuseConnection true
//   blackbox          prometheus-blackbox-exporter driven at saturation: BENCH_BB_CONCURRENCY
//                     concurrent GET /probe?module=http_2xx&target=… from a keep-alive client in
//                     this process; probes counted from the answers (probe_success 1)
//   undici            reference: a bare undici loop, fresh Client per request (bench/lib/undici-loop)
// Efficiency = probes / CPU-seconds of the prober process only (utime+stime from /proc/<pid>/stat):
// the Lookout node process, the blackbox_exporter process, the undici loop process. Not counted:
// nginx, nats-server, the load driver. Medians over BENCH_REPS repetitions (default 3).
// Goal: Lookout ≥ 3x blackbox per CPU-second (reference: blackbox ≈ 930, bare undici ≈ 2,700).
//
//   apt-get install -y nginx-light prometheus-blackbox-exporter
//   npm run build && npm run bench:throughput
//   knobs: BENCH_CHECKS (3000), BENCH_INTERVAL_MS (1000), BENCH_SECONDS (12), BENCH_REPS (3),
//          BENCH_BB_CONCURRENCY (16), BENCH_PROFILE_DIR (set: one extra profiled Lookout run),
//          BENCH_ONLY (fresh,keepalive,blackbox,undici), BENCH_NODE_ARGS (extra node flags for Lookout)

import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'undici';
import { startBlackbox } from './lib/blackbox';
import { summarizeProfile } from './lib/cpuprofile';
import { spawnNode, nodeEnv } from './lib/lookout';
import { startNats } from './lib/nats-server';
import { childPids, cpuMs, LoadMeter } from './lib/procfs';
import { histogramDelta, histogramQuantile, sum, type Samples } from './lib/prom';
import { checkId, natsClient, putSpecs } from './lib/specs';
import { median } from './lib/stats';
import { startNginx, type Nginx } from './lib/targets';
import { envInt, note, round, runBench, sleep, waitFor } from './lib/util';

const CHECKS = envInt('BENCH_CHECKS', 3000);
const INTERVAL = envInt('BENCH_INTERVAL_MS', 1000);
const SECONDS = envInt('BENCH_SECONDS', 12);
const REPS = envInt('BENCH_REPS', 3);
const BB_CONC = envInt('BENCH_BB_CONCURRENCY', 16);
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
/** Which measurements to run (diagnostics): any of fresh,keepalive,blackbox,undici. */
const ONLY = new Set((process.env.BENCH_ONLY ?? 'fresh,keepalive,blackbox,undici').split(','));

/** nginx master and workers: ours, not foreign load. */
const infra = (nginx: Nginx) => [nginx.pid, ...childPids(nginx.pid)];

interface Measure {
  probes: number;
  ok: number;
  cpuSec: number;
  wallSec: number;
  perCpuSec: number;
  perSec: number;
  cpuPct: number;
  foreignPct: number;
  extra?: Record<string, unknown>;
}

function measureOf(probes: number, ok: number, cpuMsUsed: number, wallMs: number, foreignPct: number, extra?: Record<string, unknown>): Measure {
  return {
    probes,
    ok,
    cpuSec: round(cpuMsUsed / 1000, 2),
    wallSec: round(wallMs / 1000, 2),
    perCpuSec: Math.round(probes / (cpuMsUsed / 1000)),
    perSec: Math.round(probes / (wallMs / 1000)),
    cpuPct: Math.round((100 * cpuMsUsed) / wallMs),
    foreignPct,
    ...(extra ? { extra } : {}),
  };
}

async function runLookout(nginx: Nginx, reuse: boolean, profileDir?: string): Promise<Measure> {
  const nats = await startNats();
  const nc = await natsClient(nats.url);
  const node = spawnNode({
    id: `bench-tp-${reuse ? 'ka' : 'fresh'}`,
    natsUrl: nats.url,
    env: nodeEnv(),
    echo: true,
    ...(profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
  });
  try {
    await node.httpPort();
    const specs = new Map<string, unknown>();
    for (let i = 0; i < CHECKS; i++) {
      specs.set(checkId(i), {
        kind: 'http',
        target: `http://127.0.0.1:${nginx.port}/c/${checkId(i)}`,
        intervalMs: INTERVAL,
        timeoutMs: Math.min(2000, INTERVAL - 1),
        ...(reuse ? { http: { reuseConnection: true } } : {}),
      });
    }
    await putSpecs(nc, specs);
    await waitFor('all checks owned', async () => sum(await node.metrics(), 'lookout_checks_owned') === CHECKS, 60_000, 200);
    // Warm-up: every check probed a few times (first verdicts, JIT, pooled connections).
    await sleep(Math.max(4000, 3 * INTERVAL));
    const m0 = await node.metrics();
    const c0 = cpuMs(node.pid);
    const meter = new LoadMeter(() => [node.pid, nats.pid, process.pid, ...infra(nginx)]);
    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    const m1 = await node.metrics();
    const c1 = cpuMs(node.pid);
    const wall = performance.now() - t0;
    const load = meter.read();
    const d = (s1: Samples, s0: Samples, name: string, ...match: string[]) => sum(s1, name, ...match) - sum(s0, name, ...match);
    const probes = d(m1, m0, 'lookout_probes_total');
    const ok = d(m1, m0, 'lookout_probes_total', 'result="ok"');
    const lat = histogramDelta(m1, m0, 'lookout_schedule_lateness_seconds');
    const r = measureOf(probes, ok, c1 - c0, wall, load.foreignPct, {
      published: d(m1, m0, 'lookout_published_total', 'type="result"'),
      skippedRounds: d(m1, m0, 'lookout_skipped_rounds_total'),
      scheduledPerSec: Math.round((CHECKS * 1000) / INTERVAL),
      latenessP99le: histogramQuantile(lat, 'lookout_schedule_lateness_seconds', 0.99).le,
    });
    note(`lookout ${reuse ? 'keep-alive' : 'fresh'}:`, r);
    return r;
  } finally {
    await node.kill(profileDir ? 'SIGTERM' : 'SIGKILL');
    await nc.close();
    await nats.stop();
  }
}

async function runBlackbox(nginx: Nginx): Promise<Measure & { version: string }> {
  const bb = await startBlackbox();
  const pool = new Pool(`http://127.0.0.1:${bb.port}`, { connections: BB_CONC });
  const path = `/probe?module=http_2xx&target=${encodeURIComponent(`http://127.0.0.1:${nginx.port}/`)}`;
  let probes = 0;
  let ok = 0;
  let counting = false;
  let stop = false;
  const worker = async () => {
    while (!stop) {
      const res = await pool.request({ path, method: 'GET' });
      const text = await res.body.text();
      if (!counting) continue;
      probes++;
      if (/^probe_success 1$/m.test(text)) ok++;
    }
  };
  try {
    const workers = Array.from({ length: BB_CONC }, worker);
    await sleep(2000); // warm-up
    const c0 = cpuMs(bb.pid);
    const meter = new LoadMeter(() => [bb.pid, process.pid, ...infra(nginx)]);
    const t0 = performance.now();
    counting = true;
    await sleep(SECONDS * 1000);
    counting = false;
    const c1 = cpuMs(bb.pid);
    const wall = performance.now() - t0;
    const load = meter.read();
    stop = true;
    await Promise.all(workers);
    const r = { ...measureOf(probes, ok, c1 - c0, wall, load.foreignPct), version: bb.version };
    note('blackbox:', r);
    return r;
  } finally {
    await pool.close();
    await bb.stop();
  }
}

async function runUndici(nginx: Nginx): Promise<Measure> {
  const proc = spawn(process.execPath, [join(__dirname, 'lib', 'undici-loop.js'), `http://127.0.0.1:${nginx.port}/`, '16', String(SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const meter = new LoadMeter(() => [proc.pid!, process.pid, ...infra(nginx)]);
  const t0 = performance.now();
  let c = 0;
  // Sample CPU until the process exits (after exit /proc/<pid> is gone).
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  let load = meter.read();
  while (proc.exitCode === null) {
    try {
      c = cpuMs(proc.pid!);
      load = meter.read();
    } catch {
      break;
    }
    await Promise.race([sleep(100), exited]);
  }
  await exited;
  const wall = performance.now() - t0;
  const { requests, ok } = JSON.parse(out) as { requests: number; ok: number };
  const r = measureOf(requests, ok, c, Math.min(wall, SECONDS * 1000), load.foreignPct);
  note('undici fresh Client:', r);
  return r;
}

runBench('throughput', async (cleanup) => {
  const nginx = await startNginx(1);
  cleanup(() => nginx.stop());
  const fresh: Measure[] = [];
  const ka: Measure[] = [];
  const bb: (Measure & { version: string })[] = [];
  const und: Measure[] = [];
  for (let i = 0; i < REPS; i++) {
    if (ONLY.has('fresh')) fresh.push(await runLookout(nginx, false));
    if (ONLY.has('blackbox')) bb.push(await runBlackbox(nginx));
    if (ONLY.has('keepalive')) ka.push(await runLookout(nginx, true));
    if (ONLY.has('undici')) und.push(await runUndici(nginx));
  }
  let profile: unknown = undefined;
  if (PROFILE_DIR) {
    await runLookout(nginx, false, PROFILE_DIR);
    const f = readdirSync(PROFILE_DIR).filter((x) => x.endsWith('.cpuprofile')).sort().pop();
    if (f) {
      const s = summarizeProfile(join(PROFILE_DIR, f), 20);
      for (const x of s.functions) note(`  ${x.selfPct}% self ${x.totalPct}% total ${x.fn}`);
      profile = { file: join(PROFILE_DIR, f), busyMs: s.busyMs, gcMs: s.gcMs, top: s.functions.slice(0, 8).map((x) => `${x.selfPct}% ${x.fn}`) };
    }
  }
  const med = (xs: Measure[], k: keyof Measure) => median(xs.map((x) => x[k] as number));
  const lookoutPerCpu = med(fresh, 'perCpuSec');
  const bbPerCpu = med(bb, 'perCpuSec');
  return {
    checks: CHECKS,
    intervalMs: INTERVAL,
    seconds: SECONDS,
    reps: REPS,
    lookoutFresh: { perCpuSec: lookoutPerCpu, perSec: med(fresh, 'perSec'), cpuPct: med(fresh, 'cpuPct'), runs: fresh.map((x) => x.perCpuSec) },
    lookoutKeepAlive: { perCpuSec: med(ka, 'perCpuSec'), perSec: med(ka, 'perSec'), cpuPct: med(ka, 'cpuPct'), runs: ka.map((x) => x.perCpuSec) },
    blackbox: { perCpuSec: bbPerCpu, perSec: med(bb, 'perSec'), cpuPct: med(bb, 'cpuPct'), runs: bb.map((x) => x.perCpuSec), version: bb[0]?.version },
    undiciFreshClient: { perCpuSec: med(und, 'perCpuSec'), perSec: med(und, 'perSec'), runs: und.map((x) => x.perCpuSec) },
    ratioLookoutToBlackbox: round(lookoutPerCpu / bbPerCpu, 2),
    ratioKeepAliveToBlackbox: round(med(ka, 'perCpuSec') / bbPerCpu, 2),
    foreignCpuPctMedian: median([...fresh, ...ka, ...bb, ...und].map((x) => x.foreignPct)),
    goal: 'lookout >= 3x blackbox per CPU-second',
    ...(profile ? { profile } : {}),
  };
});
