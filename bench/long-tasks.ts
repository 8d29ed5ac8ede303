// The main thread's long tasks in a .cpuprofile: stretches of consecutive busy samples (not idle,
// not "(program)"), how many and how long, and what ran in the long ones — the event-loop blocks
// behind scheduling lateness, GC pauses included ("(garbage collector)").
//
//   node dist/bench/long-tasks.js FILE.cpuprofile [minMs=10] [longest=12]
//
// Best with a CPU profile alone (window-profile.ts with WINDOW_PROFILE_HEAP=none): the allocation
// sampler lengthens what it watches. A gap between samples counts as busy when both ends are: on a
// loaded host the profiler thread waits for a core too, so a task's length is an upper bound.

import { readFileSync } from 'node:fs';
import { label, type Profile } from './lib/cpuprofile';

interface Task {
  start: number;
  end: number;
  /** Samples by function (self), and by the task's root frame ("ROOT …"). */
  self: Map<string, number>;
}

const [file, minArg, longestArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node dist/bench/long-tasks.js FILE.cpuprofile [minMs] [longest]\n');
  process.exit(2);
}
const minMs = Number(minArg ?? 10);
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const idle = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)' || n.callFrame.functionName === '(program)').map((n) => n.id));

/** The frame under the profile's root that `id` runs in (the task's entry: a timer, an I/O callback, GC). */
function rootOf(id: number): number {
  let at = id;
  for (let up = parent.get(at); up !== undefined && parent.has(up); up = parent.get(at)) at = up;
  return at;
}

const tasks: Task[] = [];
let t = p.startTime;
let cur: Task | null = null;
for (let i = 0; i < p.samples.length; i++) {
  t += p.timeDeltas[i]!;
  const s = p.samples[i]!;
  if (idle.has(s)) {
    if (cur) tasks.push(cur);
    cur = null;
    continue;
  }
  cur ??= { start: t, end: t, self: new Map() };
  cur.end = t;
  for (const k of [label(byId.get(s)!), 'ROOT ' + label(byId.get(rootOf(s))!)]) cur.self.set(k, (cur.self.get(k) ?? 0) + 1);
}
if (cur) tasks.push(cur);

const ms = (x: Task): number => (x.end - x.start) / 1000;
const lens = tasks.map(ms).sort((a, b) => a - b);
const at = (q: number): number => lens[Math.min(lens.length - 1, Math.floor(lens.length * q))] ?? 0;
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const out = {
  file,
  windowMs: Math.round((p.endTime - p.startTime) / 1000),
  tasks: tasks.length,
  busyMs: Math.round(sum(lens)),
  taskMs: { p50: +at(0.5).toFixed(2), p99: +at(0.99).toFixed(2), max: +(lens.at(-1) ?? 0).toFixed(1) },
  atLeast: [5, 10, 20, 50].map((b) => ({ ms: b, tasks: lens.filter((x) => x >= b).length, totalMs: Math.round(sum(lens.filter((x) => x >= b))) })),
};
const agg = new Map<string, number>();
for (const x of tasks) if (ms(x) >= minMs) for (const [k, v] of x.self) agg.set(k, (agg.get(k) ?? 0) + v);
const rows = (roots: boolean): [string, number][] => [...agg.entries()].filter(([k]) => k.startsWith('ROOT ') === roots).sort((a, b) => b[1] - a[1]);
const total = sum(rows(false).map(([, v]) => v)) || 1;
process.stderr.write(`${out.tasks} tasks in ${out.windowMs} ms, busy ${out.busyMs} ms; task p50 ${out.taskMs.p50} p99 ${out.taskMs.p99} max ${out.taskMs.max} ms\n`);
for (const a of out.atLeast) process.stderr.write(`  >= ${a.ms} ms: ${a.tasks} tasks, ${a.totalMs} ms\n`);
process.stderr.write(`in tasks >= ${minMs} ms, by function (self):\n`);
for (const [k, v] of rows(false).slice(0, 20)) process.stderr.write(`${((100 * v) / total).toFixed(1).padStart(6)}% ${k}\n`);
process.stderr.write('by entry:\n');
for (const [k, v] of rows(true).slice(0, 10)) process.stderr.write(`${((100 * v) / total).toFixed(1).padStart(6)}% ${k.slice(5)}\n`);
process.stderr.write('longest:\n');
for (const x of [...tasks].sort((a, b) => ms(b) - ms(a)).slice(0, Number(longestArg ?? 12))) {
  const top = [...x.self.entries()].filter(([k]) => !k.startsWith('ROOT ')).sort((a, b) => b[1] - a[1]).slice(0, 4);
  process.stderr.write(`  ${ms(x).toFixed(1)} ms at ${((x.start - p.startTime) / 1e6).toFixed(2)} s: ${top.map(([k, v]) => `${k.replace(/ \S+$/, '')} ${v}`).join(' | ')}\n`);
}
process.stdout.write(JSON.stringify(out) + '\n');
