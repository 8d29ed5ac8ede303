// What most benchmarks start with: a nats-server of their own, a counting HTTP target and a client
// connection, each closed by the benchmark's cleanup.

import type { NatsConnection } from '@nats-io/transport-node';
import { startNats, type BenchNats } from './nats-server';
import { natsClient } from './specs';
import { startCountingTarget, type CountingTarget } from './targets';

export async function startWorld(cleanup: (fn: () => unknown) => void): Promise<{ nats: BenchNats; target: CountingTarget; nc: NatsConnection }> {
  const nats = await startNats();
  cleanup(() => nats.stop());
  const target = await startCountingTarget();
  cleanup(() => target.close());
  const nc = await natsClient(nats.url);
  cleanup(() => nc.close());
  return { nats, target, nc };
}
