// Where a process allocated, from a sampling allocation profile (.heapprofile; bench/lib/window-profile.ts
// writes one with collected objects included):
//   node dist/bench/alloc-summary.js FILE.heapprofile [top=25]
// Bytes by function (self), then by its three callers; the last line is the JSON summary.
import { readFileSync } from 'node:fs';

interface Frame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface AllocNode {
  callFrame: Frame;
  selfSize: number;
  children: AllocNode[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node dist/bench/alloc-summary.js FILE.heapprofile [top]\n');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const head = (JSON.parse(readFileSync(file, 'utf8')) as { head: AllocNode }).head;
const name = (f: Frame) => `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
const bySelf = new Map<string, number>();
const byStack = new Map<string, number>();
let total = 0;
const add = (m: Map<string, number>, k: string, n: number) => m.set(k, (m.get(k) ?? 0) + n);
(function walk(n: AllocNode, callers: string[]): void {
  const here = [name(n.callFrame), ...callers];
  if (n.selfSize > 0) {
    total += n.selfSize;
    add(bySelf, here[0]!, n.selfSize);
    add(byStack, here.slice(0, 4).join(' < '), n.selfSize);
  }
  for (const c of n.children) walk(c, here);
})(head, []);
const rows = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([at, bytes]) => ({ at, pct: Math.round((1000 * bytes) / total) / 10, mb: Math.round(bytes / 1e5) / 10 }));
const functions = rows(bySelf);
const stacks = rows(byStack);
process.stderr.write(`allocated ${(total / 1e6).toFixed(1)} MB (sampled)\n`);
for (const f of functions) process.stderr.write(`${String(f.pct).padStart(5)}% ${f.at}\n`);
process.stderr.write('--- with three callers\n');
for (const f of stacks) process.stderr.write(`${String(f.pct).padStart(5)}% ${f.at}\n`);
process.stdout.write(JSON.stringify({ file, allocatedMb: Math.round(total / 1e5) / 10, functions, stacks }) + '\n');
