// wrk (apt-get install -y wrk) as the load driver of blackbox_exporter: `wrk -t1 -c<n> -d<s>s
// <url>`, closed loop (wrk cannot pace; wrk2, which can, is not packaged in Debian). A Lua script
// counts the answers whose body says `probe_success 1` and prints one parseable line at the end.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function wrkBinary(): string {
  for (const c of ['/usr/bin/wrk', '/usr/local/bin/wrk']) if (existsSync(c)) return c;
  throw new Error('wrk not found: apt-get install -y wrk');
}

/** Counts probe_success per thread; done() sums the threads and prints a WRKRESULT line. */
export const WRK_SCRIPT = `local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; bad = 0 end
function response(status, headers, body)
  if status == 200 and string.find(body, "probe_success 1", 1, true) then ok = ok + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local ok, bad = 0, 0
  for _, t in ipairs(threads) do ok = ok + t:get("ok"); bad = bad + t:get("bad") end
  local e = summary.errors
  io.write(string.format("WRKRESULT %d %d %d %d %d\\n", summary.requests, ok, bad, summary.duration, e.connect + e.read + e.write + e.timeout))
end
`;

export interface WrkResult {
  /** Completed requests. */
  requests: number;
  /** Answers with `probe_success 1`. */
  ok: number;
  bad: number;
  /** wrk's own measured duration, ms. */
  durationMs: number;
  /** Socket errors (connect, read, write, timeout). */
  errors: number;
}

/** The WRKRESULT line of wrk's output, or null. */
export function parseWrk(out: string): WrkResult | null {
  const m = /^WRKRESULT (\d+) (\d+) (\d+) (\d+) (\d+)$/m.exec(out);
  if (!m) return null;
  return { requests: Number(m[1]), ok: Number(m[2]), bad: Number(m[3]), durationMs: Number(m[4]) / 1000, errors: Number(m[5]) };
}

/** Start wrk for `seconds` with `connections` connections on one thread; `done` resolves when it exits. */
export function startWrk(url: string, connections: number, seconds: number): { pid: number; done: Promise<WrkResult> } {
  const dir = mkdtempSync(join(tmpdir(), 'lookout-bench-wrk-'));
  const script = join(dir, 'count.lua');
  writeFileSync(script, WRK_SCRIPT);
  const proc = spawn(wrkBinary(), ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '-s', script, url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<WrkResult>((resolve, reject) =>
    proc.once('exit', (code) => {
      rmSync(dir, { recursive: true, force: true });
      const res = parseWrk(out);
      if (code !== 0 || !res) reject(new Error(`wrk exited ${code}: ${out.slice(-500)}`));
      else resolve(res);
    }),
  );
  return { pid: proc.pid!, done };
}
