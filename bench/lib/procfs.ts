// CPU time and memory of a process from /proc (Linux): utime + stime of /proc/<pid>/stat, in
// clock ticks (USER_HZ, 100 on Linux), and VmRSS / VmHWM from /proc/<pid>/status.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | null = null;

function hz(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of `pid` in milliseconds (the process only, not its children). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return ((utime + stime) * 1000) / hz();
}

/** Resident set size and its peak, in MiB. */
export function memMiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(/^\s*(\d+)/.exec(status.split(`${name}:`)[1] ?? '')?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** Direct children of `pid` (e.g. nginx workers under the master). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** `pid` and all its descendants (children of every thread, recursively). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${out[i]}/task`);
    } catch {
      continue; // exited
    }
    for (const t of tasks) {
      try {
        for (const c of readFileSync(`/proc/${out[i]}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) out.push(Number(c));
      } catch {
        // thread exited
      }
    }
  }
  return out;
}

/**
 * CPU of a process tree, ms: utime + stime of `pid` (all its threads: /proc/<pid>/stat sums them)
 * and of every live descendant. Descendants that exit during a window are not counted (the
 * probers measured here do not fork per probe).
 */
export function treeCpuMs(pid: number): number {
  let ms = 0;
  for (const p of processTree(pid)) {
    try {
      ms += cpuMs(p);
    } catch {
      // exited between listing and reading
    }
  }
  return ms;
}

/** Sum of cpuMs over several pids. */
export function cpuMsOf(pids: readonly number[]): number {
  return pids.reduce((a, p) => a + cpuMs(p), 0);
}

/** Whole-machine CPU: busy and total jiffies from /proc/stat, to show how loaded the host was. */
export function hostCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  const total = line.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/**
 * How busy the host was during a measurement, and how much of that was not ours: the machine is
 * shared (other jobs run tests on it), so every benchmark reports the foreign CPU it competed with.
 * Percentages are of one core (200% = both cores of a 2-core host busy).
 */
export class LoadMeter {
  private host0 = hostCpu();
  private ours0: number;
  private t0 = performance.now();

  constructor(private readonly pids: () => readonly number[]) {
    this.ours0 = this.ours();
  }

  private ours(): number {
    let ms = 0;
    for (const p of this.pids()) {
      try {
        ms += cpuMs(p);
      } catch {
        // exited
      }
    }
    return ms;
  }

  /** Host busy %, our processes' %, and the rest (foreign) %, since construction. */
  read(): { hostPct: number; oursPct: number; foreignPct: number } {
    const host1 = hostCpu();
    const wall = performance.now() - this.t0;
    const hostMs = ((host1.busy - this.host0.busy) * 1000) / hz();
    const oursMs = this.ours() - this.ours0;
    const r = (x: number) => Math.round((100 * x) / Math.max(1, wall));
    return { hostPct: r(hostMs), oursPct: r(oursMs), foreignPct: Math.max(0, r(hostMs - oursMs)) };
  }
}
