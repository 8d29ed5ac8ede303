// What a node answers and guards for the whole cluster, beside probing its own checks, wired:
//   - the panic guard (protocol/panic.ts): too many downs at once fleet-wide → new downs held;
//   - the confirm responder (protocol/confirm.ts): another node asks it to probe a failing check
//     once — a check of a shard it does not hold is read from the bucket by id, paced;
//   - the state API (runtime/state-api.ts): a check's state, uptime and history for anyone;
//   - the status page (runtime/status-page.ts, LOOKOUT_STATUS_PAGE): mounted on the HTTP endpoints.

import type { NormalizedSpec } from '../checks/spec';
import type { ClusterView } from '../protocol/cluster-view';
import type { Bus } from '../runtime/bus';
import type { Clock } from '../runtime/clock';
import type { Config } from '../runtime/config';
import { startConfirmResponder } from '../runtime/confirm-bus';
import type { LoadMonitor } from '../runtime/load-monitor';
import type { Logger } from '../runtime/logger';
import type { Metrics } from '../runtime/metrics';
import { startPanicGuard } from '../runtime/panic-guard';
import type { QuarantineGuard } from '../runtime/quarantine-guard';
import { startStateApi } from '../runtime/state-api';
import { startStatusPage } from '../runtime/status-page';
import type { HttpEndpoints } from '../runtime/http-endpoints';
import type { Subjects } from '../runtime/subjects';
import type { CheckHistory } from '../runtime/transition-store';
import type { RollupRecords } from '../runtime/rollup-store';
import type { NodeSpecs } from './node-specs';
import type { ProbeFn } from '../checks/probe';

export interface NodeServicesOptions {
  cfg: Config;
  bus: Bus;
  subjects: Subjects;
  checkHistory: CheckHistory;
  rollupRecords: RollupRecords;
  fineRollupRecords: RollupRecords;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
  specs: NodeSpecs;
  canaries: readonly NormalizedSpec[];
  probe: ProbeFn;
  load: LoadMonitor;
  quarantine: QuarantineGuard;
  /** The node's latest view. */
  view(): ClusterView | null;
  /** Where the status page is mounted. */
  http: Pick<HttpEndpoints, 'mount'>;
}

export interface NodeServices {
  /** The fleet, or `group`, is in panic: new downs are held. */
  panicking(group?: string): boolean;
  stop(): void;
}

export function startNodeServices(o: NodeServicesOptions): NodeServices {
  const { cfg, bus, subjects: s, clock, metrics, log, specs } = o;
  const panic = startPanicGuard({
    bus,
    subjects: s,
    clock,
    cfg: { fraction: cfg.panicPercent / 100, minDowns: cfg.panicMinDowns, windowMs: cfg.panicWindowMs, holdMs: cfg.panicHoldMs },
    checks: () => specs.total(),
    ...(cfg.panicGroupLabel !== '' ? { groupSizes: () => specs.groupSizes() } : {}),
    leading: () => o.view()?.leading === true,
    nodeId: cfg.nodeId,
    metrics,
    log: log.child({ actor: 'panic' }),
  });
  const stopConfirming = startConfirmResponder({
    bus,
    subjects: s,
    nodeId: cfg.nodeId,
    specOf: (id) => specs.heldSpec(id) ?? o.canaries.find((c) => c.id === id),
    fetchSpec: specs.fetchSpec,
    probe: o.probe,
    load: o.load,
    quarantined: () => o.quarantine.quarantined(),
    perSecond: cfg.confirmPerSecond,
    clock,
    metrics,
    log: log.child({ actor: 'confirm' }),
  });
  const stopStateApi = startStateApi({
    bus,
    subjects: s,
    history: o.checkHistory,
    rollups: o.rollupRecords,
    fineRollups: o.fineRollupRecords,
    fineMaxAgeMs: cfg.rollupFinePeriodMs > 0 ? cfg.rollupsFineMaxAgeMs : 0,
    specs: specs.store,
    clock,
    transitionsMaxAgeMs: cfg.transitionsMaxAgeMs,
    log: log.child({ actor: 'state-api' }),
  });
  const page =
    cfg.statusPage === 'on'
      ? startStatusPage({
          bus,
          subjects: s,
          clock,
          log: log.child({ actor: 'status-page' }),
          events: { onClients: (n) => metrics.statusPageClients.set(n), onDropped: (why) => metrics.statusPageDropped.inc({ why }) },
        })
      : null;
  if (page) o.http.mount(page.route);
  return {
    panicking: (group) => panic.panicking(group),
    stop: () => {
      page?.stop();
      stopConfirming();
      stopStateApi();
      panic.stop();
    },
  };
}
