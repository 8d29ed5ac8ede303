// Benchmark 6a — the CPU a spec can make a node spend on one response body: regex engines side by
// side (re2js, the native `re2` binding when available, JavaScript's backtracking RegExp),
// bodyContains / TCP expect search, decoding / JSON-parsing a body at the old and new maxBodyBytes
// caps, and what the body worker costs per job. Pure CPU in this process: no network, no NATS.
//
//   npm run build && npm run bench:regex
//   with the native binding:  mkdir -p /tmp/re2-trial && cd /tmp/re2-trial && npm init -y && npm install --no-save re2
//                             BENCH_RE2_PATH=/tmp/re2-trial/node_modules/re2 npm run bench:regex
//   knobs: BENCH_REPEAT (5: runs per figure, the median is reported)

import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { RE2JS } from 're2js';
import { BodyWorker } from '../checks/body-worker';
import { ByteSearch, indexOfLinear } from '../checks/text-search';
import { LoadMeter } from './lib/procfs';
import { median } from './lib/stats';
import { envInt, note, round, runBench } from './lib/util';
import { abcText, BLOW_UP } from '../testkit/hostile-text';

const REPEAT = envInt('BENCH_REPEAT', 5);
const KiB = 1024;
const MiB = 1024 * KiB;

interface Engine {
  name: string;
  compile(pattern: string): { test(text: string): boolean };
}

const engines: Engine[] = [{ name: 're2js', compile: (p) => RE2JS.compile(p) }];
const nativePath = process.env.BENCH_RE2_PATH;
if (nativePath) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RE2 = require(nativePath) as new (p: string) => { test(text: string): boolean };
  engines.push({ name: 're2-native', compile: (p) => new RE2(p) });
}
engines.push({ name: 'js-regexp', compile: (p) => new RegExp(p) });

/** Median ms of `runs` calls of `f` (after one warm-up call). */
function ms(f: () => unknown, runs = REPEAT): number {
  f();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    f();
    times.push(performance.now() - t);
  }
  return round(median(times), 4);
}

function jsonBody(bytes: number, tail = ''): string {
  const items: string[] = [];
  let size = 2;
  for (let i = 0; size < bytes - tail.length - 64; i++) {
    const item = JSON.stringify({ id: i, name: `item-${i}`, ok: i % 7 !== 0, tags: ['a', 'b'] });
    items.push(item);
    size += item.length + 1;
  }
  return `{"items":[${items.join(',')}]${tail}}`;
}

const TYPICAL = ['"status"\\s*:\\s*"(up|ok)"', 'build \\d+\\)$', '"version":"\\d+\\.\\d+\\.\\d+"', 'healthy|ok'];
const BIG_PATTERN = '\\pL{1000}'; // the costliest compile found within the 1024-character limit
const STATUS = '"status"\\s*:\\s*"(up|ok)"';

function engineFigures(engine: Engine): Record<string, unknown> {
  const js = engine.name === 'js-regexp';
  const compileTypical = round(TYPICAL.map((p) => ms(() => engine.compile(p), 50)).reduce((a, b) => a + b, 0) / TYPICAL.length, 4);
  const status = engine.compile(STATUS);
  const match: Record<string, number> = {};
  for (const [label, bytes] of [['4KiB', 4 * KiB], ['64KiB', 64 * KiB], ['1MiB', MiB]] as const) {
    const body = jsonBody(bytes, ',"status":"up"'); // the match is at the very end
    match[label] = ms(() => status.test(body));
  }
  const out: Record<string, unknown> = { compileTypicalMs: compileTypical, matchStatusAtEndMs: match };
  if (js) {
    // Backtracking: each extra "a" doubles the time; 10 KiB would never finish.
    const cat = engine.compile('^(a+)+$');
    out.catastrophicMsByLength = Object.fromEntries([16, 18, 20, 22, 24].map((n) => [`${n}a+!`, ms(() => cat.test(`${'a'.repeat(n)}!`), 3)]));
    return out;
  }
  try {
    out.compileBigMs = ms(() => engine.compile(BIG_PATTERN), 10);
  } catch (err) {
    out.compileBigMs = `refused: ${(err as Error).message}`; // native RE2's own program-size limit
  }
  const cat = engine.compile('^(a+)+$');
  const catBody = `${'a'.repeat(10 * KiB)}!`;
  out.catastrophic10KiBMsPerMatch = ms(() => cat.test(catBody), 50);
  const blow = engine.compile(BLOW_UP);
  out.blowUpMs = { '64KiB': ms(() => blow.test(abcText(64 * KiB)), 3), '1MiB': ms(() => blow.test(abcText(MiB)), 1) };
  return out;
}

/** How long `terminate()` takes while the worker is inside a long match (re2js: JavaScript; native: C++). */
async function terminateWhileMatching(engine: 're2js' | 'native'): Promise<number> {
  const lib = engine === 're2js' ? require.resolve('re2js') : nativePath!;
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const lib = require(workerData.lib);
     const re = workerData.engine === 're2js' ? lib.RE2JS.compile(workerData.pattern) : new lib(workerData.pattern);
     parentPort.postMessage('ready');
     parentPort.on('message', (text) => parentPort.postMessage(re.test(text)));`,
    { eval: true, workerData: { lib, engine, pattern: BLOW_UP } },
  );
  await new Promise((r) => worker.once('message', r));
  worker.postMessage(abcText(MiB));
  await new Promise((r) => setTimeout(r, 100)); // well inside the multi-second match
  const t = performance.now();
  await worker.terminate();
  return round(performance.now() - t, 1);
}

async function workerFigures(): Promise<Record<string, unknown>> {
  const w = new BodyWorker({ budgetMs: 60_000, heavyShare: 1 }); // measure, never stop or ration
  const body = jsonBody(4 * KiB, ',"status":"up"');
  await w.match(STATUS, body); // start the worker
  const n = 2000;
  let t = performance.now();
  for (let i = 0; i < n; i++) await w.match(STATUS, body);
  const roundTripUs = round(((performance.now() - t) / n) * 1000, 1);
  const assertions = [{ path: '$.status', equals: 'up' }];
  t = performance.now();
  for (let i = 0; i < n; i++) await w.evaluateJson('c', body, assertions);
  const jsonRoundTripUs = round(((performance.now() - t) / n) * 1000, 1);
  // A 1 MiB job: what the event loop pays to hand it over, and how long the worker takes.
  const deep = `[${Array(Math.floor(MiB / 513)).fill(`${'['.repeat(256)}${']'.repeat(256)}`).join(',')}]`;
  const handOver: number[] = [];
  const deepMs: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const start = performance.now();
    const answer = w.evaluateJson('deep', deep, assertions);
    handOver.push(performance.now() - start);
    await answer;
    deepMs.push(performance.now() - start);
  }
  await w.close();
  const terminateMs: Record<string, number> = { re2js: await terminateWhileMatching('re2js') };
  if (nativePath) terminateMs['re2-native'] = await terminateWhileMatching('native');
  return {
    roundTripUsPer4KiBMatch: roundTripUs,
    roundTripUsPer4KiBJson: jsonRoundTripUs,
    jsonDeep1MiB: { eventLoopMs: round(median(handOver), 3), inWorkerMs: round(median(deepMs), 1) },
    terminateDuringMatchMs: terminateMs,
  };
}

/** A TCP check's expect, fed as a socket delivers 1 MiB: 16 chunks of 64 KiB. */
function byteSearch(chunks: readonly Buffer[], needle: Buffer): number {
  const search = new ByteSearch(needle);
  for (const chunk of chunks) if (search.push(chunk) !== -1) return 1;
  return -1;
}

function searchFigures(): Record<string, unknown> {
  const a = 'a'.repeat(MiB);
  const needle = `ab${'a'.repeat(4094)}`; // 4 KiB, the bodyContains limit
  const json = jsonBody(MiB);
  const chunks = Array.from({ length: 16 }, () => Buffer.alloc(64 * KiB, 'a'));
  return {
    pathological1MiB: {
      includesMs: ms(() => a.includes(needle), 1),
      bufferIndexOfMs: ms(() => Buffer.from(a).indexOf(needle), 1),
      indexOfLinearMs: ms(() => indexOfLinear(a, needle)),
      byteSearch64KiBChunksMs: ms(() => byteSearch(chunks, Buffer.from(needle))),
    },
    typicalMiss1MiB: { includesMs: ms(() => json.includes('"status":"degraded"')), indexOfLinearMs: ms(() => indexOfLinear(json, '"status":"degraded"')) },
  };
}

function bodyFigures(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [label, bytes] of [['1MiB', MiB], ['16MiB', 16 * MiB]] as const) {
    const text = jsonBody(bytes);
    const buf = Buffer.from(text);
    const deep = `${'['.repeat(bytes / 2)}${']'.repeat(bytes / 2)}`;
    out[label] = { utf8DecodeMs: ms(() => buf.toString('utf8'), 3), jsonParseMs: ms(() => JSON.parse(text), 3), jsonParseDeepNestingMs: ms(() => JSON.parse(deep), 1) };
  }
  return out;
}

runBench('regex', async () => {
  const load = new LoadMeter(() => [process.pid]);
  const result: Record<string, unknown> = {};
  for (const engine of engines) {
    note(`engine ${engine.name}`);
    result[engine.name] = engineFigures(engine);
  }
  note('worker');
  result.worker = await workerFigures();
  note('bodyContains search');
  result.search = searchFigures();
  note('body decode and JSON.parse');
  result.body = bodyFigures();
  return { repeat: REPEAT, nativeBinding: nativePath ?? null, ...result, foreignCpuPct: load.read().foreignPct };
});
