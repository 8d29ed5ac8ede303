// Benchmark: what opening a per-shard watch costs by where it starts (issue 12 §2/§4, "one
// snapshot, then tail"). BENCH_SPECS specs under sharded keys among 256 shards; then, in turn and
// repeated BENCH_ROUNDS times, 256 filtered KV watches (one per shard, BENCH_CONCURRENCY at a time
// as actors/shard-specs.ts loads shards) opened
//   last: deliver last per subject (what a shard load opens today), each read to its end;
//   tail: deliver by start sequence at the stream's last sequence + 1 (nothing to read);
// and one whole-bucket watch read to its end (the snapshot). Then the holder itself
// (actors/shard-specs.ts) holding all 256 shards to loaded: `perShard`, a watch each (deliver last
// per subject), and `snapshot`, one snapshot then a tail each (runtime/shard-spec-sources.ts),
// with the heap kept after a full GC (run with --expose-gc). nats-server here is 2.9.10 (one
// filter subject per consumer).
//
//   npm run build && flock /work/notes/heavy.lock node --expose-gc dist/bench/shard-tail-start.js
//   knobs: BENCH_SPECS (100000), BENCH_ROUNDS (2), BENCH_CONCURRENCY (8)

import type { KV } from '@nats-io/kv';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { Places } from '../actors/shard-load';
import { LOAD_CONCURRENCY, ShardSpecs } from '../actors/shard-specs';
import { SpecCatalog } from '../actors/spec-catalog';
import { shardKeyFilter } from '../protocol/spec-key';
import { ShardSources } from '../runtime/shard-spec-sources';
import { shardSpecFeedSource } from '../runtime/shard-spec-watch';
import { readSpecSnapshot } from '../runtime/spec-snapshot';
import { specBucket } from './lib/spec-bucket';
import { codeVersion, envInt, note, round, runBench } from './lib/util';

const SPECS = envInt('BENCH_SPECS', 100_000);
const ROUNDS = envInt('BENCH_ROUNDS', 2);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 8);
const SHARDS = 256;
const BUCKET = 'bench_specs';

/** Opens a watch and reads it until its initial values are all delivered; returns the count read. */
async function readInitial(kv: KV, opts: { key?: string; resumeFromRevision?: number }): Promise<{ n: number; stop: () => void }> {
  const w = await kv.watch(opts);
  let n = 0;
  if (opts.resumeFromRevision !== undefined) return { n, stop: () => w.stop() };
  for await (const e of w) {
    n++;
    if (e.isUpdate || e.delta === 0) break;
  }
  return { n, stop: () => w.stop() };
}

async function pool<T>(items: T[], width: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

runBench('shard-tail-start', async (cleanup) => {
  const { jsm, kv, load, writeS } = await specBucket(cleanup, BUCKET, SPECS, SHARDS);
  let t = 0;
  note({ stored: SPECS, writeS });
  const shards = Array.from({ length: SHARDS }, (_, i) => i);

  const perShard = async (mode: 'last' | 'tail') => {
    const lastSeq = (await jsm.streams.info(`KV_${BUCKET}`)).state.last_seq;
    const stops: (() => void)[] = [];
    let read = 0;
    const t0 = performance.now();
    await pool(shards, CONCURRENCY, async (s) => {
      const r = await readInitial(kv, mode === 'last' ? { key: shardKeyFilter(s) } : { key: shardKeyFilter(s), resumeFromRevision: lastSeq + 1 });
      read += r.n;
      stops.push(r.stop);
    });
    const ms = Math.round(performance.now() - t0);
    for (const s of stops) s();
    return { ms, read };
  };
  const rounds: Record<string, unknown>[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const last = await perShard('last');
    const tail = await perShard('tail');
    t = performance.now();
    const snap = await readInitial(kv, {});
    snap.stop();
    const round = { last, tail, wholeSnapshot: { ms: Math.round(performance.now() - t), read: snap.n } };
    note(round);
    rounds.push(round);
  }
  const log = pino({ level: 'silent' });
  const heapMiB = () => {
    (globalThis as { gc?: () => void }).gc?.();
    return round(process.memoryUsage().heapUsed / 2 ** 20, 1);
  };
  const holder = async (how: 'perShard' | 'snapshot') => {
    const base = heapMiB();
    const own = (s: number) => shardSpecFeedSource(kv, jsm, BUCKET, s, SHARDS);
    const sources = new ShardSources({ perShard: own, tail: (s, from) => shardSpecFeedSource(kv, jsm, BUCKET, s, SHARDS, from).watch(), snapshot: (set) => readSpecSnapshot(kv, set, SHARDS), lastSeq: async () => (await jsm.streams.info(`KV_${BUCKET}`)).state.last_seq }, log, new Places(LOAD_CONCURRENCY));
    const h = new ShardSpecs(new SpecCatalog(SHARDS), how === 'perShard' ? own : (s) => sources.sourceOf(s), log, () => {});
    const t0 = performance.now();
    await h.holdOnly(shards);
    const r = { ms: Math.round(performance.now() - t0), specs: h.catalog.size, heapMiB: round(heapMiB() - base, 1) };
    await h.stop();
    await sources.settled();
    note({ [how]: r });
    return r;
  };
  const holders = { snapshot: await holder('snapshot'), perShard: await holder('perShard') };
  return { code: codeVersion(), specs: SPECS, shards: SHARDS, concurrency: CONCURRENCY, rounds, holders, loadavg: loadavg().map((x) => round(x)), ...load.read() };
});
