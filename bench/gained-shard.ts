// Benchmark: what loading ONE gained shard's specs costs on a large bucket, and what it does to the
// loading connection (BENCHMARKS.md §16, 2026-12-08: at 1M specs the survivors of a kill loaded
// their gained shards with one filtered deliver-last-per-subject consumer each; nats-server 2.9.10
// took 2.1–2.7 s per creation, the nodes' links went stale and live members were declared dead).
//
// BENCH_SPECS specs under sharded keys among 256 shards (bench/lib/spec-bucket.ts, history 5), then
// BENCH_ROUNDS rounds, each loading one fresh shard per way, the order alternating:
//   - `lastPerSubject`: kv.watch({key: '<shard>.*'}) — deliver last per subject (what a shard
//     loaded on a watch of its own does today, runtime/shard-spec-watch.ts);
//   - `fromStart`: kv.watch({key, resumeFromRevision: 1}) — every message of the shard from the
//     stream's first sequence (deliver by start sequence: no last-per-subject set to build when the
//     consumer is created; with history 5 a key may come more than once, the last one wins).
// Per load: `createMs` (watch() resolved), `loadedMs` (the entry with delta 0), entries seen, and
// the worst round trip of a PING on the SAME connection while it loaded (`maxPingMs`: what a
// node's heartbeats and link watch saw when it loaded on its own link) and, at the same time, on
// ANOTHER connection of the same process (`otherPingMs`: what they see now that loads go out on
// the node's bulk link, runtime/bulk-link.ts), plus the server's CPU over the load.
//
//   npm run build && node dist/bench/gained-shard.js
//   knobs: BENCH_SPECS (200000), BENCH_ROUNDS (4)

import { performance } from 'node:perf_hooks';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { shardKeyFilter } from '../protocol/spec-key';
import { cpuMs } from './lib/procfs';
import { specBucket } from './lib/spec-bucket';
import { dist } from './lib/stats';
import { codeVersion, envInt, note, round, runBench } from './lib/util';

const SPECS = envInt('BENCH_SPECS', 200_000);
const ROUNDS = envInt('BENCH_ROUNDS', 4);
const SHARDS = 256;
const BUCKET = 'bench_specs';
const WAYS = ['lastPerSubject', 'fromStart'] as const;
type Way = (typeof WAYS)[number];

runBench('gained-shard', async (cleanup) => {
  const { nats, writeS } = await specBucket(cleanup, BUCKET, SPECS, SHARDS);
  note({ stored: SPECS, writeS });
  // The loading connection: a fresh one, as a node's (not the one that wrote the specs).
  const nc = await connect({ servers: nats.url });
  cleanup(() => nc.close());
  const kv = await new Kvm(nc).open(BUCKET);
  // The node's own link beside it (its heartbeats, when the loads are on the bulk link).
  const other = await connect({ servers: nats.url });
  cleanup(() => other.close());

  const loadOne = async (way: Way, shard: number) => {
    let pinging = true;
    /** The worst PING round trip on `c` until the load is done. */
    const worstPing = async (c: typeof nc) => {
      let worst = 0;
      while (pinging) {
        const t = performance.now();
        await c.flush();
        worst = Math.max(worst, performance.now() - t);
        await new Promise((r) => setTimeout(r, 20));
      }
      return worst;
    };
    const pings = Promise.all([worstPing(nc), worstPing(other)]);
    const cpu0 = cpuMs(nats.pid);
    const t0 = performance.now();
    const key = shardKeyFilter(shard);
    const w = await kv.watch(way === 'fromStart' ? { key, resumeFromRevision: 1 } : { key });
    const createMs = performance.now() - t0;
    const keys = new Set<string>();
    let entries = 0;
    for await (const e of w) {
      entries++;
      keys.add(e.key);
      if (e.isUpdate || e.delta === 0) break;
    }
    const loadedMs = performance.now() - t0;
    w.stop();
    pinging = false;
    const [maxPingMs, otherPingMs] = await pings;
    return { way, shard, createMs: round(createMs, 1), loadedMs: round(loadedMs, 1), entries, keys: keys.size, maxPingMs: round(maxPingMs, 1), otherPingMs: round(otherPingMs, 1), serverCpuMs: cpuMs(nats.pid) - cpu0 };
  };

  const runs: Awaited<ReturnType<typeof loadOne>>[] = [];
  let shard = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? WAYS : [...WAYS].reverse();
    for (const way of order) {
      const run = await loadOne(way, (shard += 7) % SHARDS);
      note(run);
      runs.push(run);
    }
  }
  const byWay = Object.fromEntries(
    WAYS.map((way) => {
      const rs = runs.filter((x) => x.way === way);
      return [way, { createMs: dist(rs.map((x) => x.createMs), 1), loadedMs: dist(rs.map((x) => x.loadedMs), 1), maxPingMs: dist(rs.map((x) => x.maxPingMs), 1), otherPingMs: dist(rs.map((x) => x.otherPingMs), 1), serverCpuMs: dist(rs.map((x) => x.serverCpuMs), 0), keys: rs.map((x) => x.keys) }];
    }),
  );
  return { code: codeVersion(), specs: SPECS, shards: SHARDS, writeS, rounds: ROUNDS, byWay, runs };
});
