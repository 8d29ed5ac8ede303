// Leadership of an overloaded node: when a node that says it is overloaded (its heartbeat's
// `overloaded`, protocol/overload.ts) stands for the lease, and when a leader that becomes
// overloaded hands it over. Pure: the member list and monotonic times come in as arguments
// (actors/leader.ts reads and writes the key), decisions go out as values to log.
//
// A starved leader renews late, loses its lease by its own clock, is elected again when the next
// opening comes — and its assigner writes maps from a loop that cannot keep up. Leadership belongs
// on a node with room, but a cluster must always have one:
//
//   candidacy (a follower that may acquire the lease now, lease.ts followerMove):
//     stand   — it is not overloaded (`clear`); or its overload is its start's (`starting`, below);
//               or no member could lead instead (`alone`: no other live member; `no_clear_peer`:
//               the others are overloaded, suspect, leaving or starting); or
//               it has deferred for DEFER_LEASES leases since the lease became free and none of
//               the others took it (`deferred_too_long`: they may be unable to reach the store,
//               and a cluster without a leader assigns nothing)
//     defer   — it is overloaded and a member could lead instead (`overloaded`)
//
//   step down (a leader, on every member update while it holds the lease):
//     yes     — it is overloaded (past its start), a member could lead instead, and it has not
//               stepped down for overload within STEP_DOWN_COOLDOWN_LEASES leases (bounded churn:
//               if the others never take the lease, the deferred candidacy brings it back, and it
//               then keeps it for the cooldown)
//
// A node's own overload counts only once its start is over (`ownLoad`): while its heartbeat says
// `starting`, and until it has run for the start hold (LOOKOUT_OVERLOAD_RELIEF_MS, from
// Member.runningSince — the rule overload relief judges every member by), its lag is its start's
// (specs loading, resume lookups, the first probes of its share), so a leader keeps the lease and
// an overloaded follower stands (`starting`). At 1M checks two new leaders stepped down for
// overload within 4 s of their election while the cluster started, and each hand-over was one
// more election in the start (BENCHMARKS.md §16).
//
// "Could lead instead": another member that is `alive` (heard within the suspicion timeout, not
// suspect), heard from this process (not only seeded from the map), not leaving, not starting (its
// first map's slots not all running yet: it is about to be busy loading them, and its clear report
// says nothing of its room), and whose last heartbeat said it is clear — or overloaded within the
// start hold of its running, which counts no more for it than for this node (a node that joined
// beside a starved leader, overloaded for a moment by the slots it gained, was passed over and the
// starved leader stood again as if nobody were clear: a solo CI failure, 2026-12-07).
// At a cluster's start every member is starting, so an overloaded leader keeps the lease and an overloaded follower stands:
// at 1M checks on one saturated host the leader stepped down for overload in favour of members
// that were overloaded seconds later, while they were starting (BENCHMARKS.md §16). A node never takes the lease from a healthy leader: when the overloaded node clears it
// stays a follower, so no election follows the recovery.
//
// The hand-over itself keeps the lease's rules: the leader stops acting as leader first (the
// parent hears DEPOSED, its assigner stops), then deletes the key with compare-and-set on its own
// revision, so a successor's term is a later revision; if the key moved meanwhile the delete fails
// and changes nothing.

import type { MemberState } from './failure-detector';
import type { LeaseConfig, LeaseView } from './lease';
import { ranForHold } from './overload-relief';

/** An overloaded candidate waits this many leases after the lease became free before it stands anyway. */
export const DEFER_LEASES = 1;

/** A leader steps down for overload at most once per this many leases. */
export const STEP_DOWN_COOLDOWN_LEASES = 10;

/** What leadership reads of a member (a failure-detector Member has these fields). */
export interface Standing {
  node: string;
  state: MemberState;
  /** Empty: only seeded from the map, never heard by this process. */
  instance: string;
  leaving: boolean;
  overloaded?: boolean;
  /** Its first map's slots are not all running yet (records.ts Heartbeat.starting). */
  starting?: boolean;
  /** Since when (monotonic) its life has said it runs (failure-detector.ts Member.runningSince). */
  runningSince?: number;
}

/** What leadership's decisions are timed by. */
export interface LeadershipConfig extends Pick<LeaseConfig, 'leaseMs'> {
  /** A node's own overload counts once it has run this long (LOOKOUT_OVERLOAD_RELIEF_MS; 0: at once). */
  startHoldMs: number;
}

export type Candidacy =
  | { stand: true; reason: 'clear' | 'starting' | 'alone' | 'no_clear_peer' | 'deferred_too_long'; healthy: string[] }
  | { stand: false; reason: 'overloaded'; healthy: string[] };

export type StepDown = { stepDown: false } | { stepDown: true; reason: 'overloaded'; healthy: string[] };

/**
 * What `self`'s own load counts as (its entry in the member list): `clear`; `starting` — it says
 * overloaded, but while it starts or within `startHoldMs` of running, so the lag is its start's;
 * `overloaded`.
 */
export function ownLoad(self: string, members: readonly Standing[], now: number, startHoldMs: number): 'clear' | 'starting' | 'overloaded' {
  const me = members.find((m) => m.node === self);
  return me ? loadOf(me, now, startHoldMs) : 'clear';
}

/** What a member's load counts as for leadership (ownLoad's rule, for any member). */
function loadOf(m: Standing, now: number, startHoldMs: number): 'clear' | 'starting' | 'overloaded' {
  if (m.overloaded !== true) return 'clear';
  return m.starting === true || !ranForHold(m, now, startHoldMs) ? 'starting' : 'overloaded';
}

/** The other members that could lead instead of `self` (sorted). */
export function healthyPeers(self: string, members: readonly Standing[], now: number, startHoldMs: number): string[] {
  return members
    .filter((m) => m.node !== self && m.state === 'alive' && m.instance !== '' && !m.leaving && m.starting !== true && loadOf(m, now, startHoldMs) !== 'overloaded')
    .map((m) => m.node)
    .sort();
}

/**
 * How long the lease has been free for a follower that sees `view` (≤ 0: not yet free): since the
 * key was seen deleted, or since the holder's lease ran out by the follower's count (lease.ts).
 */
export function freeFor(view: LeaseView | null, now: number, cfg: LeaseConfig): number {
  if (!view) return -Infinity;
  if (view.record === null) return now - view.observedAt;
  return now - view.observedAt - (cfg.leaseMs + cfg.takeoverMarginMs);
}

/** Whether a follower that may acquire the lease now (the lease is free for `freeMs`) stands for it. */
export function candidacy(self: string, members: readonly Standing[], freeMs: number, now: number, cfg: LeadershipConfig): Candidacy {
  const healthy = healthyPeers(self, members, now, cfg.startHoldMs);
  const own = ownLoad(self, members, now, cfg.startHoldMs);
  if (own !== 'overloaded') return { stand: true, reason: own, healthy };
  if (healthy.length === 0) {
    const others = members.some((m) => m.node !== self && (m.state === 'alive' || m.state === 'suspect'));
    return { stand: true, reason: others ? 'no_clear_peer' : 'alone', healthy };
  }
  if (freeMs >= DEFER_LEASES * cfg.leaseMs) return { stand: true, reason: 'deferred_too_long', healthy };
  return { stand: false, reason: 'overloaded', healthy };
}

/**
 * Whether a leader hands its lease over now. `lastStepDownAt`: monotonic instant of its last
 * step-down for overload (-Infinity: never).
 */
export function overloadStepDown(self: string, members: readonly Standing[], now: number, lastStepDownAt: number, cfg: LeadershipConfig): StepDown {
  if (ownLoad(self, members, now, cfg.startHoldMs) !== 'overloaded') return { stepDown: false };
  if (now - lastStepDownAt < STEP_DOWN_COOLDOWN_LEASES * cfg.leaseMs) return { stepDown: false };
  const healthy = healthyPeers(self, members, now, cfg.startHoldMs);
  if (healthy.length === 0) return { stepDown: false };
  return { stepDown: true, reason: 'overloaded', healthy };
}
