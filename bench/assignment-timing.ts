// Benchmark 9 — the cost of computing a shard map (protocol/assignment.ts assignShards, a pure
// function the leader runs on every membership change), in process: S = 4096 shards, n = 100
// members, 3 replicas — a fresh map, a join (101 members) and a leave (99) from it — and the
// same at S = 512 for the scaling ratio the unit test checks side by side. Each case runs
// BENCH_ROUNDS times after a warm-up; the figure is its median and max.
// Goal (the bound the unit test used to assert): fresh, join and leave each under 100 ms at
// S = 4096.
//
//   npm run build && npm run bench:assign
//   knobs: BENCH_ROUNDS (20)

import { assignShards } from '../protocol/assignment';
import type { ShardMap } from '../protocol/records';
import { dist, median } from './lib/stats';
import { envInt, runBench } from './lib/util';

const ROUNDS = envInt('BENCH_ROUNDS', 20);
const members = Array.from({ length: 100 }, (_, i) => `node-${i}`);
const joined = [...members, 'node-new'];
const left = members.slice(1);

function time(f: () => ShardMap): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

function measure(S: number): { fresh: number[]; join: number[]; leave: number[] } {
  const prev = assignShards(members, null, S, 3);
  const out = { fresh: [] as number[], join: [] as number[], leave: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    out.fresh.push(time(() => assignShards(members, null, S, 3)));
    out.join.push(time(() => assignShards(joined, prev, S, 3)));
    out.leave.push(time(() => assignShards(left, prev, S, 3)));
  }
  return out;
}

runBench('assignment-timing', async () => {
  measure(512); // warm up the JIT
  measure(4096);
  const small = measure(512);
  const large = measure(4096);
  const d = (xs: number[]) => dist(xs, 2);
  const sum = (m: typeof small) => m.fresh.map((x, i) => x + m.join[i]! + m.leave[i]!);
  const worst = Math.max(...large.fresh, ...large.join, ...large.leave);
  return {
    rounds: ROUNDS,
    members: 100,
    replicas: 3,
    s4096: { freshMs: d(large.fresh), joinMs: d(large.join), leaveMs: d(large.leave) },
    s512: { freshMs: d(small.fresh), joinMs: d(small.join), leaveMs: d(small.leave) },
    ratio4096to512: Math.round((median(sum(large)) / median(sum(small))) * 10) / 10,
    goals: { eachMs: 100 },
    met: { each: worst < 100 },
  };
});
