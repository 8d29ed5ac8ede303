// Print where a process spent its CPU, from a .cpuprofile written by `node --cpu-prof`:
//   node dist/bench/profile-summary.js FILE.cpuprofile [top=25] [fromSec] [toSec]
// The last line is the JSON summary (top functions by self time, with inclusive time).

import { summarizeProfile } from './lib/cpuprofile';

const [file, top, from, to] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node dist/bench/profile-summary.js FILE.cpuprofile [top] [fromSec] [toSec]\n');
  process.exit(2);
}
const s = summarizeProfile(file, Number(top ?? 25), from ? Number(from) * 1e6 : 0, to ? Number(to) * 1e6 : Infinity);
for (const f of s.functions) process.stderr.write(`${String(f.selfPct).padStart(5)}% self ${String(f.totalPct).padStart(5)}% total  ${f.fn}\n`);
process.stdout.write(JSON.stringify({ file, ...s }) + '\n');
