// Probes that ran twice: how many of one (shard, rank)'s probes two nodes both ran, told from a
// release that reached a runner which was probing the same checks meanwhile (issue 11 §2, §5).
//
// Two cases bring such a release, and one count serves both:
//   - a late release: we took the slot over from a holder held dead (a frozen or cut link, a
//     pause); it kept probing until it noticed, and releases when it learns the new map. Its
//     probes after our first one ran twice; its probes before that (results that reached NATS late)
//     were the only probes of their slots and are not duplicates.
//   - a provisional taker stepping back: we were held dead without being dead (paused, or cut off
//     shorter than the lease) and kept our slots; a node ran them under a provisional takeover and
//     releases them when it hears us again. Its probes after our first one since our pause ran twice.
//
// No clock is compared between nodes. The release says, per check, when the releaser's next probe
// was due (`dueInMs`) and how long it had been probing (`ranForMs`), both durations on its own
// clock; the receiver places them on its own clock at receipt. A probe counts as a duplicate when
// it falls in the slot interval of one of ours, or later: a slot interval holds at most one probe
// of each node, on the same phase grid (hash.ts), so their probe at grid point g shares an interval
// with our first probe f exactly when it lies in f's interval or later. Intervals are cut on the
// receiver's own slot grid; the message's transit time only moves their probes later within
// theirs. Pure.

import type { ReleasedCheck } from './records';

/** Their probes of one check on the receiver's clock: the first and the last (both inclusive), and how many at most. */
export interface TheirProbes {
  first: number;
  last: number;
  /** At most this many (the release's count, or the seq numbers they published past ours): caps the estimate. */
  cap: number;
}

/**
 * Where a released check's probes lie on the receiver's clock, received at `receivedAt` (the
 * receiver's clock, ms). Their last probe is one interval before their next due slot, or their
 * first when that came later (a catch-up probe off the grid, the only one); without `ranForMs`
 * their first is unknown (long before). `seqPast`: seq numbers they published past the one we
 * continued from (a cap when known).
 */
export function theirProbes(rc: Pick<ReleasedCheck, 'dueInMs' | 'ranForMs' | 'ran'>, receivedAt: number, intervalMs: number, seqPast?: number): TheirProbes {
  const first = rc.ranForMs === undefined ? -Infinity : receivedAt - rc.ranForMs;
  const last = Math.max(receivedAt + rc.dueInMs - intervalMs, first);
  return { first, last, cap: Math.max(0, Math.min(rc.ran ?? Infinity, seqPast ?? Infinity)) };
}

/**
 * How many of their probes (every interval back from `their.last`, none before `their.first`) fall
 * in the slot interval of one of ours. Slot intervals are cut at `grid`, any grid point of ours on
 * the receiver's clock (its next slot); without one, at our first probe (a grid probe starts its
 * interval, up to its jitter). `ours.first`: our first probe of the check in the stretch that
 * overlapped (null: none yet — nothing ran twice); `ours.last`: our last, when we have stopped
 * probing it (absent: still probing). Capped by `their.cap`.
 */
export function duplicateProbes(their: TheirProbes, ours: { first: number | null; last?: number }, intervalMs: number, grid?: number): number {
  if (ours.first === null || their.cap === 0) return 0;
  const anchor = grid ?? ours.first;
  const cell = (t: number) => Math.floor((t - anchor) / intervalMs);
  // Their probe m (m = 0, 1, …) lies at last − m·interval, in cell top − m.
  const top = cell(their.last);
  const highest = ours.last === undefined ? top : Math.min(top, cell(ours.last));
  const oldest = Number.isFinite(their.first) ? Math.floor((their.last - their.first + intervalMs / 2) / intervalMs) : Infinity;
  const lowest = Math.max(cell(ours.first), top - oldest);
  return Math.max(0, Math.min(highest - lowest + 1, their.cap));
}

/** The largest count a release may claim for `ran` (a safe integer far above any real one). */
export const MAX_RAN = 1_000_000_000;
/** The longest `ranForMs` accepted: a year. */
export const MAX_RAN_FOR_MS = 366 * 24 * 3600 * 1000;
