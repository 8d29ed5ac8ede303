// Run the real `lookout` entry point (dist/bin/lookout.js, built by `npm run build`) as a child
// process, capture its JSON logs, and stop it with a signal.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fakeTimeEnv } from '../../testkit/faketime';

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
  /**
   * Run with the wall clock shifted by this offset (e.g. '-30s'; testkit/faketime.ts): the
   * monotonic clock is left alone.
   */
  faketime?: string;
  /** Run inside this network namespace (testkit/netns.ts: its `exec` argv prefix). */
  netns?: string[];
}

export function runLookout(args: string[], env: Record<string, string>, opts: SpawnOptions = {}): LookoutProcess {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  const fake = opts.faketime === undefined ? {} : fakeTimeEnv(opts.faketime);
  const [cmd, ...argv] = [...(opts.netns ?? []), process.execPath, CLI, ...args];
  const proc = spawn(cmd!, argv, { env: { PATH: process.env.PATH ?? '', ...fake, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
