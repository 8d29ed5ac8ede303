// Run the real `lookout` entry point (dist/bin/lookout.js, built by `npm run build`) as a child
// process, capture its JSON logs, and stop it with a signal.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const CLI = join(__dirname, '..', '..', 'dist', 'bin', 'lookout.js');

export interface LookoutProcess {
  proc: ChildProcess;
  /** stdout + stderr so far. */
  output(): string;
  /** Parsed JSON log lines so far. */
  logs(): any[];
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  signal(sig: NodeJS.Signals): void;
}

export interface SpawnOptions {
  /** A command prefix the node runs under, e.g. fakeTime('-30s'): `[...wrap, node, lookout.js, ...args]`. */
  wrap?: readonly string[];
}

/** libfaketime, the library Debian's `faketime` command preloads (package faketime, .ci/run installs it). */
export const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

/**
 * A wrap that shifts the process's wall clock by `offset` (libfaketime syntax: '-30s', '+2m'),
 * leaving its monotonic clock alone, as a skewed NTP clock would. What `faketime -f OFFSET` does,
 * but through `env`, which execs: the spawned pid is the node itself, so SIGKILL and SIGSTOP reach
 * it (the `faketime` command forks and would be the one signalled).
 */
export function fakeTime(offset: string): string[] {
  if (!existsSync(LIBFAKETIME)) throw new Error(`${LIBFAKETIME} is missing: install Debian's "faketime" (.ci/run does)`);
  return ['/usr/bin/env', `LD_PRELOAD=${LIBFAKETIME}`, `FAKETIME=${offset}`, 'FAKETIME_DONT_FAKE_MONOTONIC=1'];
}

export function runLookout(args: string[], env: Record<string, string>, opts: SpawnOptions = {}): LookoutProcess {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  const [cmd, ...argv] = [...(opts.wrap ?? []), process.execPath, CLI, ...args];
  const proc = spawn(cmd!, argv, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, sig) => resolve(code ?? sig ?? 'unknown')));
  return {
    proc,
    output: () => out,
    logs: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => {
          try {
            return JSON.parse(l);
          } catch {
            return null;
          }
        })
        .filter(Boolean),
    exited,
    signal: (sig) => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
    },
  };
}
