// Run real `lookout node` processes (dist/bin/lookout.js) for the benchmarks: separate OS
// processes, so their CPU time can be read from /proc and they can be SIGKILLed. JSON log lines
// are parsed as they arrive; the /metrics port is read from the "http endpoints listening" line.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { scrape, type Samples } from './prom';
import { GiveUp, waitFor } from './util';

/** The `lookout` entry point; BENCH_CLI points at another build (e.g. an older commit's, for a before/after row). */
export const CLI = process.env.BENCH_CLI ?? join(__dirname, '..', '..', 'bin', 'lookout.js');

export interface LogLine {
  msg?: string;
  time?: string;
  level?: string;
  actor?: string;
  [k: string]: unknown;
}

export interface NodeProc {
  id: string;
  proc: ChildProcess;
  pid: number;
  /** Kept log lines (all except the per-check "verdict changed" lines, which are only counted). */
  logs: LogLine[];
  verdictLines: number;
  /** Receive time (Date.now()) of each kept line, same index as `logs`. */
  seenAt: number[];
  httpPort(): Promise<number>;
  metrics(): Promise<Samples>;
  /** Wait for a log line matching `pred` (also one already seen). */
  waitLog(what: string, pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  alive(): boolean;
  exited: Promise<number | string>;
  kill(sig?: NodeJS.Signals): Promise<void>;
}

export interface NodeOptions {
  id: string;
  natsUrl: string;
  env?: Record<string, string>;
  /** Extra node flags before the script, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/x']. */
  nodeArgs?: string[];
  /** Show the node's stderr (and warn/error lines) on our stderr. */
  echo?: boolean;
  /** Another build's `lookout` entry point (e.g. an older commit's dist/runtime/cli.js, for a before/after comparison in one run). */
  cli?: string;
}

export function spawnNode(opts: NodeOptions): NodeProc {
  const cli = opts.cli ?? CLI;
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run "npm run build" first`);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NATS_URL: opts.natsUrl,
    LOOKOUT_NODE_ID: opts.id,
    LOOKOUT_HTTP_PORT: '0',
    LOOKOUT_HTTP_HOST: '127.0.0.1',
    LOOKOUT_LOG_LEVEL: 'info',
    ...opts.env,
  };
  // BENCH_NODE_ARGS: extra node flags for every Lookout process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p").
  const extra = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...extra, ...(opts.nodeArgs ?? []), cli, 'node'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogLine[] = [];
  const seenAt: number[] = [];
  const node: NodeProc = {
    id: opts.id,
    proc,
    pid: proc.pid!,
    logs,
    seenAt,
    verdictLines: 0,
    exited: new Promise((resolve) => proc.once('exit', (code, sig) => resolve(code ?? sig ?? 'unknown'))),
    async httpPort() {
      const l = await node.waitLog('http endpoints line', (x) => typeof x.port === 'number' && String(x.msg).startsWith('http endpoints'), 30_000);
      return l.port as number;
    },
    async metrics() {
      return scrape(await node.httpPort());
    },
    async waitLog(what, pred, timeoutMs = 30_000) {
      return waitFor(
        `${opts.id}: ${what}`,
        () => {
          const found = logs.find(pred);
          if (found) return found;
          if (!node.alive()) throw new GiveUp(`${opts.id} exited`);
          return undefined;
        },
        timeoutMs,
        25,
      );
    },
    alive: () => proc.exitCode === null && proc.signalCode === null,
    async kill(sig = 'SIGTERM') {
      if (!node.alive()) return;
      proc.kill(sig);
      const t = setTimeout(() => node.alive() && proc.kill('SIGKILL'), 15_000);
      await node.exited;
      clearTimeout(t);
    },
  };
  // BENCH_NODE_STDOUT: a file that gets the node's stdout lines that are not log records (e.g. --trace-gc's).
  const other = process.env.BENCH_NODE_STDOUT ? createWriteStream(process.env.BENCH_NODE_STDOUT, { flags: 'a' }) : null;
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) {
      other?.write(`${opts.id} ${Date.now()} ${line}\n`);
      return;
    }
    if (line.includes('"verdict changed"')) {
      node.verdictLines++;
      return;
    }
    let l: LogLine;
    try {
      l = JSON.parse(line) as LogLine;
    } catch {
      return;
    }
    logs.push(l);
    seenAt.push(Date.now());
    if (opts.echo && (l.level === 'warn' || l.level === 'error' || l.level === 'fatal')) process.stderr.write(`  ${opts.id}: ${line.slice(0, 400)}\n`);
  });
  proc.stderr!.on('data', (d: Buffer) => {
    if (opts.echo) process.stderr.write(`  ${opts.id} stderr: ${d.toString()}`);
  });
  return node;
}

/** "NAME=value<sep>NAME=value" as an object (entries without '=' are ignored). */
export function parseSettings(text: string, sep: string): Record<string, string> {
  return Object.fromEntries(text.split(sep).filter((kv) => kv.includes('=')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

/** Settings for the production profile with the node's defaults, plus overrides. */
export function nodeEnv(overrides: Record<string, string> = {}): Record<string, string> {
  // LOOKOUT_MEMORY_MB from the bench's own environment reaches the node (e.g. 0 for V8's own sizing, to compare).
  const memory: Record<string, string> = process.env.LOOKOUT_MEMORY_MB === undefined ? {} : { LOOKOUT_MEMORY_MB: process.env.LOOKOUT_MEMORY_MB };
  // BENCH_NODE_ENV: more settings for every node, "NAME=value NAME=value" (e.g. LOOKOUT_ROLLUP_FINE_PERIOD_MS=0).
  const extra = parseSettings(process.env.BENCH_NODE_ENV ?? '', ' ');
  return { LOOKOUT_TIMING: 'production', LOOKOUT_SHUTDOWN_GRACE_MS: '1000', ...memory, ...extra, ...overrides };
}
