// Provisional takeover: a dead owner's slots are taken by the next live owners by rank as soon as
// this node's own failure detector says dead, without waiting for a leader to write a new map.
//
// Every shard already has ranked owners (LOOKOUT_VANTAGE_POINTS of them). A check with replicas k
// runs on ranks 0..k-1. When an owner dies, every node reads the map it follows with the owners it
// believes dead struck out: the owners after the dead one move up a rank, so the shard's first k
// *live* owners run the check. No leader, lease or wall clock is involved — each node decides from
// its own detector, and the next map (which the leader writes without the dead node) confirms the
// move, or moves the slots again by the ordinary handover.
//
// Cost of being wrong: a node its detector wrongly calls dead (a one-way partition) keeps probing
// its slots while the next owner also probes them — duplicates bounded by the detector's
// false-positive rate and by the time until the member is heard again (then the view reverts).
// The node counts the probes it ran provisionally for a member that came back (takeover-watch).
//
// The leader plans its next map from the previous one with the members no longer live struck out
// the same way (strikeOut), so the slots the survivors already took over are kept where the quotas
// allow, rather than moved a second time.
//
// A restart is the death of the old life: a member whose new life is still loading its shards'
// specs (its heartbeat says `starting`, and this node heard an earlier life of it) is held dead too
// — `returning` (failure-detector.ts). Without it a node that crash-restarted faster than the dead
// threshold left its slots unprobed while it loaded (256 shard watches: seconds under load), and
// one restarting every few seconds left them unprobed for good (the flapping chaos scenario). Its
// slots come back by message once it runs: the next owner answers its claims `held` until then
// (protocol/handover.ts), and releases when it hears the member running.
//
// Who is dead is remembered here, not read from the detector's table alone: the detector forgets
// a dead member after a while (FORGET_AFTER_MS), and a forgotten owner must stay struck out until a
// map without it arrives or the member is heard again. Pure: no I/O, no clock.

import type { Member } from './failure-detector';
import type { AssignmentRecord, ShardMap } from './records';

/** Whether this node runs a member's slots for it: dead, or a restart still starting (returning). */
export const heldDead = (m: Pick<Member, 'state' | 'returning'>): boolean => m.state === 'dead' || (m.returning === true && m.state !== 'left');

/**
 * The owners this node holds dead, updated from the detector's member list: a member it reports
 * dead or returning is added; one it reports alive (and running), suspect or left is removed
 * (heard again, or leaving by its own handover); one it no longer lists keeps its previous
 * standing. Returns `prev` itself when nothing changed, so callers can compare by identity.
 */
export function deadOwners(prev: ReadonlySet<string>, members: readonly Pick<Member, 'node' | 'state' | 'returning'>[]): ReadonlySet<string> {
  let next: Set<string> | null = null;
  for (const m of members) {
    const dead = heldDead(m);
    if (dead === prev.has(m.node)) continue;
    next ??= new Set(prev);
    if (dead) next.add(m.node);
    else next.delete(m.node);
  }
  return next ?? prev;
}

/** Members of a map that are no longer in it: nothing to strike out for them any more. */
export function pruneDead(dead: ReadonlySet<string>, rec: Pick<AssignmentRecord, 'members' | 'shards'>): ReadonlySet<string> {
  if (dead.size === 0) return dead;
  const inMap = new Set(rec.members);
  for (const owners of rec.shards) for (const n of owners) inMap.add(n);
  const kept = [...dead].filter((n) => inMap.has(n));
  return kept.length === dead.size ? dead : new Set(kept);
}

/** Every shard's owner list with the owners `keep` refuses struck out (later ranks move up). */
export function strikeOut(shards: ShardMap, keep: (node: string) => boolean): ShardMap {
  return shards.map((owners) => (owners.every(keep) ? owners : owners.filter(keep)));
}

/**
 * The map as this node runs it: the followed map with the owners it holds dead struck out of every
 * shard's owner list (and of the members). Term, epoch and leader stay those of the followed map:
 * results probed under a provisional takeover carry the map's epoch. `self` is never struck out.
 */
export function effectiveMap(rec: AssignmentRecord, dead: ReadonlySet<string>, self: string): AssignmentRecord {
  if (dead.size === 0) return rec;
  const struck = (n: string) => n !== self && dead.has(n);
  if (!rec.members.some(struck) && !rec.shards.some((owners) => owners.some(struck))) return rec;
  return { ...rec, members: rec.members.filter((n) => !struck(n)), shards: strikeOut(rec.shards, (n) => !struck(n)) };
}

/** A slot of this node that the effective map ranks differently from the followed one. */
export interface Promotion {
  shard: number;
  /** Rank in the followed map (null: not an owner there). */
  from: number | null;
  to: number;
}

/**
 * The slots this node holds only because owners are held dead (for the log line and the metric).
 * Empty when the effective map is the followed one.
 */
export function promotions(followed: AssignmentRecord, effective: AssignmentRecord, self: string): Promotion[] {
  if (followed === effective) return [];
  const out: Promotion[] = [];
  effective.shards.forEach((owners, shard) => {
    const to = owners.indexOf(self);
    if (to < 0) return;
    const was = followed.shards[shard]?.indexOf(self) ?? -1;
    if (was !== to) out.push({ shard, from: was < 0 ? null : was, to });
  });
  return out;
}
