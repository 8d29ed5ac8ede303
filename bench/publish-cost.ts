// Benchmark — CPU per published result, one write per result vs batched (runtime/publish-batcher.ts).
//
// A child process stands in for a node's check runners: BENCH_CHECKS checks (default 1,500) at a
// 1 s interval, phases spread evenly, each on its own timer, each publishing one real-sized result
// (the fields of ResultMessage) on `<prefix>.result.<id>` when its timer fires — one result per
// callback, as probes finish in separate callbacks. Mode `direct` publishes the way the node did
// before batching (natsBus: encode + nc.publish per result); mode `batch:<ms>` goes through the
// PublishBatcher with that window (LOOKOUT_PUBLISH_BATCH_MS; 0 = the rest of the event-loop turn).
// Measured over BENCH_SECONDS after a 2 s warm-up: the child's CPU (process.cpuUsage) per result
// and its socket.write calls per result (nats.js writes its buffer with one socket.write). The
// modes run one after the other, BENCH_REPS times interleaved, against one nats-server on loopback
// with no subscriber; medians are reported, with the host's load and the CPU of other processes.
//
//   npm run build && npm run bench:publish
//   knobs: BENCH_CHECKS (1500), BENCH_SECONDS (10), BENCH_REPS (3), BENCH_MODES ("direct,batch:0")

import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { connect } from '@nats-io/transport-node';
import { natsBus } from '../runtime/bus';
import { systemClock } from '../runtime/clock';
import { PublishBatcher } from '../runtime/publish-batcher';
import { startNats } from './lib/nats-server';
import { LoadMeter } from './lib/procfs';
import { checkId } from './lib/specs';
import { envInt, note, round, runBench } from './lib/util';

const CHECKS = envInt('BENCH_CHECKS', 1500);
const SECONDS = envInt('BENCH_SECONDS', 10);
const REPS = envInt('BENCH_REPS', 3);
const MODES = (process.env.BENCH_MODES ?? 'direct,batch:0').split(',');
const WARM_MS = 2000;
const INTERVAL_MS = 1000;

function result(id: string, seq: number): Record<string, unknown> {
  return {
    checkId: id, ok: true, status: 'up', latencyMs: 0.91, reason: null, message: null, node: 'bench-node-1', at: new Date().toISOString(), epoch: 3, seq, vantage: 0, kind: 'http',
    target: `http://127.0.0.1:41234/c/${id}`, slot: Date.now(), timings: { dns: 0, connect: 0.21, firstByte: 0.83, total: 0.91 }, httpStatus: 200, history: '11111111', skipped: 0,
  };
}

interface ChildResult {
  mode: string;
  results: number;
  writes: number;
  cpuUsPerResult: number;
  writesPerResult: number;
  batches: number;
}

async function child(url: string, mode: string): Promise<void> {
  let writes = 0;
  const write = Socket.prototype.write;
  Socket.prototype.write = function (this: Socket, ...args: unknown[]) {
    writes++;
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof Socket.prototype.write;
  const nc = await connect({ servers: url, name: `publish-cost-${mode}` });
  const bus = natsBus(nc);
  const windowMs = mode.startsWith('batch:') ? Number(mode.slice('batch:'.length)) : 0;
  const batcher = new PublishBatcher({ windowMs, gateOpen: () => true, onDropped: () => {}, clock: systemClock, send: (s, d) => nc.publish(s, d) });
  const publish = mode.startsWith('batch:') ? (s: string, m: unknown) => batcher.publish(s, m, 'result') : (s: string, m: unknown) => bus.publish(s, m);
  let results = 0;
  let counting = false;
  const start = performance.now();
  const timers: NodeJS.Timeout[] = [];
  for (let i = 0; i < CHECKS; i++) {
    const id = checkId(i);
    const subject = `lookout.result.${id}`;
    let seq = 0;
    const phase = (i * INTERVAL_MS) / CHECKS;
    const fire = () => {
      seq++;
      publish(subject, result(id, seq));
      if (counting) results++;
      // The next slot of this check, on its phase (no drift; Node may fire a timer up to 1 ms early).
      const next = start + phase + seq * INTERVAL_MS;
      timers[i] = setTimeout(fire, Math.max(0, next - performance.now()));
    };
    timers[i] = setTimeout(fire, phase);
  }
  await new Promise((r) => setTimeout(r, WARM_MS));
  counting = true;
  const writes0 = writes;
  const batches0 = batcher.batches;
  const cpu0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const cpu = process.cpuUsage(cpu0);
  counting = false;
  const w = writes - writes0;
  for (const t of timers) clearTimeout(t);
  batcher.stop();
  await nc.drain();
  const out: ChildResult = { mode, results, writes: w, cpuUsPerResult: round((cpu.user + cpu.system) / results, 1), writesPerResult: round(w / results, 3), batches: batcher.batches - batches0 };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function runChild(url: string, mode: string): Promise<{ r: ChildResult; foreignPct: number }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [__filename, 'child', url, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    const meter = new LoadMeter(() => [proc.pid!]);
    let out = '';
    proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
    proc.on('exit', (code) => {
      const foreignPct = meter.read().foreignPct;
      if (code !== 0) return reject(new Error(`child ${mode} exited ${code}`));
      resolve({ r: JSON.parse(out.trim()) as ChildResult, foreignPct });
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

if (process.argv[2] === 'child') {
  void child(process.argv[3]!, process.argv[4]!).catch((err: unknown) => {
    process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  });
} else {
  runBench('publish-cost', async (cleanup) => {
    const nats = await startNats();
    cleanup(() => nats.stop());
    const runs: (ChildResult & { foreignPct: number })[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      for (const mode of MODES) {
        const { r, foreignPct } = await runChild(nats.url, mode);
        note('publish-cost', { rep, ...r, foreignPct });
        runs.push({ ...r, foreignPct });
      }
    }
    const byMode = MODES.map((mode) => {
      const rs = runs.filter((r) => r.mode === mode);
      return { mode, cpuUsPerResult: median(rs.map((r) => r.cpuUsPerResult)), writesPerResult: median(rs.map((r) => r.writesPerResult)), runs: rs.map((r) => ({ cpuUs: r.cpuUsPerResult, writes: r.writesPerResult, results: r.results, foreignPct: r.foreignPct })) };
    });
    return { checks: CHECKS, intervalMs: INTERVAL_MS, seconds: SECONDS, reps: REPS, modes: byMode };
  });
}
