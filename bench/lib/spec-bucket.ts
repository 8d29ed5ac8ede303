// A spec bucket for the spec-loading benchmarks (bench/shard-watches.ts, bench/shard-tail-start.ts):
// a nats-server of its own, a KV bucket, and `specs` HTTP specs (~110 bytes each) stored under
// sharded keys among `shards` shards, 512 puts in flight.

import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { performance } from 'node:perf_hooks';
import { specKey } from '../../protocol/spec-key';
import { startNats, type BenchNats } from './nats-server';
import { LoadMeter } from './procfs';
import { round } from './util';

export interface SpecBucket {
  nats: BenchNats;
  jsm: JetStreamManager;
  kv: KV;
  load: LoadMeter;
  /** Seconds the puts took. */
  writeS: number;
}

export async function specBucket(cleanup: (fn: () => unknown) => void, bucket: string, specs: number, shards: number): Promise<SpecBucket> {
  const nats = await startNats();
  cleanup(() => nats.stop());
  const load = new LoadMeter(() => [process.pid, nats.pid]);
  const nc = await connect({ servers: nats.url });
  cleanup(() => nc.close());
  const jsm = await jetstreamManager(nc);
  const kv = await new Kvm(nc).create(bucket, { history: 5 });
  const value = (i: number) => JSON.stringify({ kind: 'http', target: `http://127.0.0.1:${1000 + (i % 60000)}/health/${i}`, intervalMs: 60_000, timeoutMs: 5000 });
  const t = performance.now();
  for (let i = 0; i < specs; i += 512) {
    await Promise.all(Array.from({ length: Math.min(512, specs - i) }, (_, k) => kv.put(specKey(`check-${i + k}`, shards), value(i + k))));
  }
  return { nats, jsm, kv, load, writeS: round((performance.now() - t) / 1000, 1) };
}
