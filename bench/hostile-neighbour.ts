// Benchmark 6b — what one heavy or hostile check does to its neighbours on the same node. A
// neighbour probes a silent target (accepts, never answers) with timeoutMs 200, back to back; its
// overshoot (latency − 200 ms) is how late its deadline timer fired, i.e. how long the event loop
// was busy elsewhere. Beside it, heavy checks probe once a second each (the shortest interval a
// spec may ask for), in turn:
//
//   json, inline / probe           a 1 MiB JSON body with a json assertion: JSON.parse and the
//                                  path on the event loop (the old code) vs the probe as it is now
//                                  (in the body worker); also a hostile JSON shape (nested empty
//                                  arrays, the costliest to parse per byte), one check and 16
//   needle, includes / linear      bodyContains of 4 KiB that makes String.includes quadratic, on
//                                  1 MiB of "a": the old search step vs the probe as it is now
//   expect, indexOf / probe        the same needle as a TCP check's `expect` against a peer sending
//                                  1 MiB of "a": Buffer.indexOf (the old step) vs probeTcp now
//   regex blow-up, inline / worker a valid RE2 pattern that falls back to the NFA, on 1 MiB: run on
//                                  the event loop (RE2 alone) vs in the body worker (budget 200 ms,
//                                  every match run to the budget: no overrun memory)
//   catastrophic, js / re2         ^(a+)+$ — JavaScript's RegExp on 25 "a" + "!" (10 KiB would
//                                  never end) vs the probe as it is now on 10 KiB
//
// The "old" rows run the old code's synchronous step on a body fetched once; the other rows run
// the real probe (probeHttp, probeTcp) against a target in a child process. Event-loop delay
// (perf_hooks.monitorEventLoopDelay) is reported beside the overshoot.
//
//   npm run build && npm run bench:neighbour
//   knobs: BENCH_SCENARIO_MS (6000 per scenario), BENCH_HEAVY_EVERY_MS (1000), BENCH_ONLY (scenario names, comma-separated)

import { spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { RE2JS } from 're2js';
import { request } from 'undici';
import { BodyWorker, bodyWorker, type BodyWorkerStats } from '../checks/body-worker';
import { probeHttp } from '../checks/http-probe';
import { normalizeSpec, type CheckSpec } from '../checks/spec';
import { probeTcp } from '../checks/tcp-probe';
import { LoadMeter } from './lib/procfs';
import { dist } from './lib/stats';
import { envInt, note, round, runBench, sleep } from './lib/util';
import { BLOW_UP } from '../testkit/hostile-text';

const SCENARIO_MS = envInt('BENCH_SCENARIO_MS', 6000);
const HEAVY_EVERY_MS = envInt('BENCH_HEAVY_EVERY_MS', 1000);
const ONLY = process.env.BENCH_ONLY?.split(',');
const MiB = 1024 * 1024;
const NEIGHBOUR_TIMEOUT = 200;
const NEEDLE = `ab${'a'.repeat(4094)}`;

// The target: a child process, so serving 16 MiB bodies costs the measured process nothing.
const TARGET = `
const http = require('node:http');
const net = require('node:net');
const MiB = 1024 * 1024;
function json(bytes) {
  const parts = []; let size = 2;
  for (let i = 0; size < bytes - 64; i++) { const s = JSON.stringify({ id: i, name: 'item-' + i, ok: i % 7 !== 0, tags: ['a', 'b'] }); parts.push(s); size += s.length + 1; }
  return Buffer.from('{"items":[' + parts.join(',') + ']}');
}
function deep(bytes) {
  const unit = '['.repeat(256) + ']'.repeat(256);
  return Buffer.from('[' + Array(Math.floor(bytes / (unit.length + 1))).fill(unit).join(',') + ']');
}
let a = 7; const abc = Buffer.alloc(MiB, 'd');
for (let i = 0; i < MiB - 1; i++) { a = (a * 1103515245 + 12345) & 0x7fffffff; abc[i] = 0x61 + (a % 3); }
const bodies = { '/json': json(MiB), '/deep': deep(MiB), '/a': Buffer.alloc(MiB, 'a'), '/abc': abc, '/cat': Buffer.from('a'.repeat(10240) + '!') };
const server = http.createServer((req, res) => { const b = bodies[req.url] || Buffer.from('ok'); res.writeHead(200, { 'content-length': b.length }); res.end(b); });
const silent = net.createServer(() => {});
const flood = net.createServer((socket) => { socket.on('error', () => {}); socket.end(bodies['/a']); });
server.listen(0, '127.0.0.1', () => silent.listen(0, '127.0.0.1', () => flood.listen(0, '127.0.0.1', () =>
  console.log(JSON.stringify({ http: server.address().port, silent: silent.address().port, flood: flood.address().port })))));
`;

interface Target {
  http: number;
  silent: number;
  /** TCP: sends 1 MiB of "a" to every connection. */
  flood: number;
  pid: number;
  stop(): void;
}

async function startTarget(): Promise<Target> {
  const child = spawn(process.execPath, ['-e', TARGET], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`target exited with ${code}`)));
  });
  return { ...(JSON.parse(line) as { http: number; silent: number; flood: number }), pid: child.pid!, stop: () => child.kill('SIGKILL') };
}

const spec = (id: string, target: string, timeoutMs: number, http: CheckSpec['http'] = {}) =>
  normalizeSpec(id, { kind: 'http', target, intervalMs: 60_000, timeoutMs, http }); // validation bypassed: the old cap is one of the rows

type Heavy = (stop: () => boolean) => Promise<number>;

/** Run `once` every HEAVY_EVERY_MS (or right after the previous run, if that took longer) until told to stop. */
const loop = (once: () => Promise<unknown>): Heavy => async (stop) => {
  let runs = 0;
  const start = Date.now();
  while (!stop()) {
    await once();
    runs++;
    const next = start + runs * HEAVY_EVERY_MS;
    while (Date.now() < next && !stop()) await sleep(Math.min(50, next - Date.now()));
  }
  return runs;
};

/** `n` heavy checks at once, started HEAVY_EVERY_MS / n apart (as their phases would spread them). */
const many = (n: number, make: (i: number) => Heavy): Heavy => async (stop) => {
  const runs = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      await sleep((i * HEAVY_EVERY_MS) / n);
      return make(i)(stop);
    }),
  );
  return runs.reduce((a, b) => a + b, 0);
};

/** The old code's synchronous step, on a body fetched once. */
const inline = (step: () => unknown): Heavy => loop(async () => {
  await yieldToLoop();
  step();
});

async function bodyOf(url: string, bytes: number): Promise<string> {
  const res = await request(url);
  const buf = Buffer.from(await res.body.arrayBuffer());
  return buf.subarray(0, bytes).toString('utf8');
}

/** How the heavy checks' probes ended in the running scenario, by reason (probe rows only). */
let reasons: Record<string, number> = {};
const tally = (o: { reason: string | null }): void => {
  const key = o.reason ?? 'ok';
  reasons[key] = (reasons[key] ?? 0) + 1;
};

async function scenario(name: string, t: Target, heavy: Heavy | null): Promise<Record<string, unknown>> {
  note(`scenario ${name}`);
  reasons = {};
  const jobsBefore: BodyWorkerStats = { ...bodyWorker.stats };
  const neighbour = spec('neighbour', `http://127.0.0.1:${t.silent}/`, NEIGHBOUR_TIMEOUT);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  const end = Date.now() + SCENARIO_MS;
  const stop = (): boolean => Date.now() >= end;
  const load = new LoadMeter(() => [process.pid, t.pid]);
  delay.enable();
  const heavyRuns = heavy ? heavy(stop) : Promise.resolve(0);
  const overshoots: number[] = [];
  while (!stop()) {
    const o = await probeHttp(neighbour);
    if (o.reason !== 'timeout') throw new Error(`the neighbour should time out, got ${o.reason}: ${o.message}`);
    overshoots.push(o.latencyMs - NEIGHBOUR_TIMEOUT);
  }
  const runs = await heavyRuns;
  delay.disable();
  const jobs = Object.fromEntries(Object.entries(bodyWorker.stats).map(([k, v]) => [k, v - jobsBefore[k as keyof BodyWorkerStats]]));
  return {
    foreignCpuPct: load.read().foreignPct,
    heavyRuns: runs,
    ...(Object.keys(reasons).length > 0 ? { heavyReasons: reasons } : {}),
    ...(Object.values(jobs).some((n) => n > 0) ? { bodyWorkerJobs: jobs } : {}),
    neighbourOvershootMs: dist(overshoots, 1),
    loopDelayMs: { p50: round(delay.percentile(50) / 1e6, 1), p99: round(delay.percentile(99) / 1e6, 1), max: round(delay.max / 1e6, 1) },
  };
}

runBench('hostile-neighbour', async (cleanup) => {
  const t = await startTarget();
  cleanup(() => t.stop());
  const url = (path: string) => `http://127.0.0.1:${t.http}${path}`;
  const probe = (s: ReturnType<typeof spec>): Heavy => loop(async () => tally(await probeHttp(s)));
  const json = [{ path: '$.missing', equals: 1 }];

  const needleText = await bodyOf(url('/a'), MiB);
  const needleBytes = Buffer.from(needleText);
  const abcText = await bodyOf(url('/abc'), MiB);
  const jsonText = await bodyOf(url('/json'), MiB);
  const deepText = await bodyOf(url('/deep'), MiB);
  const blowUp = RE2JS.compile(BLOW_UP);
  const everyTimeWorker = new BodyWorker({ retryMs: 0 });
  cleanup(() => everyTimeWorker.close());
  const catastrophicJs = /^(a+)+$/;
  const catastrophicText = `${'a'.repeat(25)}!`;
  const tcpExpect = normalizeSpec('tcp-expect', { kind: 'tcp', target: `127.0.0.1:${t.flood}`, intervalMs: 60_000, timeoutMs: 20_000, tcp: { expect: NEEDLE, maxBodyBytes: MiB } });
  // The old json step: parse, then look the path up (here: a member of the top level).
  const parseInline = (text: string) => inline(() => (JSON.parse(text) as Record<string, unknown>)['missing']);

  const scenarios: [string, Heavy | null][] = [
    ['baseline', null],
    ['json-1MiB-inline-old', parseInline(jsonText)],
    ['json-1MiB-probe-new', probe(spec('json', url('/json'), 20_000, { json, maxBodyBytes: MiB }))],
    ['json-deep-1MiB-inline-old', parseInline(deepText)],
    ['json-deep-1MiB-probe-new', probe(spec('deep', url('/deep'), 20_000, { json, maxBodyBytes: MiB }))],
    ['json-deep-1MiB-x16-inline-old', many(16, () => parseInline(deepText))],
    ['json-deep-1MiB-x16-probe-new', many(16, (i) => probe(spec(`deep-${i}`, url('/deep'), 900, { json, maxBodyBytes: MiB })))],
    ['needle-1MiB-includes-old', inline(() => needleText.includes(NEEDLE))],
    ['needle-1MiB-probe-new', probe(spec('needle', url('/a'), 20_000, { bodyContains: NEEDLE, maxBodyBytes: MiB }))],
    ['expect-1MiB-indexOf-old', inline(() => needleBytes.indexOf(NEEDLE))],
    ['expect-1MiB-probe-new', loop(async () => tally(await probeTcp(tcpExpect)))],
    ['regex-blowup-1MiB-inline', inline(() => blowUp.test(abcText))],
    ['regex-blowup-1MiB-worker', loop(() => everyTimeWorker.match(BLOW_UP, abcText))],
    ['catastrophic-js-25a-old', inline(() => catastrophicJs.test(catastrophicText))],
    ['catastrophic-10KiB-probe-new', probe(spec('cat', url('/cat'), 20_000, { bodyRegex: '^(a+)+$' }))],
  ];
  const rows: Record<string, unknown> = {};
  for (const [name, heavy] of scenarios) {
    if (ONLY && !ONLY.includes(name)) continue;
    rows[name] = await scenario(name, t, heavy);
  }
  return { scenarioMs: SCENARIO_MS, heavyEveryMs: HEAVY_EVERY_MS, neighbourTimeoutMs: NEIGHBOUR_TIMEOUT, scenarios: rows };
});
