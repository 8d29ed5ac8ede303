// Small helpers shared by the benchmarks: waiting with a deadline, sleeping, free ports, the
// one-line JSON summary every benchmark prints last.

import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Thrown by a waitFor probe to stop waiting at once (e.g. the process being waited on died). */
export class GiveUp extends Error {}

/**
 * Call `probe` until it returns something other than false/undefined/null (or, with `until`,
 * something `until` accepts), or throw after `timeoutMs` naming what was awaited and what the
 * probe last did: "last returned <short JSON>" or "last threw: <message>".
 */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 30_000, intervalMs = 50, until?: (v: T) => unknown): Promise<NonNullable<Exclude<T, false>>> {
  const deadline = performance.now() + timeoutMs;
  let last = 'never evaluated';
  for (;;) {
    try {
      const v = await probe();
      if (until ? until(v) : v !== false && v !== undefined && v !== null) return v as NonNullable<Exclude<T, false>>;
      last = `returned ${brief(v)}`;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      last = err instanceof Error ? `threw: ${err.message}` : `threw ${brief(err)}`;
    }
    if (performance.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last ${String(last)}`);
    await sleep(intervalMs);
  }
}

/** A short JSON rendering of a value for an error message (at most `max` characters). */
export function brief(v: unknown, max = 400): string {
  let text: string;
  try {
    text = v === undefined ? 'undefined' : typeof v === 'function' ? `[function ${v.name || 'anonymous'}]` : (JSON.stringify(v) ?? String(v));
  } catch {
    text = String(v); // circular or a BigInt
  }
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

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

/** The code measured: HEAD and whether actors/, checks/ or runtime/ had uncommitted changes. */
export function codeVersion(): string {
  try {
    const cwd = `${__dirname}/../../..`;
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'actors', 'checks', 'runtime'], { cwd }).toString().trim() !== '';
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
