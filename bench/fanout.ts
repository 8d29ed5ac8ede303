// Benchmark 4 — fan-out latency: from a result's publish to a subscriber's receipt, on loopback.
//
// A controlled publisher (this process) sends result messages on lookout.result.<id> with the
// payload of a real Lookout HTTP result (same fields, ~500 bytes) plus a publish stamp `t` taken
// from process.hrtime (CLOCK_MONOTONIC, comparable across processes on one host) right before
// nc.publish. Results are paced evenly in 1 ms ticks at a result rate Lookout really produces
// (BENCH_RATES, default 1000 and 3000 results/s: 1,000 checks at 1 s, or 3,000 checks at 1 s — the
// throughput benchmark's load). Subscribers are separate processes (BENCH_PROCS, default 2: one per core), holding 1 or 100
// NATS connections in total (maxMs/p99 of 1000 mean "more than 1 s"), each subscribed to lookout.result.> and parsing every message's JSON.
// Warm-up messages (first 2 s) are not counted. Goal: p99 ≤ 2 ms on loopback.
//
//   npm run build && npm run bench:fanout
//   knobs: BENCH_RATES ("1000,3000"), BENCH_SUBS ("1,100"), BENCH_SECONDS (15), BENCH_PROCS (2),
//          BENCH_PUBLISH ("tick" | "direct" | "batch:<ms>": how results are published, see PUBLISH)

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { systemClock } from '../runtime/clock';
import { PublishBatcher } from '../runtime/publish-batcher';
import { startNats } from './lib/nats-server';
import { cpuMs, LoadMeter } from './lib/procfs';
import { checkId } from './lib/specs';
import { envInt, note, round, runBench, sleep } from './lib/util';

const RATES = (process.env.BENCH_RATES ?? '1000,3000').split(',').map(Number);
const SUBS = (process.env.BENCH_SUBS ?? '1,100').split(',').map(Number);
const SECONDS = envInt('BENCH_SECONDS', 15);
const PROCS = envInt('BENCH_PROCS', 2);
const WARM_MS = 2000;
const CHECKS = 1000;
/**
 * How results are published: `tick` (default) — every result due in a 1 ms tick, from one callback;
 * `direct` — each check on its own timer, one nc.publish per result (a node without batching);
 * `batch:<ms>` — each check on its own timer, through the node's PublishBatcher with that window
 * (LOOKOUT_PUBLISH_BATCH_MS; 0 = end of the event-loop turn). The stamp is taken when the result is
 * produced, so a batch's wait is part of the latency.
 */
const PUBLISH = process.env.BENCH_PUBLISH ?? 'tick';

/** Each check on its own timer at `rate` results/s in all (phases spread evenly), as a node's runners finish probes. */
function publishPerCheck(nc: NatsConnection, ids: readonly string[], rate: number, start: number, end: number, counted: () => void): { stop(): void } {
  const windowMs = PUBLISH.startsWith('batch:') ? Number(PUBLISH.slice('batch:'.length)) : -1;
  const batcher = new PublishBatcher({ windowMs, gateOpen: () => true, onDropped: () => {}, clock: systemClock, send: (s, d) => nc.publish(s, d) });
  const intervalMs = (ids.length * 1000) / rate;
  const t0 = performance.now();
  const timers: NodeJS.Timeout[] = [];
  ids.forEach((id, i) => {
    let n = 0;
    const phase = (i * intervalMs) / ids.length;
    const fire = () => {
      n++;
      const now = performance.now();
      if (now >= end) return;
      const warm = now < start + WARM_MS;
      // The payload as the node's bus would encode it (a JSON object), stamped when produced.
      batcher.publish(`lookout.result.${id}`, JSON.parse(resultPayload(id, n, process.hrtime.bigint(), warm)) as unknown, 'result');
      if (!warm) counted();
      timers[i] = setTimeout(fire, Math.max(0, t0 + phase + n * intervalMs - performance.now()));
    };
    timers[i] = setTimeout(fire, phase);
  });
  return {
    stop: () => {
      for (const t of timers) clearTimeout(t);
      batcher.stop();
    },
  };
}

/** A real Lookout result (shape of protocol/records.ts ResultMessage, values from a probe of nginx). */
function resultPayload(id: string, seq: number, t: bigint, warm: boolean): string {
  return JSON.stringify({
    t: t.toString(),
    ...(warm ? { warm: true } : {}),
    checkId: id,
    ok: true,
    status: 'up',
    latencyMs: 0.91,
    reason: null,
    message: null,
    node: 'bench-node-1',
    at: new Date().toISOString(),
    epoch: 3,
    seq,
    vantage: 0,
    kind: 'http',
    target: `http://127.0.0.1:41234/c/${id}`,
    slot: Date.now(),
    timings: { dns: 0, connect: 0.21, firstByte: 0.83, total: 0.91 },
    httpStatus: 200,
    history: '11111111',
    skipped: 0,
  });
}

interface SubProc {
  proc: ChildProcess;
  lines: AsyncIterator<string>;
}

async function startSubscribers(url: string, total: number): Promise<SubProc[]> {
  const procs = Math.min(PROCS, total);
  const out: SubProc[] = [];
  for (let i = 0; i < procs; i++) {
    const conns = Math.floor(total / procs) + (i < total % procs ? 1 : 0);
    const proc = spawn(process.execPath, [join(__dirname, 'lib', 'fanout-sub.js'), url, String(conns)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
    out.push({ proc, lines });
  }
  for (const s of out) {
    const first = await s.lines.next();
    if (first.value !== 'ready') throw new Error(`subscriber did not start: ${String(first.value)}`);
  }
  return out;
}

interface RunResult {
  rate: number;
  subscribers: number;
  published: number;
  received: number;
  expected: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  publisherCpuPct: number;
  natsCpuPct: number;
  subscriberCpuPct: number;
  /** Deliveries more than 1 s late (subscriber fell behind). */
  over1s: number;
  foreignCpuPct: number;
}

async function run(url: string, natsPid: number, rate: number, subs: number): Promise<RunResult> {
  const subProcs = await startSubscribers(url, subs);
  const nc = await connect({ servers: url, name: 'fanout-pub' });
  const ids = Array.from({ length: CHECKS }, (_, i) => checkId(i));
  let seq = 0;
  let published = 0;
  const start = performance.now();
  const end = start + WARM_MS + SECONDS * 1000;
  let cpu0: { pub: number; nats: number; subs: number } | null = null;
  const cpuNow = () => ({ pub: cpuMs(process.pid), nats: cpuMs(natsPid), subs: subProcs.reduce((a, s) => a + cpuMs(s.proc.pid!), 0) });
  let measuredFrom = 0;
  let meter: LoadMeter | null = null;
  let perCheck: { stop(): void } | null = null;
  for (;;) {
    const now = performance.now();
    if (now >= end) break;
    const warm = now < start + WARM_MS;
    if (!warm && cpu0 === null) {
      cpu0 = cpuNow();
      measuredFrom = now;
      meter = new LoadMeter(() => [process.pid, natsPid, ...subProcs.map((s) => s.proc.pid!)]);
    }
    if (PUBLISH === 'tick') {
      // Messages due by now at `rate` per second since the start.
      const due = Math.floor(((now - start) * rate) / 1000);
      while (seq < due) {
        const id = ids[seq % CHECKS]!;
        seq++;
        nc.publish(`lookout.result.${id}`, resultPayload(id, seq, process.hrtime.bigint(), warm));
        if (!warm) published++;
      }
    } else if (!perCheck) {
      perCheck = publishPerCheck(nc, ids, rate, start, end, () => {
        if (performance.now() >= start + WARM_MS) published++;
      });
    }
    await sleep(1);
  }
  perCheck?.stop();
  await nc.flush();
  const cpu1 = cpuNow();
  const load = meter!.read();
  const wallMs = performance.now() - measuredFrom;
  await sleep(500); // in-flight deliveries
  const merged = new Map<number, number>();
  let received = 0;
  let over = 0;
  for (const s of subProcs) {
    s.proc.stdin!.write('stop\n');
    const line = await s.lines.next();
    const r = JSON.parse(String(line.value)) as { counts: [number, number][]; received: number; over: number };
    for (const [us, n] of r.counts) merged.set(us, (merged.get(us) ?? 0) + n);
    received += r.received;
    over += r.over;
  }
  await nc.close();
  const keys = [...merged.keys()].sort((a, b) => a - b);
  const q = (p: number): number => {
    const want = Math.ceil(p * received);
    let acc = 0;
    for (const k of keys) {
      acc += merged.get(k)!;
      if (acc >= want) return k / 1000;
    }
    return 1000; // in the > 1 s tail
  };
  const pct = (ms: number) => round((100 * ms) / wallMs, 1);
  const r: RunResult = {
    rate,
    subscribers: subs,
    published,
    received,
    expected: published * subs,
    p50Ms: round(q(0.5), 3),
    p90Ms: round(q(0.9), 3),
    p99Ms: round(q(0.99), 3),
    p999Ms: round(q(0.999), 3),
    maxMs: over > 0 ? 1000 : round((keys[keys.length - 1] ?? NaN) / 1000, 3),
    publisherCpuPct: pct(cpu1.pub - cpu0!.pub),
    natsCpuPct: pct(cpu1.nats - cpu0!.nats),
    subscriberCpuPct: pct(cpu1.subs - cpu0!.subs),
    over1s: over,
    foreignCpuPct: load.foreignPct,
  };
  note('fanout', r);
  return r;
}

runBench('fanout', async (cleanup) => {
  const nats = await startNats();
  cleanup(() => nats.stop());
  const rows: RunResult[] = [];
  for (const rate of RATES) for (const subs of SUBS) rows.push(await run(nats.url, nats.pid, rate, subs));
  return {
    payloadBytes: Buffer.byteLength(resultPayload(checkId(0), 1, process.hrtime.bigint(), false)),
    publish: PUBLISH,
    seconds: SECONDS,
    results: rows.map((r) => ({ rate: r.rate, subs: r.subscribers, p50Ms: r.p50Ms, p99Ms: r.p99Ms, p999Ms: r.p999Ms, maxMs: r.maxMs, delivered: r.received, expected: r.expected, over1s: r.over1s, cpuPct: { pub: r.publisherCpuPct, nats: r.natsCpuPct, subs: r.subscriberCpuPct, foreign: r.foreignCpuPct } })),
    goal: 'p99 <= 2 ms',
  };
});
