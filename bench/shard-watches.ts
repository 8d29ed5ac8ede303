// Benchmark: what following specs per shard costs against following the whole bucket (issue 12
// §4). BENCH_SPECS specs stored under sharded keys among 256 shards, then in turn: one watch of the
// whole bucket; one filtered watch per shard for all 256 (what a lone node runs); the same for a
// tenth of them (one of 10 nodes); each to loaded, with the heap kept after a full GC. Then the
// idle CPU of the server and of this process while 256 watches are open, and a list page read
// from the bucket. nats-server here is 2.9 (one filter subject per consumer).
//
//   npm run build && flock /work/notes/heavy.lock node --expose-gc dist/bench/shard-watches.js
//   knobs: BENCH_SPECS (50000), BENCH_IDLE_MS (10000), BENCH_MODE (every: all of the above in one
//   process; whole | shards | tenth: that one alone, so its heap is not shared with another's —
//   run each in a process of its own for the heap figures)

import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { ShardSpecs } from '../actors/shard-specs';
import { SpecCatalog } from '../actors/spec-catalog';
import { followSpecs } from '../actors/spec-feed';
import { shardedSpecStore } from '../runtime/shard-spec-store';
import { shardSpecFeedSource } from '../runtime/shard-spec-watch';
import { filteredSpecFeedSource } from '../runtime/spec-watch';
import { parseSpecKey } from '../protocol/spec-key';
import { cpuMs } from './lib/procfs';
import { specBucket } from './lib/spec-bucket';
import { codeVersion, envInt, note, round, runBench, sleep } from './lib/util';

const SPECS = envInt('BENCH_SPECS', 50_000);
const IDLE_MS = envInt('BENCH_IDLE_MS', 10_000);
const SHARDS = 256;
const MODE = process.env.BENCH_MODE ?? 'every';
const runs = (m: string) => MODE === 'every' || MODE === m;
const BUCKET = 'bench_specs';
const log = pino({ level: 'silent' });

const heapMiB = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return round(process.memoryUsage().heapUsed / 2 ** 20, 1);
};

runBench('shard-watches', async (cleanup) => {
  const { nats, jsm, kv, load, writeS } = await specBucket(cleanup, BUCKET, SPECS, SHARDS);
  let t = 0;
  note({ stored: SPECS, writeS });
  const base = heapMiB();

  // The whole bucket, as every node follows it today.
  let whole: Record<string, number> | null = null;
  if (runs('whole')) {
    let catalog: SpecCatalog | null = new SpecCatalog(SHARDS);
    t = performance.now();
    const all = filteredSpecFeedSource(kv, async () => (await kv.status()).values, undefined, (k) => {
      const p = parseSpecKey(k, SHARDS);
      return p.type === 'sharded' ? p.id : null;
    });
    const stopAll = await new Promise<() => void>((resolve) => {
      const stop = followSpecs(all, catalog!, log, (e) => {
        if (e.type === 'SPECS_LOADED') resolve(stop);
      });
    });
    whole = { ms: Math.round(performance.now() - t), specs: catalog.size, heapMiB: round(heapMiB() - base, 1) };
    stopAll();
    catalog = null;
    note({ whole });
  }

  const perShard = async (shards: number[]) => {
    const h = new ShardSpecs(new SpecCatalog(SHARDS), (s) => shardSpecFeedSource(kv, jsm, BUCKET, s, SHARDS), log, () => {});
    const t0 = performance.now();
    await h.holdOnly(shards);
    const r = { shards: shards.length, ms: Math.round(performance.now() - t0), specs: h.catalog.size, heapMiB: round(heapMiB() - base, 1) };
    return { h, r };
  };
  let allShards: Record<string, number> | null = null;
  let idle: Record<string, number> | null = null;
  if (runs('shards')) {
    const every = await perShard(Array.from({ length: SHARDS }, (_, i) => i));
    allShards = every.r;
    note({ allShards });
    const consumers = (await jsm.streams.info(`KV_${BUCKET}`)).state.consumer_count;
    const cpu0 = { ours: cpuMs(process.pid), server: cpuMs(nats.pid) };
    await sleep(IDLE_MS);
    idle = { consumers, windowMs: IDLE_MS, oursCpuPct: round((100 * (cpuMs(process.pid) - cpu0.ours)) / IDLE_MS, 2), serverCpuPct: round((100 * (cpuMs(nats.pid) - cpu0.server)) / IDLE_MS, 2) };
    note({ idle });
    every.h.stop();
  }
  let tenthOfShards: Record<string, number> | null = null;
  if (runs('tenth')) {
    const tenth = await perShard(Array.from({ length: Math.round(SHARDS / 10) }, (_, i) => i * 10));
    tenthOfShards = tenth.r;
    note({ tenthOfShards });
    tenth.h.stop();
  }

  const store = shardedSpecStore(kv, jsm, BUCKET, SHARDS);
  t = performance.now();
  const first = await store.list(null, 1000);
  const firstPageMs = Math.round(performance.now() - t);
  t = performance.now();
  await store.list(`check-${Math.floor(SPECS / 2)}`, 1000);
  const midPageMs = Math.round(performance.now() - t);
  if (first.ids.length !== Math.min(1000, SPECS)) throw new Error(`first page of ${first.ids.length} ids`);
  return { code: codeVersion(), mode: MODE, specs: SPECS, shards: SHARDS, writeS, whole, allShards, tenthOfShards, idle, list: { firstPageMs, midPageMs }, loadavg: loadavg().map((x) => round(x)), ...load.read() };
});
