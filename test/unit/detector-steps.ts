// Steps for the failure detector's unit tests (failure-detector.test.ts, shared-silence.test.ts):
// a config, heartbeats, and a clock that ticks the detector every 100 ms as the membership actor does.

import type { FailureDetector } from '../../protocol/failure-detector';
import type { Heartbeat } from '../../protocol/records';

export const cfg = { suspectAfterMs: 1500, deadAfterMs: 3500 };
export const hb = (node: string, seq: number, extra: Partial<Heartbeat> = {}): Heartbeat => ({
  node, instance: `${node}-i1`, startedAt: 100, incarnation: 0, seq, version: '0.1.0', shards: 0, checks: 0, leaving: false, ...extra,
});

/** Step a detector through time, ticking every 100 ms like the membership actor does. */
export function stepper(d: FailureDetector) {
  let now = 0;
  const log: string[] = [];
  return {
    log,
    get now() {
      return now;
    },
    until(t: number, beat?: () => void) {
      while (now < t) {
        now += 100;
        beat?.();
        for (const c of d.tick(now)) log.push(`${now} ${c.node} ${c.from}→${c.to}`);
      }
    },
  };
}
