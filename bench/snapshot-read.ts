// Benchmark: what one whole-bucket spec read costs nats-server 2.9, by how the consumer is asked
// for (issue 12 §4, the 1M start). BENCH_SPECS specs under sharded keys (one revision each), then,
// BENCH_REPS times in turn, BENCH_CONC reads at once of each kind:
//   lastPerSubject — an ordered pull consumer, deliver last per subject, filtered to the bucket
//                    (what runtime/spec-snapshot.ts read before 2026-12-07);
//   allFiltered    — deliver all, filtered to the bucket (one filter_subject: its whole subject space);
//   snapshot       — readSpecSnapshot itself (deliver all, no filter: snapshotPolicy), keeping the
//                    entries of 77 of 256 shards (one node's share of 10 with 3 vantage points).
// Per kind: each read's consumer create, first message and total (ms), the server's CPU and RSS,
// and the slowest answer to a stream info request sent every 50 ms meanwhile (`apiWorstMs`: how
// long the server's JetStream API was held; requests wait at most BENCH_API_TIMEOUT_MS).
//
//   npm run build && node dist/bench/snapshot-read.js
//   knobs: BENCH_SPECS (1000000), BENCH_CONC (3), BENCH_REPS (2), BENCH_API_TIMEOUT_MS (5000)

import { DeliverPolicy, jetstream, jetstreamManager, type ConsumerConfig } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { performance } from 'node:perf_hooks';
import { readSpecSnapshot } from '../runtime/spec-snapshot';
import { cpuMs, memMiB } from './lib/procfs';
import { specBucket } from './lib/spec-bucket';
import { worstAnswer } from './lib/worst-answer';
import { envInt, note, round, runBench } from './lib/util';

const SPECS = envInt('BENCH_SPECS', 1_000_000);
const CONC = envInt('BENCH_CONC', 3);
const REPS = envInt('BENCH_REPS', 2);
const API_TIMEOUT_MS = envInt('BENCH_API_TIMEOUT_MS', 5_000);
const SHARDS = 256;
const BUCKET = 'lookout_specs';
const SHARE = new Set(Array.from({ length: 77 }, (_, i) => (i * 10) % SHARDS));

type Kind = 'lastPerSubject' | 'allFiltered' | 'snapshot';
interface Read {
  createMs: number | null;
  firstMs: number | null;
  totalMs: number;
  messages: number;
}

runBench('snapshot-read', async (cleanup) => {
  const { nats, kv, writeS } = await specBucket(cleanup, BUCKET, SPECS, SHARDS);
  note(`${SPECS} specs written in ${writeS} s`);
  const nc = await connect({ servers: nats.url });
  cleanup(() => nc.close());
  const js = jetstream(nc, { timeout: 300_000 });
  const jsm = await jetstreamManager(nc, { timeout: API_TIMEOUT_MS });
  await jsm.streams.add({ name: 'bench_api_probe', subjects: ['bench.api.probe'] });

  const raw = async (config: Partial<ConsumerConfig>): Promise<Read> => {
    const t0 = performance.now();
    const consumer = await js.consumers.get(`KV_${BUCKET}`, config);
    const createMs = performance.now() - t0;
    const msgs = await consumer.consume({ max_messages: 1000 });
    let firstMs: number | null = null;
    let messages = 0;
    for await (const m of msgs) {
      firstMs ??= performance.now() - t0;
      messages++;
      if (m.info.pending === 0) break;
    }
    await msgs.close();
    return { createMs: round(createMs, 0), firstMs: round(firstMs ?? 0, 0), totalMs: round(performance.now() - t0, 0), messages };
  };
  const reads: Record<Kind, () => Promise<Read>> = {
    lastPerSubject: () => raw({ filter_subject: `$KV.${BUCKET}.>`, deliver_policy: DeliverPolicy.LastPerSubject }),
    allFiltered: () => raw({ filter_subject: `$KV.${BUCKET}.>`, deliver_policy: DeliverPolicy.All }),
    snapshot: async () => {
      const t0 = performance.now();
      const snap = await readSpecSnapshot(kv, SHARE, SHARDS);
      let kept = 0;
      for (const l of snap.entries.values()) kept += l.length;
      return { createMs: null, firstMs: null, totalMs: round(performance.now() - t0, 0), messages: kept };
    },
  };

  const rows: Record<string, unknown>[] = [];
  for (let rep = 1; rep <= REPS; rep++) {
    for (const kind of Object.keys(reads) as Kind[]) {
      const stopApi = worstAnswer(() => jsm.streams.info('bench_api_probe'), 50);
      const cpu0 = cpuMs(nats.pid);
      const got = await Promise.all(Array.from({ length: CONC }, () => reads[kind]()));
      const api = await stopApi();
      const row = { rep, kind, conc: CONC, reads: got, serverCpuMs: round(cpuMs(nats.pid) - cpu0, 0), serverRssMiB: round(memMiB(nats.pid).rss, 0), apiWorstMs: api.worst, apiTimedOut: api.timedOut };
      note(JSON.stringify(row));
      rows.push(row);
    }
  }
  return { specs: SPECS, conc: CONC, reps: REPS, writeS, rows };
});
