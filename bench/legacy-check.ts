// Benchmark: what a new leader's look for legacy spec keys (bare ids, an older version's layout)
// costs nats-server 2.9 in a bucket of BENCH_SPECS sharded keys, and whether it holds anyone else
// up meanwhile (issue 12 §4, the 1M start: every node that first led ran it). Per way of looking,
// BENCH_REPS times in turn:
//   keys       — kv.keys('*') (migrateLegacySpecs' list: an ordered consumer, last per subject,
//                headers only, on the legacy filter) on the connection the probes below use, as a
//                node ran it before 2026-12-07;
//   keysSide   — the same on a connection of its own (since: the node's bulk link, runtime/bulk-link.ts);
//   directNext — one direct get of the first message on the legacy filter (next_by_subj from seq
//                1) on the probes' connection: a way without a consumer, for comparison.
// For each: how long the look took (ms), the server's CPU (ms), and the slowest answers meanwhile,
// on the connection that looks (as a node's heartbeats, lease renewals and result lookups share
// its one connection), to a core NATS request every 20 ms answered by another connection
// (`echoWorstMs`) and to a stream info request every 50 ms (`apiWorstMs`: the JetStream API).
// Requests wait at most BENCH_PROBE_TIMEOUT_MS.
//
//   npm run build && node dist/bench/legacy-check.js
//   knobs: BENCH_SPECS (1000000), BENCH_REPS (3), BENCH_PROBE_TIMEOUT_MS (10000)

import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { performance } from 'node:perf_hooks';
import { LEGACY_KEY_FILTER } from '../protocol/spec-key';
import { cpuMs } from './lib/procfs';
import { specBucket } from './lib/spec-bucket';
import { worstAnswer } from './lib/worst-answer';
import { envInt, note, round, runBench } from './lib/util';

const SPECS = envInt('BENCH_SPECS', 1_000_000);
const REPS = envInt('BENCH_REPS', 3);
const PROBE_TIMEOUT_MS = envInt('BENCH_PROBE_TIMEOUT_MS', 10_000);
const SHARDS = 256;
const BUCKET = 'lookout_specs';

runBench('legacy-check', async (cleanup) => {
  const { nats, kv: sideKv, writeS } = await specBucket(cleanup, BUCKET, SPECS, SHARDS);
  note(`${SPECS} specs written in ${writeS} s`);
  const echo = await connect({ servers: nats.url });
  cleanup(() => echo.close());
  echo.subscribe('bench.echo', { callback: (_e, m) => void m.respond(m.data) });
  const nc = await connect({ servers: nats.url });
  cleanup(() => nc.close());
  const jsm = await jetstreamManager(nc, { timeout: PROBE_TIMEOUT_MS });
  // The look goes out on the connection the probes use, as a node's does beside its heartbeats.
  const kv = await new Kvm(nc).open(BUCKET);
  await jsm.streams.add({ name: 'bench_api_probe', subjects: ['bench.api.probe'] });

  const count = async (keys: Promise<AsyncIterable<string>>) => {
    let n = 0;
    for await (const _ of await keys) n++;
    return n;
  };
  const looks: Record<string, () => Promise<number>> = {
    keys: () => count(kv.keys(LEGACY_KEY_FILTER)),
    keysSide: () => count(sideKv.keys(LEGACY_KEY_FILTER)),
    directNext: async () => ((await jsm.direct.getMessage(`KV_${BUCKET}`, { seq: 1, next_by_subj: `$KV.${BUCKET}.${LEGACY_KEY_FILTER}` })) ? 1 : 0),
  };

  const rows: Record<string, unknown>[] = [];
  for (let rep = 1; rep <= REPS; rep++) {
    for (const [way, look] of Object.entries(looks)) {
      const stopEcho = worstAnswer(() => nc.request('bench.echo', 'x', { timeout: PROBE_TIMEOUT_MS }), 20);
      const stopApi = worstAnswer(() => jsm.streams.info('bench_api_probe'), 50);
      const cpu0 = cpuMs(nats.pid);
      const t0 = performance.now();
      const found = await look();
      const lookMs = round(performance.now() - t0, 0);
      const serverCpuMs = round(cpuMs(nats.pid) - cpu0, 0);
      const e = await stopEcho();
      const a = await stopApi();
      const row = { rep, way, found, lookMs, serverCpuMs, echoWorstMs: e.worst, echoTimedOut: e.timedOut, apiWorstMs: a.worst, apiTimedOut: a.timedOut };
      note(JSON.stringify(row));
      rows.push(row);
    }
  }
  return { specs: SPECS, reps: REPS, writeS, rows };
});
