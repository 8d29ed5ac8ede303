// Load check specs fast: write them straight into the `lookout_specs` KV bucket (created with the
// options Lookout uses) under their sharded keys (protocol/spec-key.ts; `shards` must be the
// nodes' LOOKOUT_SHARDS) without awaiting each put, then wait for all acks. Nodes validate stored
// values in their spec feed exactly like API puts.

import { connect, type NatsConnection } from '@nats-io/transport-node';
import { StorageType } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { specKey } from '../../protocol/spec-key';
import { SETTINGS } from '../../runtime/config';

export async function natsClient(url: string, name = 'bench'): Promise<NatsConnection> {
  return connect({ servers: url, name });
}

/** Put every spec (id → spec JSON) into the spec bucket, `window` puts in flight at a time. */
export async function putSpecs(nc: NatsConnection, specs: Map<string, unknown>, window = 2000, shards: number = SETTINGS.shards.default): Promise<number> {
  const kvm = new Kvm(nc);
  // A node started first may have made the bucket already, with its own options: then use it.
  const kv = await kvm.create('lookout_specs', { replicas: 1, history: 5, storage: StorageType.File }).catch((err: unknown) => {
    if (err instanceof Error && /already in use/.test(err.message)) return kvm.open('lookout_specs');
    throw err;
  });
  const t0 = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  for (const [id, spec] of specs) {
    const p: Promise<unknown> = kv.put(specKey(id, shards), JSON.stringify(spec)).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= window) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await nc.flush();
  return performance.now() - t0;
}

/** Check ids bench-00000 … */
export function checkId(i: number, prefix = 'c'): string {
  return `${prefix}${String(i).padStart(6, '0')}`;
}

/** `n` HTTP checks `c<i>` probing `http://127.0.0.1:<port>/c/<id>` every `intervalMs`. */
export function httpCheckSpecs(port: number, n: number, intervalMs: number): Map<string, unknown> {
  const specs = new Map<string, unknown>();
  for (let i = 0; i < n; i++) {
    const id = checkId(i);
    specs.set(id, { kind: 'http', target: `http://127.0.0.1:${port}/c/${id}`, intervalMs, timeoutMs: Math.min(1000, intervalMs - 1) });
  }
  return specs;
}
