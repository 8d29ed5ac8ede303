// Where a check's probes fall in time. Pure functions.
//
// Slots are aligned to the Unix epoch: the slots of a check with interval I and phase P are the
// instants t with t ≡ P (mod I). Every node computes the same slots for the same check, so when a
// shard moves between nodes the new owner continues the old owner's cadence: no burst, no gap.
// Fixed rate: the slot after t is t + I, whatever the probe's duration. A small random jitter is
// added to the instant a probe is *started* (never to the slot), so checks sharing a phase do not
// fire in lock step and the cadence does not drift.

import { phaseOf } from './hash';

/** The first slot at or after `t`. */
export function slotAtOrAfter(t: number, phase: number, intervalMs: number): number {
  const r = (((t - phase) % intervalMs) + intervalMs) % intervalMs;
  return r === 0 ? t : t + (intervalMs - r);
}

/** The first slot of `checkId` strictly after `t`. */
export function nextSlot(checkId: string, intervalMs: number, t: number): number {
  return slotAtOrAfter(t + 1, phaseOf(checkId, intervalMs), intervalMs);
}

/** Upper bound of the start jitter: `maxJitterMs`, but never more than 1% of the interval. */
export function jitterBound(intervalMs: number, maxJitterMs: number): number {
  return Math.max(0, Math.min(maxJitterMs, Math.floor(intervalMs / 100)));
}

/**
 * The slot after `prevSlot` when the interval may have changed. Same interval: prevSlot + I.
 * Changed interval: the new schedule's first slot after prevSlot (so a longer interval does not
 * probe early and a shorter one starts at its own next slot).
 */
export function followingSlot(checkId: string, prevSlot: number, prevIntervalMs: number, intervalMs: number): number {
  return prevIntervalMs === intervalMs ? prevSlot + intervalMs : nextSlot(checkId, intervalMs, prevSlot);
}
