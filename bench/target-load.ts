// Benchmark 5 — target load: how many probes each check's target receives per interval with 1, 3
// and 5 nodes, against the naive "every node checks everything" figure (N per interval).
//
// For each N: a fresh nats-server, N `lookout node` processes (production timing profile, default
// jitter), C HTTP checks against one in-process counting target (path /c/<id>), loaded straight
// into the spec bucket. Once the cluster has settled (one leader, N alive members everywhere, one
// assignment epoch, sum of lookout_checks_owned = C) and one more interval has passed, every hit
// is attributed to the check's slot it belongs to (the latest slot ≤ arrival: a probe starts at
// slot + jitter ≤ 1% of the interval) and hits are counted per (check, slot) over W whole
// intervals. Ideal: exactly 1 per (check, slot).
//
//   npm run build && npm run bench:load
//   knobs: BENCH_CHECKS (600), BENCH_INTERVAL_MS (2000), BENCH_WINDOWS (5 intervals), BENCH_NODES ("1,3,5")

import { phaseOf } from '../protocol/hash';
import { slotAtOrAfter } from '../protocol/slots';
import { startNodes, waitSettled } from './lib/cluster';
import { httpCheckSpecs, putSpecs } from './lib/specs';
import { envInt, note, round, runBench, sleep } from './lib/util';
import { startWorld } from './lib/world';

const CHECKS = envInt('BENCH_CHECKS', 600);
const INTERVAL = envInt('BENCH_INTERVAL_MS', 2000);
const WINDOWS = envInt('BENCH_WINDOWS', 5);
const NODE_COUNTS = (process.env.BENCH_NODES ?? '1,3,5').split(',').map(Number);

interface Row {
  nodes: number;
  checks: number;
  intervals: number;
  hits: number;
  expected: number;
  perCheckPerInterval: number;
  naivePerCheckPerInterval: number;
  slotsMissed: number;
  slotsDoubled: number;
  settleMs: number;
}

async function measure(n: number, cleanup: (fn: () => unknown) => void): Promise<Row> {
  const { nats, target, nc } = await startWorld(cleanup);
  const specs = httpCheckSpecs(target.port, CHECKS, INTERVAL);
  await putSpecs(nc, specs);
  const t0 = Date.now();
  const nodes = startNodes(n, nats.url);
  cleanup(() => Promise.all(nodes.map((x) => x.kill('SIGKILL'))));
  const state = await waitSettled(nodes, CHECKS, 60_000);
  const settleMs = Date.now() - t0;
  note(`N=${n}: settled in ${settleMs} ms`, state);
  // Let the handovers complete and every check run once under the final map.
  await sleep(INTERVAL + 1000);
  const from = Math.ceil(Date.now() / INTERVAL) * INTERVAL + INTERVAL;
  const to = from + WINDOWS * INTERVAL;
  await sleep(to - Date.now() + INTERVAL); // late arrivals of the last slots, and a margin
  let hits = 0;
  let missed = 0;
  let doubled = 0;
  for (const id of specs.keys()) {
    const phase = phaseOf(id, INTERVAL);
    const perSlot = new Map<number, number>();
    for (const t of target.hits.get(`/c/${id}`) ?? []) {
      // Latest slot ≤ t: the slot at or after (t − interval + 1).
      const slot = slotAtOrAfter(t - INTERVAL + 1, phase, INTERVAL);
      if (slot < from || slot >= to) continue;
      perSlot.set(slot, (perSlot.get(slot) ?? 0) + 1);
      hits++;
    }
    for (let s = slotAtOrAfter(from, phase, INTERVAL); s < to; s += INTERVAL) {
      const c = perSlot.get(s) ?? 0;
      if (c === 0) missed++;
      if (c > 1) doubled++;
    }
  }
  const expected = CHECKS * WINDOWS;
  const row: Row = {
    nodes: n,
    checks: CHECKS,
    intervals: WINDOWS,
    hits,
    expected,
    perCheckPerInterval: round(hits / expected, 4),
    naivePerCheckPerInterval: n,
    slotsMissed: missed,
    slotsDoubled: doubled,
    settleMs,
  };
  note(`N=${n}:`, row);
  return row;
}

runBench('target-load', async (cleanup) => {
  const rows: Row[] = [];
  for (const n of NODE_COUNTS) {
    const local: (() => unknown)[] = [];
    try {
      rows.push(await measure(n, (fn) => local.push(fn)));
    } finally {
      for (const fn of local.reverse()) await fn();
    }
  }
  void cleanup;
  const worst = Math.max(...rows.map((r) => Math.abs(r.perCheckPerInterval - 1)));
  return {
    intervalMs: INTERVAL,
    checks: CHECKS,
    results: rows.map((r) => ({ nodes: r.nodes, perCheckPerInterval: r.perCheckPerInterval, naive: r.naivePerCheckPerInterval, hits: r.hits, expected: r.expected, missed: r.slotsMissed, doubled: r.slotsDoubled, settleMs: r.settleMs })),
    worstDeviationPct: round(worst * 100, 3),
    goal: '1.00 ± 1%',
  };
});
