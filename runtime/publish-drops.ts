// What a node says of the results and status changes its publish gate dropped (probes that spanned
// a pause or a cut link; runtime/publish-batcher.ts): `lookout_pause_dropped_total{type}` at once,
// and `publishes_dropped` — the first drop after a quiet spell at once, then at most one line per
// DROP_LOG_MS with the sum of what was dropped meanwhile. A message produced while the gate is
// closed is dropped on its own, so a pause on a node running ~100k checks dropped them one line at
// a time: at 1M checks / 60 s (BENCHMARKS.md §16) one start logged 15,852 such lines in 20 s.
// Down notices (PublishKind.down) go with their status change and are counted there.

import type { DropCounts } from '../protocol/publish-batch';
import { PublishKind } from '../protocol/publish-batch';
import type { Clock, TimerHandle } from './clock';
import type { Logger } from './logger';
import type { Metrics } from './metrics';

/** At most one `publishes_dropped` line per this many ms (its counts: everything dropped since the last). */
export const DROP_LOG_MS = 1000;

export interface PublishDrops {
  /** Count what was dropped (a batch, or one message). */
  note(dropped: Pick<DropCounts, 'result' | 'status'>): void;
  /** Write what is not logged yet (the node stops). */
  stop(): void;
}

export function publishDrops(o: { metrics: Pick<Metrics, 'pauseDropped'>; log: Logger; clock: Clock }): PublishDrops {
  let results = 0;
  let statuses = 0;
  let timer: TimerHandle | null = null;
  const write = () => {
    if (results === 0 && statuses === 0) return false;
    o.log.warn({ event: 'publishes_dropped', results, statuses }, 'results of probes that spanned a pause (or a cut link) dropped: they would go out under a map this node may no longer follow');
    results = 0;
    statuses = 0;
    return true;
  };
  // Write what came since the last line; while drops keep coming, look again after DROP_LOG_MS.
  const flush = () => {
    timer = write() ? o.clock.setTimeout(flush, DROP_LOG_MS) : null;
  };
  return {
    note(dropped) {
      if (dropped.result > 0) o.metrics.pauseDropped.inc({ type: PublishKind.result }, dropped.result);
      if (dropped.status > 0) o.metrics.pauseDropped.inc({ type: PublishKind.status }, dropped.status);
      if (dropped.result === 0 && dropped.status === 0) return;
      results += dropped.result;
      statuses += dropped.status;
      if (timer === null) flush(); // the first after a quiet spell: at once
    },
    stop() {
      if (timer !== null) o.clock.clearTimeout(timer);
      timer = null;
      write();
    },
  };
}
