// Probes that ran twice: how many of one (shard, rank)'s probes two nodes both ran, told from a
// release that reached a runner which was probing the same checks meanwhile (issue 11 §2, §5).
//
// Two cases bring such a release, and one count serves both:
//   - a late release: we took the slot over from a holder held dead (a frozen or cut link, a
//     pause); it kept probing until it noticed, and releases when it learns the new map. Its
//     probes in the slot interval of our first one or later ran twice; its probes before that
//     (results that reached NATS late) were the only probes of their slots and are not duplicates.
//   - a provisional taker stepping back: we were held dead without being dead (paused, or cut off
//     shorter than the lease) and kept our slots; a node ran them under a provisional takeover and
//     releases them when it hears us again. Its probes from our first one since our pause ran twice.
//
// Both nodes run a check on the same phase grid (hash.ts, slots.ts): a slot interval holds at most
// one probe of each, and their grid probe at grid point k shares interval k with ours. The release
// says, per check, when its next slot and its first probe were on its own wall clock (`nextAt`,
// `firstAt`); the receiver moves them onto its own with the peer's clock offset estimated from
// heartbeats (clock-offset.ts; 0 before an estimate) and rounds their grid probes to the nearest of
// its own grid points, so neither the offset's error nor the message's transit (a node that just
// woke reads a backlog first) moves a probe into another interval unless it reaches half an
// interval. A count for a metric, not a decision: no node acts on it. Pure.

import type { ReleasedCheck } from './records';

/** Their probes of one check on the receiver's wall clock, and how many at most. */
export interface TheirProbes {
  /** Their first probe of the stretch (-Infinity: unknown, long before). */
  first: number;
  /** Their last probe. */
  last: number;
  /** The last probe is a grid probe (not a lone catch-up off the grid): round it to our grid. */
  lastOnGrid: boolean;
  /** At most this many (the release's count, or the seq numbers they published past ours): caps the estimate. */
  cap: number;
}

/**
 * Where a released check's probes lie on the receiver's wall clock. `offsetMs`: the releaser's
 * clock − ours. Their last probe is one interval before their next slot, or their first when that
 * came later (a catch-up probe off the grid, the only one). A release without `nextAt` (an older
 * node) is placed by `dueInMs` from `receivedAt` (the receiver's wall clock at receipt).
 * `seqPast`: seq numbers they published past the one we continued from (a cap when known).
 */
export function theirProbes(rc: Pick<ReleasedCheck, 'dueInMs' | 'nextAt' | 'firstAt' | 'ran'>, offsetMs: number, receivedAt: number, intervalMs: number, seqPast?: number): TheirProbes {
  const first = rc.firstAt === undefined ? -Infinity : rc.firstAt - offsetMs;
  const next = rc.nextAt === undefined ? receivedAt + rc.dueInMs : rc.nextAt - offsetMs;
  // `lastAt` (when their last probe started) is carried but not used: placing the last probe by it
  // (9504e59) missed real duplicates in a loaded CI run's pause-node (3 uncounted); one interval
  // before the next slot over-counts a paused holder instead, which a count may do, never under.
  const lastGrid = next - intervalMs;
  const cap = Math.max(0, Math.min(rc.ran ?? Infinity, seqPast ?? Infinity));
  return lastGrid >= first ? { first, last: lastGrid, lastOnGrid: true, cap } : { first, last: first, lastOnGrid: false, cap };
}

/**
 * How many of their probes (every interval back from `their.last`, none before `their.first`) fall
 * in the slot interval of one of ours. Intervals start at the points of `grid`: any of our grid
 * points for the check (its next slot, on our wall clock); without one, at our first probe (a grid
 * probe starts its interval, up to its jitter). `ours.first`: our first probe of the check in the
 * stretch that overlapped (null: none yet — nothing ran twice); `ours.last`: our last, when we have
 * stopped probing it (absent: still probing). Capped by `their.cap`.
 */
export function duplicateProbes(their: TheirProbes, ours: { first: number | null; last?: number }, intervalMs: number, grid?: number): number {
  if (ours.first === null || their.cap === 0) return 0;
  const anchor = grid ?? ours.first;
  const cell = (t: number) => Math.floor((t - anchor) / intervalMs);
  // Their probe m (m = 0, 1, …) lies at last − m·interval, in interval top − m.
  const top = their.lastOnGrid && grid !== undefined ? Math.round((their.last - anchor) / intervalMs) : cell(their.last);
  const highest = ours.last === undefined ? top : Math.min(top, cell(ours.last));
  const oldest = Number.isFinite(their.first) ? Math.floor((their.last - their.first + intervalMs / 2) / intervalMs) : Infinity;
  const lowest = Math.max(cell(ours.first), top - oldest);
  return Math.max(0, Math.min(highest - lowest + 1, their.cap));
}

/** The largest count a release may claim for `ran` (a safe integer far above any real one). */
export const MAX_RAN = 1_000_000_000;
