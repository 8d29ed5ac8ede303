// Clock watch: the membership actor's side of clock offsets. It hands each peer heartbeat's
// `sentAt` and the local receipt time to the pure estimator (protocol/clock-offset.ts) and, on
// every membership tick, sets the gauges (lookout_clock_offset_seconds{peer},
// lookout_clock_skew_seconds) and logs the crossings of LOOKOUT_CLOCK_SKEW_WARN_MS:
//
//   clock_skew          warn  a node's clock is past the bound from the members' median
//   clock_skew_cleared  info  it is back within SKEW_CLEAR_RATIO of the bound
//
// fields: peer (the node whose clock is off: this node itself when it is the one), offsetMs (its
// clock minus this node's), skewMs (minus the median), uncertaintyMs, boundMs.
//
// The report it returns goes out with MEMBERS into the node's cluster view, for cluster.status.
// Display and alerting only: nothing here feeds a decision.

import { CLOCK_MIN_SAMPLES, CLOCK_WINDOW, ClockOffsets, type ClockReport } from '../protocol/clock-offset';
import type { Heartbeat } from '../protocol/records';
import type { Logger } from '../runtime/logger';
import type { Metrics } from '../runtime/metrics';

/** The two gauges the watch sets (a narrow port over runtime/metrics.ts). */
export type ClockGauges = Pick<Metrics, 'clockOffset' | 'clockSkew'>;

export interface ClockWatchInput {
  node: string;
  boundMs: number;
  /** No judgement before this node has listened this long (the suspicion time: every live peer heard). */
  settleMs: number;
  log: Logger;
  gauges: ClockGauges;
  /** The estimates to keep (shared with whoever reads them, e.g. the check runners); a book of its own when absent. */
  offsets?: ClockOffsets;
}

export interface ClockWatch {
  /** A peer's heartbeat, received at `recvAt` (this node's wall clock). */
  heard(hb: Heartbeat, recvAt: number): void;
  /** Members the failure detector forgot: their estimates and gauge series go. */
  forget(nodes: readonly string[]): void;
  /** Every tick (`now`: monotonic ms): the report over the `live` members, gauges set, crossings logged. */
  tick(live: readonly string[], now: number): ClockReport;
}

const secs = (ms: number) => ms / 1000;

export function clockWatch(input: ClockWatchInput): ClockWatch {
  const { node, boundMs, gauges, log } = input;
  const offsets = input.offsets ?? new ClockOffsets(node, CLOCK_WINDOW, CLOCK_MIN_SAMPLES, input.settleMs);
  return {
    heard(hb, recvAt) {
      offsets.sample(hb.node, hb.instance, hb.sentAt, recvAt);
    },
    forget(nodes) {
      for (const peer of nodes) {
        offsets.forget(peer);
        gauges.clockOffset.remove({ peer });
      }
    },
    tick(live, now) {
      const report = offsets.report(live, boundMs, now);
      for (const [peer, c] of report.nodes) if (peer !== node) gauges.clockOffset.set({ peer }, secs(c.offsetMs));
      gauges.clockSkew.set(secs(report.nodes.get(node)?.skewMs ?? 0));
      for (const ch of offsets.judge(report)) {
        const fields = { peer: ch.node, offsetMs: Math.round(ch.offsetMs), skewMs: Math.round(ch.skewMs), uncertaintyMs: Math.round(ch.uncertaintyMs), boundMs };
        const who = ch.node === node ? 'this node' : ch.node;
        if (ch.to === 'skewed') log.warn({ event: 'clock_skew', ...fields }, `the clock of ${who} is ${fields.skewMs} ms off the members' median (bound ${boundMs} ms)`);
        else log.info({ event: 'clock_skew_cleared', ...fields }, `the clock of ${who} is back within ${boundMs} ms of the members' median`);
      }
      return report;
    },
  };
}
