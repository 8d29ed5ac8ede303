// The CPU of one fresh-connection HTTP probe, by client (issue 12 §1): each option runs in its own
// child process, `BENCH_CONC` requests in flight, a new TCP connection per request, GET / against
// nginx (`return 200`), and reports its process CPU (utime + stime) per request after a warm-up.
// Options run interleaved, one at a time, `BENCH_REPS` rounds; medians of µs per request.
//   undici-request   new undici Client + request() + destroy (what checks/http-probe.ts did per probe)
//   undici-dispatch  new undici Client + dispatch() with a bare handler (no body stream, no promise)
//   node-http        http.request({ agent: false }) + destroy at the response
//   net-lean         net.connect + GET + the status line / headers (checks/http-lean-parse.ts)
//   probe-node-http  connectTimed + one timer + http.request on that socket (a probe on Node's http, sketched)
//   probe-undici     probeHttp through checks/ (the undici path: what runProbe did before)
//   probe-lean       runProbe through checks/ (the lean path, checks/http-lean.ts, for this spec)
//   tcp-full         a TCP connect check through probeTcp (the envelope: Deadline, AbortController, race)
//   tcp-lean         the same spec through runProbe (checks/tcp-lean.ts): connect only, nothing sent
//
//   npm run build && flock /work/notes/heavy.lock node dist/bench/probe-path.js
//   knobs: BENCH_REPS (5), BENCH_N (20000), BENCH_CONC (8), BENCH_OPTIONS (comma list)
import { execFileSync, spawnSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { loadavg } from 'node:os';
import { Client, type Dispatcher } from 'undici';
import { connectTimed, msSince } from '../checks/connector';
import { buildOutcome } from '../checks/failures';
import { HEAD_START, parseResponseHead } from '../checks/http-lean-parse';
import { statusFailure } from '../checks/http-failures';
import { probeHttp } from '../checks/http-probe';
import { DIRECT_PROBE_ENV } from '../checks/probe-env';
import { runProbe } from '../checks/probe';
import { normalizeSpec, type NormalizedSpec } from '../checks/spec';
import { probeTcp } from '../checks/tcp-probe';
import { childPids, cpuMsOf, hostCpu } from './lib/procfs';
import { startNginx } from './lib/targets';
import { envInt } from './lib/util';

const OPTIONS = ['undici-request', 'undici-dispatch', 'node-http', 'net-lean', 'probe-node-http', 'probe-undici', 'probe-lean', 'tcp-full', 'tcp-lean'] as const;
type Option = (typeof OPTIONS)[number];
type OneRequest = (port: number) => Promise<unknown>;

const noop = (): void => {};
/** /proc/stat clock ticks per second (USER_HZ). */
const HZ = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

function undiciRequest(port: number): Promise<unknown> {
  const client = new Client(`http://127.0.0.1:${port}`, { headersTimeout: 0, bodyTimeout: 0 });
  return client.request({ path: '/', method: 'GET' }).then((res) => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    res.body.on('error', noop).destroy();
    client.destroy().catch(noop);
    Error.stackTraceLimit = limit;
    return res.statusCode;
  });
}

function undiciDispatch(port: number): Promise<unknown> {
  const client = new Client(`http://127.0.0.1:${port}`, { headersTimeout: 0, bodyTimeout: 0 });
  return new Promise((resolve, reject) => {
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart: noop,
      onResponseStart: (_c, status) => {
        resolve(status);
        client.destroy().catch(noop);
      },
      onResponseData: noop,
      onResponseEnd: noop,
      onResponseError: (_c, err) => reject(err),
    };
    client.dispatch({ path: '/', method: 'GET' }, handler);
  });
}

function nodeHttp(port: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/', method: 'GET', agent: false }, (res) => {
      resolve(res.statusCode);
      req.destroy();
    });
    req.on('error', reject).end();
  });
}

function netLean(port: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1').setNoDelay(true);
    let head: Buffer | null = null;
    socket.on('connect', () => socket.write('GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n', 'latin1'));
    socket.on('data', (chunk: Buffer) => {
      head = head ? Buffer.concat([head, chunk]) : chunk;
      const parsed = parseResponseHead(head, HEAD_START, 16384);
      if (parsed.kind === 'partial') return;
      socket.destroy();
      resolve(parsed);
    });
    socket.on('error', reject);
  });
}

/**
 * What a probe on Node's http would cost: connectTimed (policy, timings), one deadline timer, then
 * http.request on that socket, settled at the response head; the outcome built as a probe's.
 */
function nodeHttpProbe(port: number): Promise<unknown> {
  const start = performance.now();
  const timings = {};
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), 2000);
    const ctx = { timings, policy: DIRECT_PROBE_ENV.policy, lookup: DIRECT_PROBE_ENV.lookup };
    connectTimed({ host: '127.0.0.1', port }, ctx).then((socket) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/', method: 'GET', headers: { connection: 'close' }, createConnection: () => socket }, (res) => {
        clearTimeout(timer);
        socket.destroy();
        const total = msSince(start);
        resolve(buildOutcome(total, timings, statusFailure(DEFAULT_EXPECT, res.statusCode!), { httpStatus: res.statusCode! }));
      });
      req.on('error', reject).end();
    }, reject);
  });
}
const DEFAULT_EXPECT = { expectStatus: ['2xx' as const] };

/**
 * One probe through checks/: runProbe (the lean path for this spec) or the full one — undici's
 * probeHttp, or for a TCP connect (`tcp`) the enveloped probeTcp.
 */
function viaProbe(lean: boolean, tcp = false): OneRequest {
  let spec: NormalizedSpec | null = null;
  return (port) => {
    spec ??= tcp
      ? normalizeSpec('b', { kind: 'tcp', target: `127.0.0.1:${port}`, intervalMs: 1000, timeoutMs: 2000 })
      : normalizeSpec('b', { kind: 'http', target: `http://127.0.0.1:${port}/`, intervalMs: 1000, timeoutMs: 2000 });
    const full = tcp ? probeTcp : probeHttp;
    const outcome = lean ? runProbe(spec, undefined, DIRECT_PROBE_ENV) : full(spec, undefined, DIRECT_PROBE_ENV);
    return outcome.then((o) => {
      if (!o.ok) throw new Error(`probe failed: ${o.reason} ${o.message}`);
    });
  };
}

function requestOf(option: Option): OneRequest {
  switch (option) {
    case 'undici-request':
      return undiciRequest;
    case 'undici-dispatch':
      return undiciDispatch;
    case 'node-http':
      return nodeHttp;
    case 'net-lean':
      return netLean;
    case 'probe-node-http':
      return nodeHttpProbe;
    case 'probe-undici':
      return viaProbe(false);
    case 'probe-lean':
      return viaProbe(true);
    case 'tcp-full':
      return viaProbe(false, true);
    case 'tcp-lean':
      return viaProbe(true, true);
  }
}

async function drive(one: OneRequest, port: number, n: number, conc: number): Promise<void> {
  let left = n;
  const worker = async (): Promise<void> => {
    while (left-- > 0) await one(port);
  };
  await Promise.all(Array.from({ length: conc }, worker));
}

/** Child: warm up, then the CPU µs per request of `n` requests. */
async function child(option: Option, port: number): Promise<void> {
  const n = envInt('BENCH_N', 20_000);
  const conc = envInt('BENCH_CONC', 8);
  const one = requestOf(option);
  await drive(one, port, Math.min(3000, n), conc);
  const before = process.cpuUsage();
  const t0 = performance.now();
  await drive(one, port, n, conc);
  const cpu = process.cpuUsage(before);
  const wallMs = performance.now() - t0;
  const life = process.cpuUsage();
  const lifeCpuMs = (life.user + life.system) / 1000;
  process.stdout.write(JSON.stringify({ option, usPerReq: (cpu.user + cpu.system) / n, perSec: Math.round((n / wallMs) * 1000), lifeCpuMs }) + '\n');
  process.exit(0);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const reps = envInt('BENCH_REPS', 5);
  const chosen = (process.env.BENCH_OPTIONS?.split(',') ?? OPTIONS) as Option[];
  const nginx = await startNginx(1);
  const runs = new Map<Option, number[]>(chosen.map((o) => [o, []]));
  const foreign: number[] = [];
  const nginxCpu = (): number => cpuMsOf([nginx.pid, ...childPids(nginx.pid)]);
  try {
    for (let r = 0; r < reps; r++) {
      for (const option of chosen) {
        const [host0, ng0, t0] = [hostCpu(), nginxCpu(), performance.now()];
        const out = spawnSync(process.execPath, [__filename, 'child', option, String(nginx.port)], { encoding: 'utf8', env: process.env });
        if (out.status !== 0) throw new Error(`${option}: ${out.stderr}`);
        const result = JSON.parse(out.stdout.trim()) as { usPerReq: number; lifeCpuMs: number };
        runs.get(option)!.push(Math.round(result.usPerReq));
        // The machine's busy CPU during the child's run, less the child's and nginx's: others' work (% of one core).
        const hostMs = ((hostCpu().busy - host0.busy) * 1000) / HZ;
        foreign.push(Math.max(0, Math.round((100 * (hostMs - result.lifeCpuMs - (nginxCpu() - ng0))) / (performance.now() - t0))));
      }
    }
  } finally {
    await nginx.stop();
  }
  const code = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  const usPerReq = Object.fromEntries([...runs].map(([o, xs]) => [o, { median: median(xs), runs: xs }]));
  console.log(JSON.stringify({ bench: 'probe-path', usPerReq, foreignCpuPct: { median: median(foreign), max: Math.max(...foreign) }, conc: envInt('BENCH_CONC', 8), n: envInt('BENCH_N', 20_000), loadavg1m: loadavg()[0], code }));
}

if (process.argv[2] === 'child') void child(process.argv[3] as Option, Number(process.argv[4]));
else void main();
