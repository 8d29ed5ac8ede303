// The composition root: start one Lookout node in this process from the runtime/ ports and the
// actors/ that use them — connect, make sure the buckets exist, start the node actor. Returns a handle whose stop() performs the graceful shutdown: stop scheduling, let
// in-flight probes finish within the grace period (then abandon them), drain NATS.

import { createActor, type ActorRefFrom } from 'xstate';
import type { NatsConnection } from '@nats-io/transport-node';
import { bodyWorker, closeProbeEnv, HttpClientPool, runProbe, type ProbeEnv } from '../checks/probe';
import { systemLookup } from '../checks/connector';
import type { ClusterView } from '../protocol/cluster-view';
import { CatchUpPacer } from '../protocol/catch-up-pacer';
import { CLOCK_MIN_SAMPLES, CLOCK_WINDOW, ClockOffsets } from '../protocol/clock-offset';
import { parseAssignment } from '../protocol/assignment-record';
import type { RunnerPorts } from '../actors/check-runner';
import { nodeMachine, type NodeOutput } from '../actors/node';
import { claimNodeId, newInstanceId } from '../actors/node-claim';
import { SpecCatalog } from '../actors/spec-catalog';
import { describePolicy, nodeTargetPolicy } from '../runtime/target-policy';
import { natsBus } from '../runtime/bus';
import { whenJetStreamReady } from '../runtime/jetstream-ready';
import { kvSpecFeedSource } from '../runtime/spec-watch';
import { systemClock, type Clock } from '../runtime/clock';
import type { Config } from '../runtime/config';
import { createLogger, type Logger } from '../runtime/logger';
import { createMetrics, type Metrics } from '../runtime/metrics';
import { connectNats, nodeInboxPrefix, staleDetectMs } from '../runtime/nats';
import { LoadMonitor } from '../runtime/load-monitor';
import { PauseDetector } from '../runtime/pause-detector';
import { PauseSource, pauseThresholdMs } from '../protocol/pause';
import { reliefConfig } from '../protocol/overload-relief';
import { streamResumeRecords } from '../runtime/resume-store';
import { kvSpecStore, openStores, streamResultHistory } from '../runtime/store';
import { assignmentStore, leaseStore, openClusterBuckets } from '../runtime/cluster-store';
import { VERSION } from '../runtime/version';
import { subjects } from '../runtime/subjects';
import { TimerQueue } from '../runtime/timer-queue';
import { startHttpEndpoints, type HttpEndpoints } from '../runtime/http-endpoints';

export interface NodeHandle {
  nodeId: string;
  nc: NatsConnection;
  metrics: Metrics;
  log: Logger;
  actor: ActorRefFrom<typeof nodeMachine>;
  /** This process's instance id (heartbeats carry it; see protocol/node-identity.ts). */
  instance: string;
  /** Resolves when the node actor has stopped, with why (a shutdown, or a duplicate node id). */
  ended: Promise<NodeOutput>;
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

/** Run `step`; if it throws, close the connection first (a node that does not start leaves nothing open). */
async function closeOnError<T>(nc: NatsConnection, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    await nc.close();
    throw err;
  }
}

export async function startNode(cfg: Config, opts: StartOptions = {}): Promise<NodeHandle> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? createLogger(cfg.nodeId, cfg.logLevel);
  const metrics = opts.metrics ?? createMetrics({ defaultMetrics: true });
  const s = subjects(cfg.prefix);
  let onConnection: (up: boolean) => void = () => {};
  let connected = false;
  let http: HttpEndpoints | null = null;
  // A pause (the process stopped, or cut off from NATS) past the threshold goes to the node's pause guard.
  let onPause: (e: { gapMs: number; source: PauseSource }) => void = () => {};
  const pauses = new PauseDetector(clock, pauseThresholdMs(cfg.deadAfterMs, cfg.heartbeatMs), staleDetectMs(cfg.natsPingMs), (e) => onPause(e));
  const nc = await connectNats(
    cfg,
    `lookout-${cfg.nodeId}`,
    log.child({ actor: 'nats' }),
    (state) => {
      connected = state === 'connected';
      metrics.natsConnected.set(connected ? 1 : 0);
      if (state === 'connected' || state === 'disconnected') onConnection(connected);
      if (state === 'disconnected') pauses.linkDown();
      if (state === 'connected') pauses.linkUp();
    },
    { inboxPrefix: nodeInboxPrefix(cfg.prefix), pingMs: cfg.natsPingMs, onStale: () => pauses.linkStale() },
  );
  const bus = natsBus(nc);
  const instance = newInstanceId();
  const { kv, jsm, cluster } = await closeOnError(nc, async () => {
    // Refuse to start when another process runs with this node id (it answers the claim).
    await claimNodeId(bus, s, cfg.nodeId, instance, cfg.heartbeatMs);
    return whenJetStreamReady(
      async () => {
        const stores = await openStores(nc, s, cfg);
        return { ...stores, cluster: await openClusterBuckets(nc, stores.jsm, s, cfg) };
      },
      log,
      (ms) => new Promise((r) => clock.setTimeout(r, ms)),
    );
  });
  log.info({ event: 'stores_ready', buckets: [s.bucket('specs'), s.bucket('leader'), s.bucket('assignment')], stream: s.resultStream(), resumeStream: s.resumeStream() }, 'stores ready');

  // The node tells its view by message; /readyz reads the latest one it was told.
  let view: ClusterView | null = null;
  http = await closeOnError(nc, () =>
    startHttpEndpoints(cfg.httpHost, cfg.httpPort, metrics.registry, {
      natsConnected: () => connected,
      assigned: () => (view as ClusterView | null)?.assignment != null,
    }),
  );
  log.info({ event: 'http_listening', port: http.port, host: cfg.httpHost }, 'http endpoints listening (/metrics, /healthz, /readyz)');
  // Probes may not reach link-local / metadata addresses, the operator's denied ranges, this
  // node's own HTTP port or its NATS servers (known now that both are up).
  const targetPolicy = await nodeTargetPolicy(cfg, http.port, nc.getServers());
  log.info({ event: 'target_policy', ...describePolicy(targetPolicy) }, 'target address policy');
  const probeEnv: ProbeEnv = {
    policy: targetPolicy,
    lookup: systemLookup,
    detail: cfg.resultDetail,
    // This node's kept-alive connections (released per deleted check, closed at shutdown).
    httpPool: new HttpClientPool(),
    bodyWorker,
    userAgent: `lookout/${VERSION} (node ${cfg.nodeId})`,
    onWorkerOverrun: (assertion, why) => metrics.bodyWorkerOverruns.inc({ assertion, why }),
  };

  if (cfg.handoverMs !== undefined) log.warn({ event: 'setting_deprecated', setting: 'LOOKOUT_HANDOVER_MS' }, 'LOOKOUT_HANDOVER_MS is deprecated and ignored: shards change hands by message');
  const queue = new TimerQueue(clock);
  // The node's own lag: judges probes that failed while it stalled, and says when it is overloaded.
  const load = new LoadMonitor(clock, { lagMs: cfg.overloadLagMs, holdMs: cfg.overloadHoldMs }, metrics.load, log.child({ actor: 'load' }));
  const resumeRecords = streamResumeRecords(jsm, s);
  const resumeBase = s.resumeWildcard().slice(0, -1); // `<prefix>._resume.`
  // On waking, the queue's own timer may fire before the detector's next tick: it holds itself first.
  queue.watchLateness(pauses.thresholdMs, (lateMs) => pauses.report(lateMs, PauseSource.timer));
  const ports: RunnerPorts = {
    clock,
    queue,
    probe: (spec, signal) => runProbe(spec, signal, probeEnv),
    // While the pause guard holds the queue, only probes that spanned the pause finish: their outcome
    // measures the pause, not the target, and would go out under a map we may no longer follow. Only
    // results and status changes are held back: a handover release must still reach the new owner.
    // A vantage's resume record goes with its result (dropped too, uncounted: the result is counted).
    // So are they while the link has been down past the pause threshold (pauses.cutOff): they would go
    // out late, after others may have taken the checks over, and could share a seq with theirs.
    publish: (subject, msg) => {
      const type = subject.startsWith(s.status('')) ? 'status' : subject.startsWith(s.result('')) ? 'result' : subject.startsWith(resumeBase) ? 'resume' : null;
      // And before the pause is noticed at all: a probe that finished while the process was stopped
      // reports on waking before the detector's tick has run (pauses.overdue).
      if ((!queue.isHeld && !pauses.cutOff() && !pauses.overdue()) || type === null) return bus.publish(subject, msg);
      if (type !== 'resume') metrics.pauseDropped.inc({ type });
    },
    bus,
    instance,
    claimWaitMs: cfg.claimWaitMs,
    // A holder taken over may have published unseen until the others held it dead, and (a frozen
    // link) until it noticed its own dead link.
    takeoverUnseenMs: cfg.deadAfterMs + staleDetectMs(cfg.natsPingMs),
    history: streamResultHistory(jsm, s, resumeRecords),
    canPublishVerdicts: () => !queue.isHeld && !pauses.cutOff(),
    quorumRecords: { last: (id, done) => void resumeRecords.lastQuorum(id).then((r) => done(null, r), (err: unknown) => done(err, null)) },
    subjects: s,
    metrics,
    log,
    nodeId: cfg.nodeId,
    jitterMs: cfg.jitterMs,
    random: Math.random,
    graceMs: cfg.shutdownGraceMs,
    release: (id) => void probeEnv.httpPool.release(id),
    catchUps: new CatchUpPacer(cfg.catchUpPerSecond),
    clockOffsets: new ClockOffsets(cfg.nodeId, CLOCK_WINDOW, CLOCK_MIN_SAMPLES, cfg.suspectAfterMs),
    load,
  };
  const catalog = new SpecCatalog(cfg.shards);
  const actor = createActor(nodeMachine, {
    input: {
      bus,
      specSource: kvSpecFeedSource(kv),
      instance,
      store: kvSpecStore(kv, jsm, s.bucket('specs'), (id) =>
        resumeRecords.purge(id).catch((err: unknown) => log.warn({ event: 'resume_purge_failed', check: id, err }, 'could not drop the deleted check\'s resume records (they expire with LOOKOUT_RESULTS_MAX_AGE_MS)')),
      ),
      leaseStore: leaseStore(cluster.lease),
      assignmentStore: assignmentStore(cluster.assignment, (raw) => parseAssignment(raw, cfg.shards)),
      catalog,
      ports,
      maxSpecBytes: cfg.maxSpecBytes,
      maxSpecs: cfg.maxSpecs,
      api: { ratePerSec: cfg.apiRate, burst: cfg.apiBurst, maxPending: cfg.apiMaxPending },
      targetPolicy,
      cluster: {
        version: VERSION,
        heartbeatMs: cfg.heartbeatMs,
        suspectAfterMs: cfg.suspectAfterMs,
        deadAfterMs: cfg.deadAfterMs,
        lease: { leaseMs: cfg.leaseMs, renewMs: cfg.renewMs, pollMs: cfg.leasePollMs, takeoverMarginMs: cfg.takeoverMarginMs },
        rebalanceQuietMs: cfg.rebalanceQuietMs,
        rebalanceMaxDelayMs: cfg.rebalanceMaxDelayMs,
        leaveTimeoutMs: cfg.leaveTimeoutMs,
        vantagePoints: cfg.vantagePoints,
        clockSkewWarnMs: cfg.clockSkewWarnMs,
        churn: { windowMs: cfg.churnWindowMs, threshold: cfg.churnThreshold, holdMs: cfg.churnHoldMs, maxHoldMs: cfg.churnMaxHoldMs },
        overloadRelief: reliefConfig(cfg.overloadReliefMs),
      },
      flush: () => nc.flush(),
    },
    clock,
  });
  onConnection = (up) => actor.send({ type: 'CONNECTION', up });
  actor.on('view', (e) => (view = e.view));
  const ended = new Promise<NodeOutput>((resolve) => {
    actor.subscribe({
      complete: () => resolve(actor.getSnapshot().output ?? { reason: 'shutdown' }),
      error: (err) => {
        log.fatal({ event: 'node_failed', err }, 'node actor failed');
        resolve({ reason: 'shutdown' });
      },
    });
  });
  actor.start();
  onPause = (e) => actor.send({ type: 'PAUSED', ...e });
  pauses.start();
  load.start();

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      if (actor.getSnapshot().status === 'active') actor.send({ type: 'SHUTDOWN' });
      await ended;
      pauses.stop();
      load.stop();
      queue.stop();
      await closeProbeEnv(probeEnv);
      await http?.close();
      await nc.drain().catch((err: unknown) => log.warn({ event: 'nats_drain_failed', err }, 'NATS drain failed'));
      log.info({ event: 'shutdown_complete' }, 'shutdown complete');
    })());

  return { nodeId: cfg.nodeId, nc, metrics, log, actor, instance, ended, httpPort: http.port, stop };
}
