// One `lookout node` process of the chaos harness (dist/bin/lookout.js, built by `npm run build`):
// optionally under libfaketime with its wall clock shifted (what `faketime -f -30s` does, preloaded
// straight into the node process: the `faketime` command forks, so a signal sent to it would not
// reach the node; monotonic clock untouched), its JSON log lines parsed as they arrive into events stamped with the harness's
// monotonic clock and copied to a file, and its `lookout_duplicate_runs_total` scraped every second
// (a SIGKILLed process cannot be asked at the end: its last scrape stands for it).

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LogEvent } from './invariants';
import { fakeTimeEnv } from '../faketime';

/** The repository root: where package.json is, walking up from this file (source or dist/). */
function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The `lookout` entry point; LOOKOUT_CHAOS_CLI runs another build (e.g. an older commit's, for a before/after row). */
export const CLI = process.env.LOOKOUT_CHAOS_CLI ?? join(repoRoot(), 'dist', 'bin', 'lookout.js');


export interface NodeLife {
  id: string;
  /** Which start of this node id (1, 2, …). */
  life: number;
  proc: ChildProcess;
  /** Wall-clock offset it runs with (libfaketime), e.g. "-30s". */
  skew?: string;
  alive(): boolean;
  exited: Promise<number | string>;
  /** Last `lookout_duplicate_runs_total` scraped from it. */
  duplicateRuns: number;
  signal(sig: NodeJS.Signals): void;
  /** Stop the scraper (at the end, or once the process is gone). */
  stopScraping(): void;
}

export interface NodeStart {
  id: string;
  life: number;
  natsUrl: string;
  env: Record<string, string>;
  /** The file its output is copied to. */
  logFile: string;
  /** Where each parsed event goes. */
  onEvent: (e: LogEvent) => void;
  skew?: string;
}

export function startNodeProcess(o: NodeStart): NodeLife {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NATS_URL: o.natsUrl,
    LOOKOUT_NODE_ID: o.id,
    LOOKOUT_HTTP_PORT: '0',
    LOOKOUT_HTTP_HOST: '127.0.0.1',
    LOOKOUT_LOG_LEVEL: process.env.LOOKOUT_CHAOS_LOG_LEVEL ?? 'info', // debug: every runner decision in the node logs
    ...o.env,
    // Only the wall clock moves: timers and the monotonic clock stay true.
    ...(o.skew ? fakeTimeEnv(o.skew) : {}),
  };
  const proc = spawn(process.execPath, [CLI, 'node'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const file = createWriteStream(o.logFile, { flags: 'a' });
  let httpPort: number | undefined;
  let scraping = true;
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, sig) => resolve(code ?? sig ?? 'unknown')));
  const life: NodeLife = {
    id: o.id,
    life: o.life,
    proc,
    ...(o.skew ? { skew: o.skew } : {}),
    alive: () => proc.exitCode === null && proc.signalCode === null,
    exited,
    duplicateRuns: 0,
    signal(sig) {
      if (life.alive()) proc.kill(sig);
    },
    stopScraping() {
      scraping = false;
    },
  };
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    file.write(line + '\n');
    if (!line.startsWith('{')) return;
    let l: Record<string, unknown>;
    try {
      l = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof l.event !== 'string') return;
    if (l.event === 'http_listening' && typeof l.port === 'number') httpPort = l.port;
    o.onEvent({ ...l, node: o.id, event: l.event, t: performance.now() });
  });
  proc.stderr!.on('data', (d: Buffer) => file.write(d));
  void exited.then(() => {
    scraping = false;
    // The last lines may still be in the pipe: close the copy once stdout has ended.
    proc.stdout!.once('close', () => file.end());
  });
  const scrape = async (): Promise<void> => {
    while (scraping) {
      if (httpPort !== undefined && life.alive()) {
        try {
          const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(1000) });
          const m = /^lookout_duplicate_runs_total (\S+)$/m.exec(await res.text());
          if (m) life.duplicateRuns = Number(m[1]);
        } catch {
          // paused, stopping or gone: the last value stands
        }
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  void scrape();
  return life;
}
