// Benchmark: what the rollup counts cost per check on a node (README "State and history", What it
// costs a node). BENCH_CHECKS checks observed once each by a RollupRecorder in three set-ups — the
// hourly grain only; both grains with every check at 60 s (the fine grain holds none); both grains
// with every check at 10 s — each kept alive beside the others; heap plus array buffers after two
// full collections, per check. Pure CPU and memory in this process.
//
//   npm run build && npm run bench:rollup-memory
//   knobs: BENCH_CHECKS (100000)

import pino from 'pino';
import type { ResultMessage } from '../protocol/records';
import { ManualClock } from '../runtime/clock';
import { rollupGrains, RollupRecorder } from '../runtime/rollup-recorder';
import { subjects } from '../runtime/subjects';
import { codeVersion, envInt, note, round, runBench } from './lib/util';

const N = envInt('BENCH_CHECKS', 100_000);
const HOUR = 3_600_000;
const MINUTE = 60_000;

function usedBytes(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (npm run bench:rollup-memory does)');
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

runBench('rollup-memory', async () => {
  const ids = Array.from({ length: N }, (_, i) => `check-${i}`);
  const keep: RollupRecorder[] = [];
  const rows: Record<string, unknown>[] = [];
  for (const [setup, finePeriodMs, intervalMs] of [
    ['hourly grain only', 0, MINUTE],
    ['both grains, checks at 60 s', MINUTE, MINUTE],
    ['both grains, checks at 10 s', MINUTE, 10_000],
  ] as const) {
    const before = usedBytes();
    const r = new RollupRecorder({ bus: { publish() {} }, clock: new ManualClock(1e12), nodeId: 'n', grains: rollupGrains(subjects(), HOUR, finePeriodMs), log: pino({ level: 'silent' }) });
    for (const checkId of ids) r.observe({ checkId, ok: true, latencyMs: 3, intervalMs, vantage: 0, reason: null } as unknown as ResultMessage);
    keep.push(r);
    const row = { setup, held: r.held(), bytesPerCheck: round((usedBytes() - before) / N) };
    note(row);
    rows.push(row);
  }
  return { code: codeVersion(), checks: N, rows };
});
