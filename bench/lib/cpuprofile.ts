// Summarise a V8 .cpuprofile (from `node --cpu-prof`): self time and inclusive ("total") time per
// function, optionally within a time window, so a benchmark can say where a process spent its CPU.

import { readFileSync } from 'node:fs';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

export interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FnTime {
  fn: string;
  selfMs: number;
  selfPct: number;
  totalMs: number;
  totalPct: number;
}

export function label(n: ProfileNode): string {
  const f = n.callFrame;
  const file = f.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'nm:').replace(/^.*\/dist\//, '');
  return `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
}

/**
 * Top functions by self time (and their inclusive time). `fromUs`/`toUs` restrict the samples to a
 * window in microseconds since the profile start. Idle and (program)/(garbage collector) are kept
 * as their own entries so their share is visible.
 */
export function summarizeProfile(path: string, top = 25, fromUs = 0, toUs = Infinity): { sampledMs: number; busyMs: number; gcMs: number; functions: FnTime[] } {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let t = 0;
  let sampled = 0;
  let idle = 0;
  let gc = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (t < fromUs || t > toUs) continue;
    const id = p.samples[i]!;
    const node = byId.get(id)!;
    sampled += dt;
    const name = label(node);
    if (node.callFrame.functionName === '(idle)') idle += dt;
    if (node.callFrame.functionName === '(garbage collector)') gc += dt;
    self.set(name, (self.get(name) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!);
      if (seen.has(l)) continue;
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + dt);
    }
  }
  const busy = sampled - idle;
  const functions = [...self.entries()]
    .filter(([fn]) => !fn.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, us]) => ({
      fn,
      selfMs: Math.round(us / 100) / 10,
      selfPct: Math.round((1000 * us) / Math.max(1, busy)) / 10,
      totalMs: Math.round((total.get(fn) ?? 0) / 100) / 10,
      totalPct: Math.round((1000 * (total.get(fn) ?? 0)) / Math.max(1, busy)) / 10,
    }));
  return { sampledMs: Math.round(sampled / 1000), busyMs: Math.round(busy / 1000), gcMs: Math.round(gc / 1000), functions };
}

/** Inclusive time of the functions whose label matches `pattern` (e.g. /probeHttp|undici/). */
export function inclusiveMatching(path: string, pattern: RegExp): number {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  let us = 0;
  for (let i = 0; i < p.samples.length; i++) {
    for (let cur: number | undefined = p.samples[i]!; cur !== undefined; cur = parent.get(cur)) {
      if (pattern.test(label(byId.get(cur)!))) {
        us += p.timeDeltas[i] ?? 0;
        break;
      }
    }
  }
  return Math.round(us / 1000);
}
