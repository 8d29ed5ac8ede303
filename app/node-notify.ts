// Notifications on one node, wired (LOOKOUT_NOTIFY=on; README, Notifications): the jobs and
// dead-letter streams and the two shared consumers (runtime/notify-streams.ts), the notifier
// bucket and this node's copy of it (runtime/notifier-store.ts), the notifier API
// (runtime/notify-api.ts), and this node's share of routing (runtime/notify-router.ts) and of
// calling webhooks (runtime/notify-deliverer.ts, runtime/webhook.ts: under the node's address
// policy). Routing starts only once the copy of the bucket is loaded: a change routed against an
// empty copy would be acked with no job made.

import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import type { AddressPolicy } from '../checks/address-policy';
import { statusViewOf, type StatusView } from '../protocol/notify-match';
import type { Bus } from '../runtime/bus';
import type { Clock } from '../runtime/clock';
import type { Config } from '../runtime/config';
import type { Logger } from '../runtime/logger';
import type { Metrics } from '../runtime/metrics';
import { whenJetStreamReady } from '../runtime/jetstream-ready';
import { startNotifyApi } from '../runtime/notify-api';
import { notifyDeliverer } from '../runtime/notify-deliverer';
import { notifyRouter } from '../runtime/notify-router';
import { ensureNotifyStreams } from '../runtime/notify-streams';
import { kvNotifierStore, openNotifierBucket, watchNotifiers } from '../runtime/notifier-store';
import { startPullWorkers, type PullWorkers } from '../runtime/pull-workers';
import type { StoredSpec } from '../runtime/store';
import type { Subjects } from '../runtime/subjects';
import { VERSION } from '../runtime/version';
import { callWebhook } from '../runtime/webhook';

/** Workers pulling verdict changes to route (routing is quick: a KV read and a few publishes). */
const ROUTE_WORKERS = 2;
/**
 * Verdict changes one route pull asks for: a pull per change was ~11% of a node's busy time while every
 * check's first verdict came (1,667 per second over 10 nodes: BENCHMARKS.md §16). They are routed
 * one after another while the last one's ack wait runs, so one per second of the ack wait
 * (LOOKOUT_NOTIFY_ACK_WAIT_MS; routing one takes milliseconds), at most ROUTE_BATCH_MAX.
 */
const ROUTE_BATCH_MAX = 32;
export const routeBatch = (ackWaitMs: number): number => Math.max(1, Math.min(ROUTE_BATCH_MAX, Math.floor(ackWaitMs / 1000)));

export interface NodeNotifyOptions {
  cfg: Config;
  nc: NatsConnection;
  jsm: JetStreamManager;
  bus: Bus;
  subjects: Subjects;
  /** A check's stored spec (its labels route changes). */
  specOf(id: string): Promise<StoredSpec | null>;
  policy: AddressPolicy;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
}

export interface NodeNotify {
  stop(): Promise<void>;
}

export async function startNodeNotify(o: NodeNotifyOptions): Promise<NodeNotify> {
  const { cfg, nc, jsm, subjects: s, clock, metrics } = o;
  if (cfg.notify === 'off') return { stop: async () => {} };
  const log = o.log.child({ actor: 'notify' });
  // Like the node's other stores: a JetStream still electing its leaders (a fresh 3-server cluster)
  // times out here, a reason to wait, not to exit (runtime/jetstream-ready.ts).
  const { kv, cache } = await whenJetStreamReady(
    async () => {
      await ensureNotifyStreams(jsm, s, cfg);
      const kv = await openNotifierBucket(nc, jsm, s, cfg);
      return { kv, cache: await watchNotifiers(kv, log) };
    },
    log,
    (ms) => new Promise((r) => clock.setTimeout(r, ms)),
  );
  const store = kvNotifierStore(kv, jsm, s.bucket('notifiers'));
  const stopApi = startNotifyApi({ bus: o.bus, subjects: s, store, cache, policy: o.policy, maxNotifiers: cfg.maxNotifiers, clock, log, onAnswer: (op, outcome) => metrics.notify.requests.inc({ op, outcome }) });
  const js = jetstream(nc);
  const stopping = new AbortController();
  const latestStatus = async (id: string): Promise<StatusView | null> => {
    const m = await jsm.direct.getMessage(s.transitionStream(), { last_by_subj: s.status(id) });
    return m ? statusViewOf(m.json()) : null;
  };
  metrics.notify.pendingFrom(async () => {
    const info = await jsm.consumers.info(s.notifyJobStream(), s.notifyConsumer('deliver'));
    return info.num_pending + info.num_ack_pending;
  });
  let workers: PullWorkers[] = [];
  let stopped = false;
  void cache.ready.then(() => {
    if (stopped) return;
    workers = [
      startPullWorkers({
        name: 'route',
        workers: ROUTE_WORKERS,
        batch: routeBatch(cfg.notifyAckWaitMs),
        consumer: () => js.consumers.get(s.transitionStream(), s.notifyConsumer('route')),
        handle: notifyRouter({ js, subjects: s, cache, labelsOf: async (id) => (await o.specOf(id))?.spec.labels, metrics: metrics.notify, log }),
        clock,
        log,
      }),
      startPullWorkers({
        name: 'deliver',
        workers: cfg.notifyConcurrency,
        consumer: () => js.consumers.get(s.notifyJobStream(), s.notifyConsumer('deliver')),
        handle: notifyDeliverer({
          js,
          subjects: s,
          cache,
          latestStatus,
          call: (c) => callWebhook(c, { policy: o.policy }),
          nodeId: cfg.nodeId,
          userAgent: `lookout/${VERSION} (node ${cfg.nodeId})`,
          ackWaitMs: cfg.notifyAckWaitMs,
          stopping: stopping.signal,
          clock,
          metrics: metrics.notify,
          log,
        }),
        clock,
        log,
      }),
    ];
    log.info({ event: 'notify_started', notifiers: cache.size(), concurrency: cfg.notifyConcurrency, ackWaitMs: cfg.notifyAckWaitMs }, 'routing verdict changes and calling webhooks');
  });
  return {
    async stop() {
      stopped = true;
      stopping.abort();
      stopApi();
      await Promise.all(workers.map((w) => w.stop()));
      cache.stop();
    },
  };
}
