// Start one Lookout node in this process: connect, make sure the buckets exist, start the node
// actor. Returns a handle whose stop() performs the graceful shutdown: stop scheduling, let
// in-flight probes finish within the grace period (then abandon them), drain NATS.

import { createActor, type ActorRefFrom } from 'xstate';
import type { NatsConnection } from '@nats-io/transport-node';
import { closeHttpPool, releaseHttpClient, runProbe } from '../checks/probe';
import type { RunnerPorts } from '../actors/check-runner';
import { nodeMachine } from '../actors/node';
import { SpecCatalog } from '../actors/spec-catalog';
import { CatchUpPacer } from '../actors/catch-up-pacer';
import { systemClock, type Clock } from './clock';
import type { Config } from './config';
import { createLogger, type Logger } from './logger';
import { encode } from './messages';
import { createMetrics, type Metrics } from './metrics';
import { connectNats } from './nats';
import { kvSpecStore, openStores, streamResultHistory } from './store';
import { assignmentStore, leaseStore, openClusterBuckets } from './cluster-store';
import { parseAssignment } from '../actors/assignment-record';
import { VERSION } from './version';
import { subjects } from './subjects';
import { TimerQueue } from './timer-queue';
import { startHttpEndpoints, type HttpEndpoints } from './http-endpoints';

export interface NodeHandle {
  nodeId: string;
  nc: NatsConnection;
  metrics: Metrics;
  log: Logger;
  actor: ActorRefFrom<typeof nodeMachine>;
  /** The bound port of /metrics, /healthz, /readyz. */
  httpPort: number;
  /** Graceful shutdown; resolves when NATS is drained. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  log?: Logger;
  metrics?: Metrics;
}

export async function startNode(cfg: Config, opts: StartOptions = {}): Promise<NodeHandle> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? createLogger(cfg.nodeId, cfg.logLevel);
  const metrics = opts.metrics ?? createMetrics({ defaultMetrics: true });
  const s = subjects(cfg.prefix);
  let onConnection: (up: boolean) => void = () => {};
  let connected = false;
  let http: HttpEndpoints | null = null;
  const nc = await connectNats(cfg, `lookout-${cfg.nodeId}`, log.child({ actor: 'nats' }), (state) => {
    connected = state === 'connected';
    metrics.natsConnected.set(connected ? 1 : 0);
    if (state === 'connected' || state === 'disconnected') onConnection(connected);
  });
  const { kv, jsm } = await openStores(nc, s, cfg);
  const cluster = await openClusterBuckets(nc, s, cfg);
  log.info({ buckets: [s.bucket('specs'), s.bucket('leader'), s.bucket('assignment')], stream: s.resultStream() }, 'stores ready');

  const queue = new TimerQueue(clock);
  const ports: RunnerPorts = {
    clock,
    queue,
    probe: runProbe,
    publish: (subject, msg) => nc.publish(subject, encode(msg)),
    history: streamResultHistory(jsm, s),
    subjects: s,
    metrics,
    log,
    nodeId: cfg.nodeId,
    jitterMs: cfg.jitterMs,
    random: Math.random,
    graceMs: cfg.shutdownGraceMs,
    release: (id) => void releaseHttpClient(id),
    catchUps: new CatchUpPacer(cfg.catchUpPerSecond),
  };
  const catalog = new SpecCatalog(cfg.shards);
  const actor = createActor(nodeMachine, {
    input: {
      nc,
      kv,
      store: kvSpecStore(kv),
      leaseStore: leaseStore(cluster.lease),
      assignmentStore: assignmentStore(cluster.assignment, (raw) => parseAssignment(raw, cfg.shards)),
      catalog,
      ports,
      maxSpecBytes: cfg.maxSpecBytes,
      cluster: {
        version: VERSION,
        heartbeatMs: cfg.heartbeatMs,
        suspectAfterMs: cfg.suspectAfterMs,
        deadAfterMs: cfg.deadAfterMs,
        lease: { leaseMs: cfg.leaseMs, renewMs: cfg.renewMs, pollMs: cfg.leasePollMs, takeoverMarginMs: cfg.takeoverMarginMs },
        rebalanceQuietMs: cfg.rebalanceQuietMs,
        rebalanceMaxDelayMs: cfg.rebalanceMaxDelayMs,
        leaveTimeoutMs: cfg.leaveTimeoutMs,
        handoverMs: cfg.handoverMs,
        vantagePoints: cfg.vantagePoints,
      },
    },
    clock,
  });
  onConnection = (up) => actor.send({ type: 'CONNECTION', up });
  try {
    http = await startHttpEndpoints(cfg.httpHost, cfg.httpPort, metrics.registry, {
      natsConnected: () => connected,
      assigned: () => actor.getSnapshot().context.view.assignment !== null,
    });
  } catch (err) {
    await nc.close();
    throw err;
  }
  log.info({ port: http.port, host: cfg.httpHost }, 'http endpoints listening (/metrics, /healthz, /readyz)');
  const done = new Promise<void>((resolve) => {
    actor.subscribe({
      complete: () => resolve(),
      error: (err) => {
        log.fatal({ err }, 'node actor failed');
        resolve();
      },
    });
  });
  actor.start();

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      actor.send({ type: 'SHUTDOWN' });
      await done;
      queue.stop();
      await closeHttpPool();
      await http?.close();
      await nc.drain().catch((err: unknown) => log.warn({ err }, 'NATS drain failed'));
      log.info('shutdown complete');
    })());

  return { nodeId: cfg.nodeId, nc, metrics, log, actor, httpPort: http.port, stop };
}
