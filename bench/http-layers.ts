// HTTP layers — CPU per probe of each way to make one HTTP GET on a fresh connection, at a fixed
// open-loop rate, in one run, interleaved (layer a, b, c, …, then again). Each layer runs in a
// child process of its own (bench/lib/layer-child.ts) against the same nginx (one worker, `return
// 200`), warms up, then measures a window with process.cpuUsage(): µs of process CPU per completed
// request. Layers and publish modes: bench/lib/probe-layers.ts. Foreign CPU (host busy minus
// nginx, nats-server, this process and the child) and loadavg are recorded per window; windows
// above BENCH_MAX_FOREIGN_PCT are flagged and left out of the medians.
//
//   apt-get install -y nginx-light
//   npm run build && flock /work/notes/heavy.lock npm run bench:http-layers
//
// Knobs (environment):
//   BENCH_RATE             requests/s per layer (open loop)                        (1500)
//   BENCH_REPS             interleaved repetitions                                 (3)
//   BENCH_SECONDS          measured window per run                                 (10)
//   BENCH_WARM_SECONDS     warm-up before each window                              (3)
//   BENCH_BATCH_MS         flush period of the +batch publish mode                 (20)
//   BENCH_MAX_FOREIGN_PCT  foreign CPU (% of one core) above which a window is flagged (15)
//   BENCH_RETRIES          re-measurements of a flagged window                     (1)
//   BENCH_BUDGET_SECONDS   no re-measurement after this long (keeps a locked run short) (420)
//   BENCH_LAYERS           comma-separated layer[+pub|+batch] list (see DEFAULT_LAYERS)

import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { startNats } from './lib/nats-server';
import { childPids, LoadMeter } from './lib/procfs';
import { interleave, measureUntilClean, summarize, type Window } from './lib/rate-math';
import { startNginx } from './lib/targets';
import { envInt, note, round, runBench } from './lib/util';

const DEFAULT_LAYERS = ['undici-client', 'undici-client+pub', 'undici-dispatch', 'undici-pool-reset', 'node-http', 'raw-net', 'raw-net+pub', 'raw-net+batch'];
const RATE = envInt('BENCH_RATE', 1500);
const REPS = envInt('BENCH_REPS', 3);
const SECONDS = envInt('BENCH_SECONDS', 10);
const WARM = envInt('BENCH_WARM_SECONDS', 3);
const BATCH_MS = envInt('BENCH_BATCH_MS', 20);
const MAX_FOREIGN = envInt('BENCH_MAX_FOREIGN_PCT', 15);
const RETRIES = envInt('BENCH_RETRIES', 1);
const BUDGET_S = envInt('BENCH_BUDGET_SECONDS', 420);
const LAYERS = (process.env.BENCH_LAYERS ?? DEFAULT_LAYERS.join(',')).split(',').filter(Boolean);

interface ChildOut {
  layer: string;
  done: number;
  ok: number;
  errors: number;
  dropped: number;
  cpuMs: number;
  wallMs: number;
}

interface LayerWindow extends Window {
  ok: number;
  errors: number;
  dropped: number;
  loadavg1m: number;
}

async function runLayer(layer: string, nginxPort: number, natsUrl: string, ours: () => number[]): Promise<LayerWindow> {
  const args = [join(__dirname, 'lib', 'layer-child.js'), layer, '127.0.0.1', String(nginxPort), '/', String(RATE), String(WARM), String(SECONDS), natsUrl, String(BATCH_MS)];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  // Foreign load over the whole run of the child (warm-up included: a little wider than its window).
  const meter = new LoadMeter(() => [proc.pid!, ...ours()]);
  let load = meter.read();
  const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  const sampler = setInterval(() => (load = meter.read()), 500);
  const code = await exited;
  clearInterval(sampler);
  if (code !== 0) throw new Error(`${layer}: child exited ${code}`);
  const r = JSON.parse(out.trim().split('\n').pop()!) as ChildOut;
  return { count: r.done, ok: r.ok, errors: r.errors, dropped: r.dropped, cpuMs: r.cpuMs, wallMs: r.wallMs, foreignPct: load.foreignPct, loadavg1m: loadavg()[0]! };
}

runBench('http-layers', async (cleanup) => {
  const nginx = await startNginx(1);
  cleanup(() => nginx.stop());
  const nats = await startNats();
  cleanup(() => nats.stop());
  const ours = () => [process.pid, nats.pid, nginx.pid, ...childPids(nginx.pid)];
  const windows = new Map<string, LayerWindow[]>(LAYERS.map((l) => [l, []]));
  const t0 = performance.now();
  const budgetLeft = () => performance.now() - t0 < BUDGET_S * 1000;
  for (const [rep, layer] of interleave(REPS, LAYERS)) {
    const show = (w: LayerWindow) =>
      note(`rep ${rep + 1} ${layer}: ${Math.round((w.count * 1000) / w.wallMs)}/s, ${Math.round((w.cpuMs * 1000) / w.count)} µs CPU/request, ok ${w.ok}/${w.count}, dropped ${w.dropped}, foreign ${w.foreignPct}%, load ${round(w.loadavg1m, 2)}`);
    const ws = await measureUntilClean(() => runLayer(layer, nginx.port, nats.url, ours), MAX_FOREIGN, RETRIES, budgetLeft, (w) => (show(w), note(`${layer}: foreign CPU ${w.foreignPct}% > ${MAX_FOREIGN}%: flagged, measuring again`)));
    show(ws[ws.length - 1]!);
    windows.get(layer)!.push(...ws);
  }
  const rows = Object.fromEntries(
    [...windows].map(([layer, ws]) => {
      const s = summarize(ws, MAX_FOREIGN);
      return [layer, { usPerRequest: s.usPer, perSec: s.perSec, cpuPct: s.cpuPct, usRuns: ws.map((w) => Math.round((w.cpuMs * 1000) / w.count)), kept: s.kept, allSpoiled: s.allSpoiled, okPct: round((100 * ws.reduce((a, w) => a + w.ok, 0)) / Math.max(1, ws.reduce((a, w) => a + w.count, 0)), 1), dropped: ws.reduce((a, w) => a + w.dropped, 0), foreignPct: ws.map((w) => w.foreignPct) }];
    }),
  );
  process.stderr.write(`\n| layer | µs CPU per request (median) | runs | achieved/s | CPU % of a core | ok % |\n|---|---|---|---|---|---|\n`);
  for (const [layer, r] of Object.entries(rows)) process.stderr.write(`| ${layer} | ${r.usPerRequest} | ${r.usRuns.join(' / ')} | ${r.perSec} | ${r.cpuPct} | ${r.okPct} |\n`);
  return { rate: RATE, reps: REPS, seconds: SECONDS, warmSeconds: WARM, batchMs: BATCH_MS, maxForeignPct: MAX_FOREIGN, rows };
});
