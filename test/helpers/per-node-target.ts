// The per-node HTTP target lives in testkit/ (the benchmarks use it too: bench/false-downs.ts).
export { perNodeTarget, type PerNodeTarget } from '../../testkit/per-node-target';
