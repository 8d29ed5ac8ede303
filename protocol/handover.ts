// Handover by message: how a (shard, rank) changes hands without two nodes' wall clocks having to
// agree (issue 11 §1). Pure decisions (the wire shapes: handover-wire.ts); the runner (actors/runner-handover.ts)
// does the I/O.
//
//   new owner (claimant)                          holder (the runner that had the slot)
//   subscribe <…>.release, request <…>.claim ───▶ answer `releasing`; start nothing new; let
//                                                 in-flight probes publish; publish the release
//        ◀──────────────────────────────────────── on <…>.release (or answer a late claim with it)
//   per check: seq and verdict from the release, the released slot at own now + dueInMs, then
//   every interval. dueInMs is a duration on the holder's clock, never a wall time.
//
// A holder whose map moved the slot before any claim came keeps probing until the claim (the new
// owner claims as soon as it has the map and the shard's specs), or releases on its own after
// LOOKOUT_CLAIM_WAIT_MS — waiting on (movedWait) while the new owner is alive and has not claimed
// (a node that just joined loads its shards' specs first), at most MOVED_WAITS such waits; it keeps
// its last release for a while to answer a late claim. How a gained slot starts (gainedStart, claimNext):
//   previous holder known and not a live member → take over from the result stream at once, one
//                                                 takeover claim beside it (below)
//   no responders                               → start from the result stream at once
//   `releasing`                                 → wait for the release (claims repeat meanwhile)
//   the release                                 → continue from it
//   `held`                                      → wait on (claims repeat): the holder runs the slot
//                                                 for us until it hears us running (below)
//   `taken` (released to another claimant)      → claim from that one (our map is newer) or wait
//                                                 on like `held` (ours is stale: takenNext)
//   silence for claimWaitMs since the last answer → from the stream (`claim_unanswered`)
// A claimant the holder holds dead or returning (a restart still loading its specs:
// protocol/takeover.ts) is answered `held`, not released to: the holder probes on for it, and
// releases (at once) when it hears the claimant running — the claimant's runners are listening by
// then. A claimant that dies while starting loses nothing: nobody released to it.
// A takeover claim (`takeover: true`, holder unknown) asks whoever may have the slot's latest state
// without owning it: a moved holder still probing (its map gave the slot to the dead node) releases;
// a holder that released on its own and was never claimed answers with its kept release. A running
// holder that believes it owns the slot ignores it (both probe; its late release is counted). The
// taker does not wait for the answer (a paused holder's subscription outlives it): it takes the
// release as a late one, its probes beside the taker's counted. Without it, a holder that gave up
// waiting for a dead new owner published a release nobody heard, and the probes both ran went
// uncounted (flapping chaos scenario).
// A received claim or release is hostile input: protocol/handover-wire.ts parses it, bounded, or refuses it with a reason.

import type { Claimant, ReleasedCheck, ReleaseRecord } from './records';
import type { ClaimRequest, ClaimTaken } from './handover-wire';
import { nextSlot } from './slots';

/** Where a holder is, as a claim sees it. */
export type HolderPhase = 'claiming' | 'running' | 'moved' | 'releasing' | 'released' | 'draining';

export const ClaimDecision = {
  /** A running holder: answer `releasing` and release. */
  release: 'release',
  /** A holder that holds the claimant dead or still starting: answer `held`, probe on. */
  answerHeld: 'answerHeld',
  /** Already releasing: answer `releasing` again (the release follows). */
  answerReleasing: 'answerReleasing',
  /** Released: answer with the kept release. */
  answerRelease: 'answerRelease',
  /** Releasing or released to another claimant: answer `taken` (by whom, under which map: takenNext). */
  answerTaken: 'answerTaken',
  /** Our own claim (same node, instance and runner generation: another runner of ours may claim from us). */
  ignoreOwn: 'ignoreOwn',
  /** Addressed to another holder. */
  ignoreNotAddressed: 'ignoreNotAddressed',
  /** A takeover claim to a holder that owns the slot, or whose release another claimant took. */
  ignoreTakeover: 'ignoreTakeover',
  /** We hold nothing to give (claiming ourselves, or draining without a handover). */
  ignoreNotHolding: 'ignoreNotHolding',
} as const;
export type ClaimDecision = (typeof ClaimDecision)[keyof typeof ClaimDecision];

/** One claimant's runner (the same node, process and runner generation). */
export const sameClaimant = (a: Claimant, b: Claimant): boolean => a.node === b.node && a.instance === b.instance && a.gen === b.gen;

/**
 * What a runner does with a claim. A kept release answers only a claim addressed to this node by
 * name: a claimant that does not know the holder is answered by whoever runs the slot now. A
 * takeover claim is answered only by a holder the map moved the slot away from (`moved`), or one
 * that released on its own and whose release nobody has claimed (`releasedTo` null). A release
 * goes to one claimant (`releasedTo`, the first that claimed): another claim, from a node whose
 * map gave it the slot too (two maps in flight: a flapping node's returning life claimed with an
 * older one), is answered `taken` — never the same release twice, two nodes probing one slot.
 */
export function decideClaim(phase: HolderPhase, claim: ClaimRequest, me: Claimant & { releasedTo?: Claimant | null; claimantHeld?: boolean }): ClaimDecision {
  if (sameClaimant(claim, me)) return 'ignoreOwn';
  if (claim.holder !== null && claim.holder !== me.node) return 'ignoreNotAddressed';
  const takeover = claim.takeover === true;
  const releasedTo = me.releasedTo ?? null;
  const toAnother = releasedTo !== null && !sameClaimant(releasedTo, claim);
  // A probing holder does not release to a claimant it holds dead or starting: it runs the slot for it.
  const held = !takeover && me.claimantHeld === true;
  switch (phase) {
    case 'running':
      return takeover ? 'ignoreTakeover' : held ? 'answerHeld' : 'release';
    case 'moved':
      return held ? 'answerHeld' : 'release';
    case 'releasing':
      if (takeover) return releasedTo !== null ? 'ignoreTakeover' : 'answerReleasing';
      return toAnother ? 'answerTaken' : 'answerReleasing';
    case 'released':
      if (takeover) return releasedTo !== null ? 'ignoreTakeover' : 'answerRelease';
      if (claim.holder !== me.node) return 'ignoreNotAddressed';
      return toAnother ? 'answerTaken' : 'answerRelease';
    case 'claiming':
    case 'draining':
      return 'ignoreNotHolding';
    default: {
      const never: never = phase;
      throw new Error(`unknown holder phase ${String(never)}`);
    }
  }
}

/**
 * A claim answered `taken`: the holder released the slot to another claimant. A claimant whose map
 * is newer than the one that claim came under (`epoch`) claims from that node (`retarget`): it
 * runs the slot now, and the newer map moves it here. Otherwise this claimant's map is the stale
 * one (or the taker is this node's own earlier life): it waits as for `held` — claims repeat,
 * nothing probed — until the map that moves the slot away from it, or the holder's kept release
 * expires (then no responders: from the result stream).
 */
export function takenNext(taken: ClaimTaken, me: { node: string; epoch: number }): 'retarget' | 'wait' {
  return taken.epoch < me.epoch && taken.by !== me.node ? 'retarget' : 'wait';
}

/** A release heard on `.release` that names its claimant is for that claimant only (a release without `to`: for any). */
export function releasedToMe(release: Pick<ReleaseRecord, 'to'>, me: Claimant): boolean {
  return release.to === undefined || sameClaimant(release.to, me);
}

/** How a gained slot starts: claim it from its previous holder, or take it over (the holder is dead or gone). */
export function gainedStart(previousHolder: string | null, live: readonly string[]): 'claim' | 'takeover' {
  return previousHolder === null || live.includes(previousHolder) ? 'claim' : 'takeover';
}

/** What happened to one claim attempt. */
export type ClaimEvent = 'releasing' | 'held' | 'taken' | 'released' | 'noResponders' | 'silence';

export const ClaimNext = {
  /** The holder is releasing: wait for its release, claim again after an attempt's time. */
  waitRelease: 'waitRelease',
  /** Continue from the release. */
  takeRelease: 'takeRelease',
  /** Nobody holds the slot: start from the result stream now. */
  fromStream: 'fromStream',
  /** No answer yet: claim again. */
  retry: 'retry',
  /** Silent for the whole wait: start from the result stream (`claim_unanswered`). */
  unanswered: 'unanswered',
} as const;
export type ClaimNext = (typeof ClaimNext)[keyof typeof ClaimNext];

/** The claimant's next step. `silentMs`: time since the claim started or the holder last answered. */
export function claimNext(event: ClaimEvent, silentMs: number, claimWaitMs: number): ClaimNext {
  switch (event) {
    case 'releasing':
    case 'held':
    case 'taken':
      return 'waitRelease';
    case 'released':
      return 'takeRelease';
    case 'noResponders':
      return 'fromStream';
    case 'silence':
      return silentMs >= claimWaitMs ? 'unanswered' : 'retry';
    default: {
      const never: never = event;
      throw new Error(`unknown claim event ${String(never)}`);
    }
  }
}

/**
 * A release made before the map that named its holder (`since`, the claimant's previous map): the
 * holder did not run the slot under that map — it never had a runner for it (the next map moved
 * the slot on while it loaded the shard) and answers from a release it kept from an earlier life
 * of the slot, while another node held it in between and got further (the pause-node chaos
 * scenario: seq repeated from the paused node's release). A holder that ran the slot under that
 * map released under it or a later one. Taking a stale release repeats seq; the claimant starts
 * from the stream instead. A holder that missed the naming map itself (it followed only a later
 * one) is taken for stale too: the cost is a seq gap and a takeover claim.
 */
export function staleRelease(release: Pick<ReleaseRecord, 'epoch'>, since: number | undefined): boolean {
  return since !== undefined && release.epoch < since;
}

/** How long one claim request waits for its answer: a quarter of the whole wait, 50 ms … 1 s. */
export function claimAttemptMs(claimWaitMs: number): number {
  return Math.min(1000, Math.max(50, Math.floor(claimWaitMs / 4)));
}

/**
 * A moved holder waits on for a claim at most this many claim waits while the new owner is alive:
 * its specs load before it claims (256 shard watches on a node that just joined), and every slot
 * the holder probes meanwhile is one the new owner would otherwise miss. A new owner that never
 * claims (a node of an older version, a bug) costs this much probing from the old node at most.
 */
export const MOVED_WAITS = 10;

/** After `waits` claim waits in a moved holder: wait on (the next owner is alive, the bound not reached), or release. */
export function movedWait(waits: number, nextOwnerAlive: boolean): 'wait' | 'release' {
  return nextOwnerAlive && waits < MOVED_WAITS ? 'wait' : 'release';
}

/** How long a holder keeps its release for late claims after publishing it. */
export function releaseKeepMs(claimWaitMs: number): number {
  return Math.max(5_000, 4 * claimWaitMs);
}

/** A released next slot landing this close to the new owner's own grid joins that grid. */
export function snapMs(intervalMs: number): number {
  return Math.min(250, Math.floor(intervalMs / 10));
}

/**
 * Where the new owner runs a released check: at its own now + dueInMs (`ownAt`), labelled with the
 * released slot. `shift` is own time − label for this check from then on (every interval after).
 * When that instant is within snapMs of the check's slot on the new owner's own grid (the clocks
 * agree), it joins its own grid (shift 0). A slot already passed on arrival runs at once; the
 * intervals passed since are skipped (counted).
 *
 * now + dueInMs is late by however long the release took to arrive and to be read — under load,
 * most of a second (the message queued at NATS or in this node's input). What else is known:
 *   - `holderOffsetMs`: the holder's clock minus ours, estimated from its heartbeats
 *     (protocol/clock-offset.ts; null: no estimate yet). Within snapMs the clocks agree, so the
 *     released slot is our own grid's slot whenever the release arrived: it keeps its label and
 *     runs on the grid, at once if passed (a shift by the delay would leave its slot unprobed);
 *   - `stalledMs`: this node's own event loop stalled that long since it claimed (its monotonic
 *     clock), so the slot was due up to that much before now + dueInMs: a released slot in that
 *     window keeps its label too.
 */
export function continueReleased(
  id: string,
  rc: Pick<ReleasedCheck, 'slot' | 'dueInMs'>,
  intervalMs: number,
  now: number,
  known: { stalledMs?: number; holderOffsetMs?: number | null } = {},
): { slot: number; shift: number; skipped: number } {
  const ownDue = now + rc.dueInMs;
  const snap = snapMs(intervalMs);
  const after = nextSlot(id, intervalMs, ownDue - 1);
  const grid = after - ownDue <= ownDue - (after - intervalMs) ? after : after - intervalMs;
  const stalledMs = known.stalledMs ?? 0;
  const clocksAgree = known.holderOffsetMs != null && Math.abs(known.holderOffsetMs) <= snap;
  const inStallWindow = stalledMs > 0 && rc.slot >= ownDue - stalledMs - snap && rc.slot <= ownDue + snap;
  const [label, shift] = clocksAgree || inStallWindow ? [rc.slot, 0] : Math.abs(grid - ownDue) <= snap ? [grid, 0] : [rc.slot, ownDue - rc.slot];
  const skipped = label + shift < now ? Math.floor((now - (label + shift)) / intervalMs) : 0;
  return { slot: label + skipped * intervalMs, shift, skipped };
}
