// Small helpers of the benchmarks: progress notes, the one-line JSON summary every benchmark
// prints last, knobs from the environment, the code measured; and, from testkit/ (shared with the
// tests), waiting with a deadline, sleeping and free ports.

import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';

// Shared with the tests: one definition, in testkit/.
export { brief, GiveUp, sleep, waitFor } from '../../testkit/wait';
export { freePort } from '../../testkit/free-port';

/** Progress goes to stderr so stdout ends with exactly one JSON line. */
export function note(...parts: unknown[]): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 23)}] ${parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ')}\n`);
}

/** The one-line JSON summary (last line of stdout). */
export function summary(obj: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

/** Integer from the environment (benchmark knobs), or the default. */
export function envInt(name: string, def: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name}: expected a number, got ${JSON.stringify(raw)}`);
  return n;
}

export const round = (x: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** The code measured: HEAD and whether the node's code (checks/, protocol/, runtime/, actors/, app/, bin/) had uncommitted changes. */
export function codeVersion(): string {
  try {
    const cwd = `${__dirname}/../../..`;
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'checks', 'protocol', 'runtime', 'actors', 'app', 'bin'], { cwd }).toString().trim() !== '';
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

/** Run `main`, print its summary, exit 0; on error print the message and exit 1. Cleanups always run. */
export function runBench(name: string, main: (cleanup: (fn: () => unknown) => void) => Promise<Record<string, unknown>>): void {
  const cleanups: (() => unknown)[] = [];
  const cleanup = (fn: () => unknown) => void cleanups.push(fn);
  const runCleanups = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        note('cleanup failed:', String(err));
      }
    }
  };
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    note(`${name}: interrupted, cleaning up`);
    void runCleanups().then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  main(cleanup).then(
    async (result) => {
      await runCleanups();
      summary({ bench: name, ...result, loadavg1m: Math.round(loadavg()[0]! * 100) / 100, code: codeVersion(), at: new Date().toISOString() });
      process.exit(0);
    },
    async (err: unknown) => {
      note(`${name} failed:`, (err as Error)?.stack ?? String(err));
      await runCleanups();
      process.exit(1);
    },
  );
}
