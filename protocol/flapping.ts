// Flap damping (issue 15): is a check's recent run of results changing so often that each change
// is noise? Nagios/Sensu flap detection, pure.
//
//   window   the last FLAP_WINDOW (21) results of the verdict history ('1' pass, '0' fail; the
//            same history verdict.ts keeps and every result, release and resume record carries):
//            20 places where a result can differ from the one before it.
//   weights  the change between results i-1 and i (i = 1 for the oldest pair … 20 for the newest)
//            weighs 0.75 + (i − 1) × 0.5 / 19: the oldest 0.75, the newest 1.25 (Nagios'
//            `low_curve_value` / `high_curve_value`), so recent changes count more.
//   percent  Σ weights of the changes × 100 / 20: 0 for a steady check, 100 when every result
//            differs from the one before. A history shorter than 21 counts the changes it has over
//            the same 20 (a new check is not flapping on its first few results).
//   start    not flapping and percent ≥ high → flapping.
//   end      flapping and percent ≤ low → not flapping. Between the two: as it was (hysteresis),
//            so the flag must be carried across handover and restart (records.ts).
//
// What is counted is the probes' pass/fail, not the published verdict: a check whose probes
// alternate is flapping even when its window policy keeps it up (as Nagios counts soft states).
// Passing probes that alternate between slow and fast (up ↔ degraded) are not counted: the
// history is binary (protocol/verdict.ts).

import type { FlapThresholds } from '../checks/spec';

/** Results considered (Nagios MAX_STATE_HISTORY_ENTRIES). */
export const FLAP_WINDOW = 21;
const CHANGES = FLAP_WINDOW - 1;
const LOW_WEIGHT = 0.75;
const HIGH_WEIGHT = 1.25;

/** The weight of the change at place `i` (1 = between the two oldest of a full window … 20 = the newest). */
export function changeWeight(i: number): number {
  return LOW_WEIGHT + ((i - 1) * (HIGH_WEIGHT - LOW_WEIGHT)) / (CHANGES - 1);
}

/** Weighted percent state change of the newest FLAP_WINDOW results of `history` (0..100, 2 decimals). */
export function flapPercent(history: string): number {
  const start = Math.max(0, history.length - FLAP_WINDOW);
  // The newest change always sits at place 20, whatever the history's length.
  const offset = CHANGES - (history.length - start - 1);
  let sum = 0;
  for (let j = start + 1; j < history.length; j++) {
    if (history.charCodeAt(j) !== history.charCodeAt(j - 1)) sum += changeWeight(j - start + offset);
  }
  return Math.round(((sum * 100) / CHANGES) * 100) / 100;
}

/** The flapping flag after a result: starts at `high` or above, ends at `low` or below, else unchanged. */
export function nextFlapping(was: boolean, percent: number, t: FlapThresholds): boolean {
  if (!was) return percent >= t.high;
  return percent > t.low;
}
