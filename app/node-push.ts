// Push checks on a node, wired (README, *Push checks*): the registry of the deadlines this node owns
// (runtime/push-registry.ts; runners own and release them through RunnerPorts.push), the one
// subscription to `<prefix>.push.>` that feeds it, and the HTTP push endpoint on the node's HTTP
// port (runtime/push-http.ts), which publishes on that subject so the owner hears it wherever it runs.

import type { Bus } from '../runtime/bus';
import type { Clock } from '../runtime/clock';
import type { Config } from '../runtime/config';
import type { HttpEndpoints } from '../runtime/http-endpoints';
import type { Logger } from '../runtime/logger';
import type { Metrics } from '../runtime/metrics';
import { pushRoute } from '../runtime/push-http';
import { PushRegistry } from '../runtime/push-registry';
import type { Subjects } from '../runtime/subjects';

export interface NodePushDeps {
  cfg: Pick<Config, 'pushMaxBytes' | 'pushPerSecond'>;
  clock: Clock;
  /** Time this node could not hear reports, in all: its event-loop stall (runtime/load-monitor.ts) and its NATS outages (runtime/link-outage.ts). */
  stallMs: () => number;
  metrics: Metrics;
  log: Logger;
}

/** The registry first (the probe environment and the runners need it before NATS traffic starts). */
export function pushRegistry(d: NodePushDeps): PushRegistry {
  let refusalsLogged = 0;
  return new PushRegistry({
    clock: d.clock,
    stallMs: d.stallMs,
    maxBytes: d.cfg.pushMaxBytes,
    perSecond: d.cfg.pushPerSecond,
    onReport: (outcome, id, signal) => {
      d.metrics.pushReports.inc({ outcome });
      if (outcome === 'accepted') d.log.debug({ event: 'push_report', check: id, signal }, 'push report');
      // A wrong token is someone trying to keep a check up, or a misconfigured job: the first few are worth a line.
      else if (outcome === 'bad_token' && refusalsLogged++ < 10) d.log.warn({ event: 'push_report_bad_token', check: id }, 'a push report without the check\'s token was ignored');
    },
    onOwned: (n) => d.metrics.pushOwned.set(n),
  });
}

/** Listen on `<prefix>.push.>` and serve /push/<id> (once NATS is up). Returns the unsubscribe. */
export function startPushIntake(registry: PushRegistry, o: { bus: Bus; subjects: Subjects; http: HttpEndpoints; connected: () => boolean; cfg: NodePushDeps['cfg']; clock: Clock; log: Logger }): () => void {
  const unsubscribe = o.bus.subscribe(
    o.subjects.pushWildcard(),
    (m) => {
      const id = o.subjects.pushIdOf(m.subject);
      if (id !== null) registry.receive(id, m.data);
    },
    { onError: (err) => o.log.warn({ event: 'push_subscribe_failed', err }, 'the push subscription failed: push checks hear no NATS reports on this node') },
  );
  o.http.mount(
    pushRoute({ bus: o.bus, subjects: o.subjects, maxBytes: o.cfg.pushMaxBytes, perSecond: o.cfg.pushPerSecond, monotonic: () => o.clock.monotonic(), connected: o.connected }),
    { post: true },
  );
  return unsubscribe;
}
