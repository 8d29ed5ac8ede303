// How often a check is probed: a pure function of its normalized spec and its verdict state
// (issue 15, state-dependent intervals). HAProxy's three check intervals, on Lookout's binary
// verdict (verdict.ts):
//
//   phase           when (status, newest outcome of the history)       interval
//   settled         up, and the newest outcome passed (or none yet)     intervalMs
//   transitioning   up, and the newest outcome failed ("going down");   intervalWhileTransitioningMs ?? intervalMs
//                   down, and the newest outcome passed ("going up")
//   down            down, and the newest outcome failed (or none yet)   intervalWhileDownMs ?? intervalMs
//
// This is HAProxy's srv_getinter: `inter` at full health, `downinter` when the server is down with
// health 0, `fastinter` in between ("when the server is going up or down"). HAProxy's health
// counter is the consecutive policy exactly: an up server's pass restores full health at once, a
// down server's failure drops health to 0, so "between" is "the newest outcome disagrees with the
// verdict". The window policy reads the same two facts: an up check whose newest probe failed is
// on its way down (one more failure may be the one), a down check whose newest probe passed is on
// its way up.
//
// A check that has reached no verdict yet (new: its policy's initial state, nothing announced —
// `published` 'unknown' in the check table) runs at intervalMs: the caller passes null. Its state
// is only the policy's pre-fill (a window's `initial` passes, a consecutive `initial`), and a
// down interval of an hour must not hold back its first probe. Its first conclusive outcome decides.
//
// Outcomes that never enter the history (inconclusive, a failure another node saw healthy, one
// held by the panic guard or quarantine: check-messages.ts) leave the phase, so the interval,
// as it was. Since the state is (status, history) and every result, release and resume record
// carries both, a new owner computes the same interval with no field of its own on the wire.
// Where the next slot goes when the interval changes: check-schedule.ts retimedSlot.
//
// A push check (issue 15) is the exception: its intervalMs is the job's period (up to 35 days), not
// a probe interval. Its slots run every push.checkEveryMs in every phase (validation refuses the
// state-dependent fields for it: more evaluations gather no evidence, only reports do), so its
// scheduling, handover, takeover seq gap, freshness and results' intervalMs all follow from here.

import type { NormalizedSpec } from '../checks/spec';
import type { VerdictState } from './verdict';

export const IntervalPhase = {
  settled: 'settled',
  transitioning: 'transitioning',
  down: 'down',
} as const;
export type IntervalPhase = (typeof IntervalPhase)[keyof typeof IntervalPhase];

/** The spec fields the interval depends on (kind and push: a push check's cadence). */
export type IntervalSpec = Pick<NormalizedSpec, 'intervalMs' | 'intervalWhileTransitioningMs' | 'intervalWhileDownMs'> & Partial<Pick<NormalizedSpec, 'kind' | 'push'>>;

/** The interval of the settled phase: intervalMs, or a push check's push.checkEveryMs. */
function baseInterval(spec: IntervalSpec): number {
  return spec.kind === 'push' && spec.push ? spec.push.checkEveryMs : spec.intervalMs;
}

/** Where a verdict state is: settled, on its way to the other verdict, or down. */
export function intervalPhase(state: VerdictState): IntervalPhase {
  const newest = state.history.charCodeAt(state.history.length - 1); // NaN for an empty history
  if (state.status === 'up') return newest === 48 ? IntervalPhase.transitioning : IntervalPhase.settled; // 48: '0'
  return newest === 49 ? IntervalPhase.transitioning : IntervalPhase.down; // 49: '1'
}

/** The interval a check in `state` runs at; `null` (no verdict reached yet, or its state still being looked up): intervalMs. */
export function probeInterval(spec: IntervalSpec, state: VerdictState | null): number {
  if (state === null || spec.kind === 'push') return baseInterval(spec);
  const phase = intervalPhase(state);
  switch (phase) {
    case IntervalPhase.settled:
      return spec.intervalMs;
    case IntervalPhase.transitioning:
      return spec.intervalWhileTransitioningMs ?? spec.intervalMs;
    case IntervalPhase.down:
      return spec.intervalWhileDownMs ?? spec.intervalMs;
    default: {
      const never: never = phase;
      throw new Error(`unknown interval phase ${String(never)}`);
    }
  }
}

/** The shortest interval a check with this spec can run at (seq gaps, confirm reuse: counts per time). */
export function shortestInterval(spec: IntervalSpec): number {
  if (spec.kind === 'push') return baseInterval(spec);
  return Math.min(spec.intervalMs, spec.intervalWhileTransitioningMs ?? spec.intervalMs, spec.intervalWhileDownMs ?? spec.intervalMs);
}

/** The longest interval a check with this spec can run at (freshness of another vantage's result). */
export function longestInterval(spec: IntervalSpec): number {
  if (spec.kind === 'push') return baseInterval(spec);
  return Math.max(spec.intervalMs, spec.intervalWhileTransitioningMs ?? spec.intervalMs, spec.intervalWhileDownMs ?? spec.intervalMs);
}

