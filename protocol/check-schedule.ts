// When a check's probes run: slot scheduling and catch-up for the check table (check-table.ts).
// Pure functions over slots.ts — time and the catch-up pacer come in as arguments.
//
// A check's probes sit on its slot grid (slots.ts: every node computes the same slots). This file
// decides where a check's *next* probe goes:
//   gained          → the first slot at or after `startAt` (the table passes now: a handover by
//                     message continues from the release instead, handover.ts); a slot between
//                     `startAt` and now that went unprobed gets one catch-up probe off the grid
//   interval change → the new grid's next slot, only if it comes before the pending probe
//   due             → the following slot (after a catch-up: the grid's slot at least half an
//                     interval later); slots already passed (a paused process, a stalled event
//                     loop) are skipped and counted, never fired in a burst
//   taken over      → the previous owner died: one catch-up probe now (paced), then the grid
//   state change    → an outcome moved the check to another interval (state-interval.ts): the
//                     pending slot moves to the new grid, at least the shorter of the two
//                     intervals after the last probe's slot (retimedSlot)
// Catch-up probes are paced node-wide (catch-up-pacer.ts), so a failover of thousands of checks
// is a steady trickle. A probe *starts* at its slot plus a random jitter (never moved into the slot).

import type { CatchUpPacer } from './catch-up-pacer';
import { followingSlot, jitterBound, nextSlot } from './slots';

/** Where a check's next probe goes: a slot, and whether it is a catch-up probe off the grid. */
export interface SlotChoice {
  slot: number;
  catchUp: boolean;
}

/** The slots skipped because they had passed before the due one was handled. */
export interface SkippedSlots {
  /** The first passed slot. */
  slot: number;
  count: number;
}

/**
 * When a catch-up probe runs, or null when it is not worth one: the node-wide pacer's next free
 * place, if that still comes in the first half of the wait for the regular slot (later, the
 * regular slot is soon enough). Reserves the place it returns.
 */
export function catchUpAt(catchUps: CatchUpPacer, now: number, regularSlot: number, intervalMs: number): number | null {
  if (regularSlot - now <= intervalMs / 2) return null;
  if (catchUps.peek(now) > now + (regularSlot - now) / 2) return null;
  return catchUps.take(now);
}

/**
 * The first probe of a check new to the table: the first slot at or after `startAt` (the table
 * passes `now`). With `startAt` in the recent past, a slot between it and now had no owner, so
 * catch up instead of waiting (if the pacer has room).
 */
export function firstSlot(id: string, intervalMs: number, now: number, startAt: number, catchUps: CatchUpPacer): SlotChoice {
  const regular = nextSlot(id, intervalMs, Math.max(now, startAt) - 1);
  const missed = startAt > now - intervalMs && nextSlot(id, intervalMs, startAt - 1) < now;
  const catchUp = missed ? catchUpAt(catchUps, now, regular, intervalMs) : null;
  return { slot: catchUp ?? regular, catchUp: catchUp !== null };
}

/**
 * The first probe of a check taken over from an owner that died: one catch-up probe (if the pacer
 * has room soon enough), else the next slot. Decided on this node's clock alone: the last
 * published slot, stamped by another node's clock, is never compared with our now.
 */
export function takeoverSlot(id: string, intervalMs: number, now: number, catchUps: CatchUpPacer): SlotChoice {
  const regular = nextSlot(id, intervalMs, now - 1);
  const catchUp = catchUpAt(catchUps, now, regular, intervalMs);
  return { slot: catchUp ?? regular, catchUp: catchUp !== null };
}

/**
 * A new interval: the new grid's next slot if it comes before the pending probe's slot, else null
 * (the pending probe stays; the new interval applies from it on).
 */
export function earlierSlot(id: string, intervalMs: number, now: number, pendingSlot: number): number | null {
  const candidate = nextSlot(id, intervalMs, now - 1);
  return candidate < pendingSlot ? candidate : null;
}

/**
 * The slot after the one that just came due (`slot`, computed with `slotIntervalMs`; the spec now
 * says `intervalMs`). After a catch-up probe, rejoin the grid at least half an interval later.
 * If that slot has passed too (`<= now`), move to the first slot after `now` and report the
 * passed ones as skipped.
 */
export function slotAfterDue(
  id: string,
  slot: number,
  slotIntervalMs: number,
  intervalMs: number,
  catchUp: boolean,
  now: number,
): { slot: number; skipped: SkippedSlots | null } {
  const next = catchUp ? nextSlot(id, intervalMs, slot + Math.floor(intervalMs / 2)) : followingSlot(id, slot, slotIntervalMs, intervalMs);
  if (next > now) return { slot: next, skipped: null };
  const resumeAt = nextSlot(id, intervalMs, now);
  return { slot: resumeAt, skipped: { slot: next, count: Math.round((resumeAt - next) / intervalMs) } };
}

/**
 * The check's effective interval changed from `fromMs` to `toMs` (an outcome moved its verdict
 * state: state-interval.ts): its next slot, replacing the pending one. The new grid's first slot
 * at least min(fromMs, toMs) after `lastSlot` (the slot of the probe whose outcome it was; null:
 * none yet) and not before `now`, so
 *   - two probes are never closer than the shorter interval (speeding up after a failure waits one
 *     fast interval; settling down never probes sooner than the fast interval did),
 *   - the gap is below min(fromMs, toMs) + toMs (one grid step of the new interval past the floor),
 *   - the slot is on the new interval's grid (phaseOf per check and interval: every node agrees),
 *     so a release carries a slot of the interval the new owner computes from the same state.
 * Overlap stays impossible as before: a slot that comes due while a probe runs is skipped (counted).
 */
export function retimedSlot(id: string, lastSlot: number | null, fromMs: number, toMs: number, now: number): number {
  const floor = lastSlot === null ? now : Math.max(now, lastSlot + Math.min(fromMs, toMs));
  return nextSlot(id, toMs, floor - 1);
}

/** The instant a probe for `slot` starts: the slot plus a jitter below jitterBound (slots.ts). */
export function jitteredStart(slot: number, intervalMs: number, jitterMs: number, random: () => number): number {
  return slot + Math.floor(random() * jitterBound(intervalMs, jitterMs));
}
