// The composition root: start one Lookout node in this process from the runtime/ ports and the
// actors/ that use them — connect, make sure the buckets exist, start the node actor. Returns a handle whose stop() performs the graceful shutdown: stop scheduling, let
// in-flight probes finish within the grace period (then abandon them), drain NATS.

import { createActor, type ActorRefFrom } from 'xstate';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { jetstream } from '@nats-io/jetstream';
import type { ClusterView } from '../protocol/cluster-view';
import { CatchUpPacer } from '../protocol/catch-up-pacer';
import { CLOCK_MIN_SAMPLES, CLOCK_WINDOW, ClockOffsets } from '../protocol/clock-offset';
import { parseAssignment } from '../protocol/assignment-record';
import { heldDead } from '../protocol/takeover';
import type { RunnerPorts } from '../actors/check-runner';
import { nodeMachine, type NodeOutput } from '../actors/node';
import { claimNodeId, newInstanceId } from '../actors/node-claim';
import { natsBus } from '../runtime/bus';
import { whenJetStreamReady } from '../runtime/jetstream-ready';
import { systemClock, type Clock } from '../runtime/clock';
import type { Config } from '../runtime/config';
import { createLogger, type Logger } from '../runtime/logger';
import { createMetrics, type Metrics } from '../runtime/metrics';
import { bulkConnection, connectNats, nodeInboxPrefix, staleDetectMs } from '../runtime/nats';
import { BULK_API_TIMEOUT_MS, BulkLink } from '../runtime/bulk-link';
import { confirmAsker } from '../runtime/confirm-bus';
import { quarantineSettings, startQuarantineGuard } from '../runtime/quarantine-guard';
import { canarySpecs } from '../runtime/canaries';
import { LoadMonitor } from '../runtime/load-monitor';
import { LinkOutage } from '../runtime/link-outage';
import { PauseDetector } from '../runtime/pause-detector';
import { PauseSource, pauseThresholdMs } from '../protocol/pause';
import { openStores } from '../runtime/store';
import { DirectGets } from '../runtime/direct-get';
import { streamResultHistory } from '../runtime/result-history';
import { ReconnectSettle } from '../runtime/reconnect-settle';
import { startNodeSpecs } from './node-specs';
import { nodeRecords } from './node-records';
import { startProbing } from './node-probing';
import { pushRegistry, startPushIntake } from './node-push';
import { clusterSettings } from './node-settings';
import { startNodeServices } from './node-services';
import { startNodeNotify } from './node-notify';
import { assignmentStore, leaseStore, openClusterBuckets } from '../runtime/cluster-store';
import { subjects } from '../runtime/subjects';
import { TimerQueue } from '../runtime/timer-queue';
import { downNoticeOf } from '../runtime/panic-guard';
import { PublishBatcher } from '../runtime/publish-batcher';
import { publishDrops } from '../runtime/publish-drops';
import { startPublishConfirm } from '../runtime/publish-confirm';
import { PublishKind, publishKind } from '../protocol/publish-batch';
import { startHttpEndpoints, type HttpEndpoints } from '../runtime/http-endpoints';
import { CheckGauges } from '../runtime/check-gauges';
import { VerdictTally } from '../runtime/verdict-tally';

/**
 * How long a stopping node waits for spec watches still being created before it drains the
 * connection (each is stopped as soon as it exists; one that never answers is left to the drain).
 */
const WATCH_SETTLE_MS = 5_000;

/** `p`, or nothing after `ms` (the timer does not hold the process). */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => {}), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

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

/** Run `step`; if it throws, close the connection and the HTTP endpoints first (a node that does not start leaves nothing open). */
async function closeOnError<T>(nc: NatsConnection, http: HttpEndpoints, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    await nc.close();
    await http.close();
    throw err;
  }
}

export async function startNode(cfg: Config, opts: StartOptions = {}): Promise<NodeHandle> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? createLogger(cfg.nodeId, cfg.logLevel);
  const metrics = opts.metrics ?? createMetrics({ defaultMetrics: true });
  const s = subjects(cfg.prefix);
  let onConnection: (up: boolean) => void = () => {};
  // What a dropped link may have lost: written since the last confirmed round trip (runtime/publish-confirm.ts).
  let onLinkDropped: () => void = () => {};
  // After a reconnect every held shard's spec watch starts again (ShardSpecs.restartAll), once the
  // link has stayed up a while (runtime/reconnect-settle.ts: not on every reconnect of a storm).
  let restartSpecWatches: () => void = () => {};
  const reconnects = new ReconnectSettle(() => restartSpecWatches());
  let linkLost = false;
  let connected = false;
  // The node tells its view by message; /readyz reads the latest one it was told.
  let view: ClusterView | null = null;
  const checkGauges = cfg.checkMetrics === 'on' ? new CheckGauges() : undefined;
  // The checks whose status this node decides, by verdict: in its heartbeat and on /metrics.
  const verdictTally = new VerdictTally(clock);
  verdictTally.register(metrics.registry);
  // Before NATS: /healthz answers (and /readyz says why not ready) while the node still connects.
  const http = await startHttpEndpoints(
    cfg.httpHost,
    cfg.httpPort,
    metrics.registry,
    { natsConnected: () => connected, assigned: () => (view as ClusterView | null)?.assignment != null },
    () => checkGauges?.render() ?? null,
  );
  log.info({ event: 'http_listening', port: http.port, host: cfg.httpHost, statusPage: cfg.statusPage }, `http endpoints listening (/metrics, /healthz, /readyz${cfg.statusPage === 'on' ? ', and the status page at / once connected' : ''})`);
  // A pause (the process stopped, or cut off from NATS) past the threshold goes to the node's pause guard.
  let onPause: (e: { gapMs: number; source: PauseSource }) => void = () => {};
  // Time cut off from NATS: push checks hear no reports then, so it does not count against their jobs.
  const outage = new LinkOutage(clock);
  const pauses = new PauseDetector(clock, pauseThresholdMs(cfg.deadAfterMs, cfg.heartbeatMs), staleDetectMs(cfg.natsPingMs), (e) => onPause(e));
  const nc = await connectNats(
    cfg,
    `lookout-${cfg.nodeId}`,
    log.child({ actor: 'nats' }),
    (state) => {
      connected = state === 'connected';
      metrics.natsConnected.set(connected ? 1 : 0);
      if (state === 'connected' || state === 'disconnected') outage.note(connected);
      if (state === 'connected' || state === 'disconnected') onConnection(connected);
      if (state === 'disconnected') {
        linkLost = true;
        onLinkDropped();
        reconnects.disconnected();
      }
      if (state === 'connected' && linkLost) {
        linkLost = false;
        onLinkDropped(); // what was written while it was down: nats.js empties its buffer at each reconnect attempt
        reconnects.reconnected();
      }
      if (state === 'disconnected') pauses.linkDown();
      if (state === 'connected') pauses.linkUp();
    },
    { inboxPrefix: nodeInboxPrefix(cfg.prefix), pingMs: cfg.natsPingMs, onStale: () => pauses.linkStale() },
  );
  const bus = natsBus(nc);
  const instance = newInstanceId();
  const { kv, jsm, cluster } = await closeOnError(nc, http, async () => {
    // Refuse to start when another process runs with this node id (it answers the claim). Nobody
    // there answers at once (no responders); a holder gets as long as the cluster would wait before
    // holding it dead (one heartbeat, 100 ms in the test profile, was too short for a holder busy
    // loading its shards: the newcomer started beside it).
    await claimNodeId(bus, s, cfg.nodeId, instance, cfg.deadAfterMs);
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

  // The node's own lag: judges probes that failed while it stalled, and says when it is overloaded.
  const load = new LoadMonitor(clock, { lagMs: cfg.overloadLagMs, holdMs: cfg.overloadHoldMs }, metrics.load, log.child({ actor: 'load' }));
  // The deadlines of the push checks this node owns: a push check's probe evaluates them (app/node-push.ts).
  const push = pushRegistry({ cfg, clock, stallMs: () => load.stallMs() + outage.totalMs(), metrics, log: log.child({ actor: 'push' }) });
  // Probes may not reach this node's own HTTP port or its NATS servers (known now that both are up).
  const probing = await startProbing(cfg, http.port, nc.getServers(), metrics, log, push);
  const { probe } = probing;
  const stopPushIntake = startPushIntake(push, { bus, subjects: s, http, connected: () => connected, cfg, clock, log });

  if (cfg.handoverMs !== undefined) log.warn({ event: 'setting_deprecated', setting: 'LOOKOUT_HANDOVER_MS' }, 'LOOKOUT_HANDOVER_MS is deprecated and ignored: shards change hands by message');
  const queue = new TimerQueue(clock, undefined, cfg.timerGrainMs);
  // Last messages of a subject (resume lookups: ~86k at a start of 100k checks) on the node's inbox.
  const gets = new DirectGets(nc, nodeInboxPrefix(cfg.prefix));
  // A check's records beside its spec: resume states, verdict changes, rollups (dropped with it).
  const records = nodeRecords({ jsm, gets, bus, subjects: s, cfg, clock, log });
  const { resume: resumeRecords, history: checkHistory, rollupRecords, fineRollupRecords, rollups } = records;
  const resumeBase = s.resumeWildcard().slice(0, -1); // `<prefix>._resume.`
  // On waking, the queue's own timer may fire before the detector's next tick: it holds itself first.
  queue.watchLateness(pauses.thresholdMs, (lateMs) => pauses.report(lateMs, PauseSource.timer));
  const gatedPrefixes = { result: s.result(''), status: s.status(''), resume: resumeBase };
  const drops = publishDrops({ metrics, log, clock });
  const publisher = new PublishBatcher({
    windowMs: cfg.publishBatchMs,
    gateOpen: () => !queue.isHeld && !pauses.cutOff() && !pauses.overdue(),
    onDropped: (dropped) => drops.note(dropped),
    clock,
    send: (subject, data) => {
      confirming.sent(subject);
      nc.publish(subject, data);
    },
  });
  const confirming = startPublishConfirm({ flush: () => nc.flush(), prefixes: gatedPrefixes, metrics, log });
  onLinkDropped = () => confirming.linkDropped();
  const confirm = confirmAsker({ bus, subjects: s, nodeId: cfg.nodeId, peers: () => (view as ClusterView | null)?.members ?? [], perSecond: cfg.confirmPerSecond, clock });
  // This node holds the specs of the shards it serves only; the API reads any id (app/node-specs.ts).
  // Its loads go out on a link of their own (runtime/bulk-link.ts), opened on first use.
  const bulkLink = new BulkLink(
    () => bulkConnection(cfg, `lookout-${cfg.nodeId}-bulk`, nodeInboxPrefix(cfg.prefix)),
    async (bnc) => {
      const bjs = jetstream(bnc, { timeout: BULK_API_TIMEOUT_MS });
      return { kv: await new Kvm(bjs).open(s.bucket('specs')), jsm: await bjs.jetstreamManager() };
    },
    log.child({ actor: 'specs' }),
  );
  const specs = startNodeSpecs({
    kv,
    jsm,
    bucket: s.bucket('specs'),
    shards: cfg.shards,
    metrics,
    log,
    onDeleted: records.drop,
    view: () => view,
    groupLabel: cfg.panicGroupLabel,
    bulk: () => bulkLink.parts(),
  });
  // Self-quarantine (protocol/quarantine.ts): a node whose probes disagree with the others' takes itself out.
  const canaries = canarySpecs(cfg.canaries, cfg.canaryIntervalMs);
  const quarantine = startQuarantineGuard({
    bus,
    subjects: s,
    clock,
    cfg: quarantineSettings(cfg),
    canaries,
    canaryIntervalMs: cfg.canaryIntervalMs,
    probe,
    confirm,
    specOf: specs.heldSpec,
    vantageRecord: (id, rank) => resumeRecords.lastSeen(id, rank),
    refused: () => (view as ClusterView | null)?.assignment?.quarantineRefused?.includes(cfg.nodeId) === true,
    nodeId: cfg.nodeId,
    metrics,
    log: log.child({ actor: 'quarantine' }),
  });
  const ports: RunnerPorts = {
    clock,
    queue,
    probe,
    // While the pause guard holds the queue, only probes that spanned the pause finish: their outcome
    // measures the pause, not the target, and would go out under a map we may no longer follow. Only
    // results and status changes are held back: a handover release must still reach the new owner.
    // A vantage's resume record goes with its result (dropped too, uncounted: the result is counted).
    // So are they while the link has been down past the pause threshold (pauses.cutOff): they would go
    // out late, after others may have taken the checks over, and could share a seq with theirs.
    // And before the pause is noticed at all: a probe that finished while the process was stopped
    // reports on waking before the detector's tick has run (pauses.overdue). The gate is asked when
    // a result is produced and again when its batch is written (runtime/publish-batcher.ts).
    // A status saying down goes with a notice to every node's panic guard (they hear no other status).
    publish: (subject, msg, onDropped) => {
      const kind = publishKind(subject, gatedPrefixes);
      publisher.publish(subject, msg, kind, onDropped);
      const down = kind === PublishKind.status ? downNoticeOf(msg) : null;
      if (down !== null) publisher.publish(s.panicDowns(), down, PublishKind.down);
    },
    bus,
    instance,
    claimWaitMs: cfg.claimWaitMs,
    // A holder taken over may have published unseen until the others held it dead, and (a frozen
    // link) until it noticed its own dead link.
    takeoverUnseenMs: cfg.deadAfterMs + staleDetectMs(cfg.natsPingMs),
    history: streamResultHistory(jsm, s, resumeRecords, { answered: (sec) => metrics.resumeLookupSeconds.observe(sec), outstanding: (n) => metrics.resumeLookupsPending.set(n) }, undefined, gets),
    canPublishVerdicts: () => !queue.isHeld && !pauses.cutOff() && !quarantine.holdsVerdicts(),
    quorumRecords: { last: (id, done) => void resumeRecords.lastQuorum(id).then((r) => done(null, r), (err: unknown) => done(err, null)) },
    subjects: s,
    metrics,
    log,
    nodeId: cfg.nodeId,
    jitterMs: cfg.jitterMs,
    random: Math.random,
    graceMs: cfg.shutdownGraceMs,
    release: probing.release,
    catchUps: new CatchUpPacer(cfg.catchUpPerSecond),
    clockOffsets: new ClockOffsets(cfg.nodeId, CLOCK_WINDOW, CLOCK_MIN_SAMPLES, cfg.suspectAfterMs),
    load,
    // Before a single-vantage check goes down, another live node probes it once (protocol/confirm.ts).
    // While the fleet (or a check's group) is in panic (too many downs at once), new downs are held (protocol/panic.ts, panic-groups.ts).
    panicking: (group) => services.panicking(group),
    panicGroupLabel: cfg.panicGroupLabel,
    confirm,
    quarantine,
    // A moved holder probes on while the new owner lives and has not claimed (it loads specs first).
    peerAlive: (node) => view?.members.some((m) => m.node === node && m.state === 'alive') === true,
    // A claimant held dead or still starting after a restart is answered `held` (protocol/takeover.ts).
    heldDead: (node) => view?.members.some((m) => m.node === node && heldDead(m)) === true,
    // A holder only seeded from a stored map (gone before this process started) is taken over, not held dead.
    peerHeard: (node) => view?.members.some((m) => m.node === node && m.instance !== '') === true,
    // A probe started while the link has been down past the pause threshold publishes nothing, even
    // if it finishes after the link is back (the others may have taken its check over). Only then: a
    // probe started on waking from a stall (the gate closed until the pause is noticed) measured the
    // target, and dropping it would drop its verdict change for good (a loaded solo run: 1999 of 2000 up).
    publishGate: { cutOff: () => pauses.cutOff(), dropped: (kind) => drops.note({ result: kind === 'result' ? 1 : 0, status: kind === 'status' ? 1 : 0 }) },
    push,
    ...(checkGauges ? { checkGauges } : {}),
    verdictTally,
    ...(rollups ? { rollups } : {}),
  };
  const services = startNodeServices({ cfg, bus, subjects: s, checkHistory, rollupRecords, fineRollupRecords, clock, metrics, log, specs, canaries, probe, load, quarantine, view: () => view, http });
  // Notifications (LOOKOUT_NOTIFY): the notifier API and this node's share of routing and webhook calls.
  const notify = await closeOnError(nc, http, () => startNodeNotify({ cfg, nc, jsm, bus, subjects: s, specOf: (id) => specs.store.get(id), policy: probing.targetPolicy, clock, metrics, log }));
  const actor = createActor(nodeMachine, {
    input: {
      bus,
      instance,
      store: specs.store,
      specs: specs.holder,
      specTotal: specs.total,
      leaseStore: leaseStore(cluster.lease),
      assignmentStore: assignmentStore(cluster.assignment, (raw) => parseAssignment(raw, cfg.shards)),
      ports,
      maxSpecBytes: cfg.maxSpecBytes,
      maxSpecs: cfg.maxSpecs,
      api: { ratePerSec: cfg.apiRate, burst: cfg.apiBurst, maxPending: cfg.apiMaxPending },
      targetPolicy: probing.targetPolicy,
      cluster: clusterSettings(cfg),
      flush: () => nc.flush(),
      pauseUnnoticed: () => pauses.noticeNow(),
    },
    clock,
  });
  onConnection = (up) => actor.send({ type: 'CONNECTION', up });
  restartSpecWatches = () => specs.holder.restartAll();
  specs.tellTo((e) => actor.send(e));
  actor.on('view', (e) => {
    view = e.view;
    specs.noteView(e.view);
  });
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
  // The queue is held here, synchronously, not only when the guard takes the event: a pause noticed
  // while the node applies a map (pauseUnnoticed) must stop overdue slots before the queue re-arms.
  onPause = (e) => {
    queue.hold();
    actor.send({ type: 'PAUSED', ...e });
  };
  pauses.start();
  load.start();
  rollups?.start();

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      if (actor.getSnapshot().status === 'active') actor.send({ type: 'SHUTDOWN' });
      await ended;
      services.stop();
      stopPushIntake();
      await notify.stop();
      reconnects.stop();
      const watchesSettled = specs.stop();
      quarantine.stop();
      publisher.stop(); // the runners' last results, before the connection drains
      drops.stop();
      confirming.stop();
      rollups?.stop(); // the partial period's counts, too
      pauses.stop();
      load.stop();
      queue.stop();
      gets.close(); // lookups still waiting are rejected (their checks have stopped)
      await probing.close();
      await http.close();
      await settledWithin(watchesSettled, WATCH_SETTLE_MS);
      await bulkLink.close();
      await nc.drain().catch((err: unknown) => log.warn({ event: 'nats_drain_failed', err }, 'NATS drain failed'));
      log.info({ event: 'shutdown_complete' }, 'shutdown complete');
    })());

  return { nodeId: cfg.nodeId, nc, metrics, log, actor, instance, ended, httpPort: http.port, stop };
}
