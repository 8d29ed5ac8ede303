// What a node keeps of each check beside its spec, wired: each vantage's resume state (replicas
// > 1) and the check's combined verdict (runtime/resume-store.ts), its verdict changes
// (runtime/transition-store.ts), its per-period rollups, hourly and fine (runtime/rollup-store.ts,
// written by the node's RollupRecorder for LOOKOUT_ROLLUP_PERIOD_MS and LOOKOUT_ROLLUP_FINE_PERIOD_MS
// when > 0) — and dropping all of them when the check is deleted.

import type { JetStreamManager } from '@nats-io/jetstream';
import type { Bus } from '../runtime/bus';
import type { Clock } from '../runtime/clock';
import type { Config } from '../runtime/config';
import type { Logger } from '../runtime/logger';
import type { LastMessages } from '../runtime/direct-get';
import { streamResumeRecords, type ResumeRecords } from '../runtime/resume-store';
import { rollupGrains, RollupRecorder } from '../runtime/rollup-recorder';
import { coarseRollups, fineRollups, streamRollupRecords, type RollupRecords } from '../runtime/rollup-store';
import type { Subjects } from '../runtime/subjects';
import { streamCheckHistory, type CheckHistory } from '../runtime/transition-store';

export interface NodeRecords {
  resume: ResumeRecords;
  history: CheckHistory;
  rollupRecords: RollupRecords;
  /** The fine grain's records (LOOKOUT_ROLLUP_FINE_PERIOD_MS). */
  fineRollupRecords: RollupRecords;
  /** The recorder of this node's probes into rollups (null: rollups off). */
  rollups: RollupRecorder | null;
  /** Drop a deleted check's records (a failure is logged: they expire with their stream's age limit). */
  drop(id: string): Promise<void>;
}

export function nodeRecords(o: { jsm: JetStreamManager; gets: LastMessages; bus: Bus; subjects: Subjects; cfg: Config; clock: Clock; log: Logger }): NodeRecords {
  const { jsm, subjects: s, cfg, log } = o;
  const resume = streamResumeRecords(jsm, s, o.gets);
  const history = streamCheckHistory(jsm, s, cfg.transitionsPerCheck);
  const rollupRecords = streamRollupRecords(jsm, coarseRollups(s), cfg.rollupsPerCheck);
  const fineRollupRecords = streamRollupRecords(jsm, fineRollups(s), cfg.rollupsFinePerCheck);
  const grains = rollupGrains(s, cfg.rollupPeriodMs, cfg.rollupFinePeriodMs);
  const rollups = grains.length > 0 ? new RollupRecorder({ bus: o.bus, clock: o.clock, nodeId: cfg.nodeId, grains, log: log.child({ actor: 'rollups' }) }) : null;
  const drop = async (id: string): Promise<void> => {
    const purged = await Promise.allSettled([resume.purge(id), history.purge(id), rollupRecords.purge(id), fineRollupRecords.purge(id)]);
    const err = purged.find((p): p is PromiseRejectedResult => p.status === 'rejected')?.reason;
    if (err) log.warn({ event: 'records_purge_failed', check: id, err }, "could not drop some of the deleted check's records (they expire with their stream's age limit)");
  };
  return { resume, history, rollupRecords, fineRollupRecords, rollups, drop };
}
