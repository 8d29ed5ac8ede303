// A preload for a Lookout process under a benchmark: one heap snapshot (what is live, after the
// full collection V8 does to take it) and the process's memory as the kernel counts it
// (/proc/self/smaps_rollup: anonymous vs file-backed resident pages), at one moment of its life.
//
//   BENCH_NODE_ARGS="-r ./dist/bench/lib/heap-snapshot.js" \
//   BENCH_NODE_ENV="HEAP_SNAPSHOT_AT_MS=60000 HEAP_SNAPSHOT_DIR=/tmp/hs" npm run bench:scale
//   node dist/bench/heap-summary.js /tmp/hs/<pid>.heapsnapshot
//
// Settings (environment of the process): HEAP_SNAPSHOT_AT_MS (60000) after it started, into
// HEAP_SNAPSHOT_DIR (/tmp/heap-snapshot). The snapshot stalls the process for seconds: take it
// after what is measured, or read the run's figures as disturbed.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';

const atMs = Number(process.env.HEAP_SNAPSHOT_AT_MS ?? 60_000);
const dir = process.env.HEAP_SNAPSHOT_DIR ?? '/tmp/heap-snapshot';

function take(): void {
  mkdirSync(dir, { recursive: true });
  const before = { memory: process.memoryUsage(), smaps: readFileSync('/proc/self/smaps_rollup', 'utf8') };
  const file = writeHeapSnapshot(`${dir}/${process.pid}.heapsnapshot`);
  writeFileSync(`${dir}/${process.pid}.memory.json`, JSON.stringify(before, null, 1));
  process.stderr.write(`heap-snapshot: wrote ${file}\n`);
}

setTimeout(() => {
  try {
    take();
  } catch (err) {
    process.stderr.write(`heap-snapshot: ${String(err)}\n`);
  }
}, atMs).unref();
