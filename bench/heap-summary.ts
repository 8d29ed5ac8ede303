// What a heap snapshot holds, by kind of object: self size and count per (type, constructor or
// name), largest first; strings by length class. Reads the file bench/lib/heap-snapshot.ts wrote
// (or any .heapsnapshot):
//
//   node dist/bench/heap-summary.js /tmp/hs/<pid>.heapsnapshot [rows=40] [per=100000]
//
// `per` divides each size (bytes per check at 100k checks by default).
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] }; node_count: number };
  nodes: number[];
  strings: string[];
}

function main(): void {
  const [file, rowsArg, perArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: heap-summary.js FILE.heapsnapshot [rows] [per]');
  const rows = Number(rowsArg ?? 40);
  const per = Number(perArg ?? 100_000);
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const at = (f: string) => fields.indexOf(f);
  const [iType, iName, iSize] = [at('type'), at('name'), at('self_size')];
  const groups = new Map<string, { n: number; bytes: number }>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]!]!;
    const size = snap.nodes[i + iSize]!;
    let name = snap.strings[snap.nodes[i + iName]!]!;
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = `len ${name.length <= 16 ? '≤16' : name.length <= 64 ? '≤64' : '>64'}`;
    else if (type === 'number') name = '';
    else if (name.length > 60) name = `${name.slice(0, 57)}...`;
    const key = `${type} ${name}`;
    const g = groups.get(key) ?? { n: 0, bytes: 0 };
    g.n++;
    g.bytes += size;
    groups.set(key, g);
    total += size;
  }
  const top = [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, rows);
  const mb = (b: number) => (b / 1024 / 1024).toFixed(2);
  process.stdout.write(`total ${mb(total)} MiB in ${snap.snapshot.node_count} objects; ${(total / per).toFixed(0)} B per ${per}\n`);
  process.stdout.write('MiB      count     B/obj  B/per  type name\n');
  for (const [key, g] of top) {
    process.stdout.write(`${mb(g.bytes).padStart(7)} ${String(g.n).padStart(9)} ${(g.bytes / g.n).toFixed(0).padStart(7)} ${(g.bytes / per).toFixed(1).padStart(6)}  ${key}\n`);
  }
}

main();
