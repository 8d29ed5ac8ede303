// One real `lookout node` process against its own nats-server and HTTP target, with a client that
// collects everything published — the fixture of tests whose node may stall on purpose (a
// stalled node must not stall the test process, so it runs as a separate OS process).

import type { NatsConnection } from '@nats-io/transport-node';
import { client, Collector, request, testEnv } from './lookout';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { runLookout, type LookoutProcess, type SpawnOptions } from './processes';
import { startHttpTarget, type HttpTargetOptions, type HttpTarget } from './targets';

export interface NodeProcessFixture {
  server: NatsServer;
  target: HttpTarget;
  nc: NatsConnection;
  /** Everything on `lookout.>`. */
  events: Collector;
  node: LookoutProcess;
  /** Put a spec through the API (request/reply). */
  put(id: string, spec: object): Promise<any>;
  close(): Promise<void>;
}

export async function startNodeProcess(target: HttpTargetOptions, env: Record<string, string> = {}, spawn: SpawnOptions = {}): Promise<NodeProcessFixture> {
  const server = await startNatsServer();
  const t = await startHttpTarget(target);
  const nc = await client(server);
  const events = new Collector(nc, 'lookout.>');
  const node = runLookout(['node'], testEnv(server, { LOOKOUT_LOG_LEVEL: 'info', ...env }), spawn);
  return {
    server,
    target: t,
    nc,
    events,
    node,
    put: (id, spec) => request(nc, `lookout.spec.put.${id}`, spec, 10_000),
    async close() {
      events.stop();
      await nc.close();
      node.signal('SIGKILL'); // a stalled node would not answer SIGTERM in time
      await node.exited;
      await t.close();
      await server.cleanup();
    },
  };
}
