// Overload relief: which members the leader gives fewer primary shards because they say they are
// overloaded (their heartbeat's `overloaded`, protocol/overload.ts), and when it gives them their
// full share again. Pure, in the pattern of churn.ts: the leader's monotonic time comes in as an
// argument, decisions come out as values for the assigner to log.
//
// Per member, what an operator reads in `member_relieved` / `member_unrelieved`:
//
//   full share → relieved   it says it is overloaded (reason `overloaded`), or the previous
//                           leader's map relieved it (reason `inherited`)
//   relieved   → full share it has said it is clear (or is no longer live) for its hold, counted
//                           from the later of the relief and the start of its clear run (reason
//                           `clear`); saying overloaded again restarts the count
//   relieved   → forgotten  the failure detector forgot the member (reason `forgotten`)
//
// The node itself only says overloaded after LOOKOUT_OVERLOAD_HOLD_MS of lag, and clear after as
// long below half of it; the leader adds a hold of its own that grows like churn damping's: the n-th
// relief within maxHoldMs of the end of the previous one holds holdMs·2^(n−1), at most maxHoldMs. A node that is
// overloaded whenever it has its full share (too many checks for its CPU) is then relieved for longer
// each time instead of flapping, and one that recovered for good is forgiven after maxHoldMs.
//
// What relief means for the map (assignment-quotas.ts): a relieved member keeps RELIEF_SHARE of
// its fair share of primary (rank-0) slots, the others share the rest. Relief moves work to members
// with room, so it applies only while at least half of the eligible members run (are not starting)
// and at least half of them have room (say they are clear, starting or not, and are not relieved):
// when most of the cluster is overloaded (a machine or a network they all share), moving shards
// among them would only add handovers, and the map is balanced as usual. While members are relieved
// but the map cannot apply it, the assigner logs `relief_withheld` with the reason.
//
// A **starting** member (its heartbeat's `starting`: the slots of its first map are not all running
// yet) is not judged by its load: its lag is its start's (specs loading, first probes, resume
// lookups), not its share's. Its overload relieves nobody — moving shards off a node that is
// loading them only makes it and the next owner load again — and its clear reports do not count
// toward its own hold (a relieved member that restarts counts its clear run from when it runs).
// They do count as room for others' shards: a node that joins a running cluster beside a starved
// member is the room relief needs (requiring it to run first withheld relief for 90 s in two CI
// runs of the solo overload tests). At a cluster's start every member is starting, so no map
// relieves anyone until most of them run: at 1M checks the nodes, starting together on one
// saturated host, turned overloaded a few seconds apart, and each moment's minority was relieved
// onto members that were overloaded seconds later (BENCHMARKS.md §16).
//
// Nor is a member judged right after its start: its overload relieves it only after it has run
// for the first hold (holdMs). A node's heartbeat stops
// saying `starting` when its shards' specs are held, but its start's work goes on (the resume
// lookups, the first probes of ~100k checks): at 1M checks the nodes said overloaded 0.1–1 s after
// they ran and clear 5–8 s later, and a map that relieved two of them while the others still
// loaded (counted as room) was followed by false deaths and a start that never settled. When it
// began to run is what every node's failure detector heard (Member.runningSince), so a leader
// elected right after the start judges alike (in a 1M run with the leader counting from its own
// sight, a new leader relieved four members 1 s after they ran — withheld only for want of room).

import type { MemberState } from './failure-detector';

/** A relieved member keeps this fraction of its fair share of primary slots. */
export const RELIEF_SHARE = 0.5;

/** The longest hold, in multiples of the first (LOOKOUT_OVERLOAD_RELIEF_MS). */
export const RELIEF_MAX_HOLD_FACTOR = 10;

export interface ReliefConfig {
  /** The first relief lasts until the member has been clear this long. */
  holdMs: number;
  /** Bound of the growing hold, and the quiet time after which its reliefs are forgiven. */
  maxHoldMs: number;
}

/** The relief settings from LOOKOUT_OVERLOAD_RELIEF_MS. */
export function reliefConfig(holdMs: number): ReliefConfig {
  return { holdMs, maxHoldMs: RELIEF_MAX_HOLD_FACTOR * holdMs };
}

/** What relief reads of a member (a failure-detector Member has these fields). */
export interface MemberLoad {
  node: string;
  state: MemberState;
  overloaded?: boolean;
  /** Its first map's slots are not all running yet (records.ts Heartbeat.starting). */
  starting?: boolean;
  /**
   * Since when (this node's monotonic time) its life has said it runs (failure-detector.ts
   * Member.runningSince: every member the detector heard running has it); absent: judged at once.
   */
  runningSince?: number;
}

interface MemberRelief {
  /** What its last heartbeat said (and it is live). */
  overloaded: boolean;
  /** Its last heartbeat said it is starting (and it is live): its load is not judged. */
  starting: boolean;
  /** Since when it has said it is clear (or not been live), while relieved; null while it says overloaded. */
  clearSince: number | null;
  relieved: { since: number; holdMs: number } | null;
  /** Reliefs not yet forgiven (the hold doubles with each). */
  reliefs: number;
  /** When its last relief began or ended (its reliefs are forgiven maxHoldMs after). */
  lastReliefAt: number | null;
}

export type ReliefState = ReadonlyMap<string, Readonly<MemberRelief>>;

export type ReliefDecision =
  | { kind: 'relieved'; node: string; reason: 'overloaded' | 'inherited'; holdMs: number; reliefs: number }
  | { kind: 'unrelieved'; node: string; reason: 'clear' | 'forgotten'; clearMs: number; holdMs: number };

export const emptyRelief = (): ReliefState => new Map();

/** Hold of the n-th relief (n ≥ 1): holdMs · 2^(n−1), bounded by maxHoldMs. */
export function reliefHold(cfg: ReliefConfig, reliefs: number): number {
  return Math.min(cfg.maxHoldMs, cfg.holdMs * 2 ** Math.max(0, Math.min(reliefs - 1, 30)));
}

const isLive = (s: MemberState): boolean => s === 'alive' || s === 'suspect';

/**
 * Whether a member that runs has run for `holdMs`, so that its overload is its share's, not its
 * start's (absent runningSince: judged at once). Overload leadership (overload-leadership.ts) judges a node's own
 * overload by the same rule.
 */
export const ranForHold = (m: Pick<MemberLoad, 'runningSince'>, now: number, holdMs: number): boolean => m.runningSince === undefined || now - m.runningSince >= holdMs;

function observeOne(prev: Readonly<MemberRelief> | undefined, m: MemberLoad, now: number, cfg: ReliefConfig, out: ReliefDecision[]): MemberRelief {
  const overloaded = m.overloaded === true && isLive(m.state);
  const starting = m.starting === true && isLive(m.state);
  let { relieved, reliefs, lastReliefAt, clearSince } = prev ?? { relieved: null, reliefs: 0, lastReliefAt: null, clearSince: null };
  const keep = (r: Omit<MemberRelief, 'overloaded' | 'starting'>): MemberRelief => ({ ...r, overloaded, starting });
  if (!relieved && reliefs > 0 && (lastReliefAt === null || now - lastReliefAt >= cfg.maxHoldMs)) reliefs = 0;
  if (starting) return keep({ relieved, reliefs, lastReliefAt, clearSince: null });
  if (overloaded) {
    clearSince = null;
    if (!relieved && ranForHold(m, now, cfg.holdMs)) {
      reliefs += 1;
      lastReliefAt = now;
      relieved = { since: now, holdMs: reliefHold(cfg, reliefs) };
      out.push({ kind: 'relieved', node: m.node, reason: 'overloaded', holdMs: relieved.holdMs, reliefs });
    }
    return keep({ relieved, reliefs, lastReliefAt, clearSince });
  }
  if (!relieved) return keep({ relieved, reliefs, lastReliefAt, clearSince: null });
  clearSince ??= now;
  const clearMs = now - Math.max(clearSince, relieved.since);
  if (clearMs >= relieved.holdMs) {
    out.push({ kind: 'unrelieved', node: m.node, reason: 'clear', clearMs, holdMs: relieved.holdMs });
    return keep({ relieved: null, reliefs, lastReliefAt: now, clearSince: null });
  }
  return keep({ relieved, reliefs, lastReliefAt, clearSince });
}

/**
 * Fold the failure detector's member list of this instant into the relief state. Members missing
 * from the list were forgotten by the detector and are dropped (a relieved one with a decision).
 */
export function observeLoad(state: ReliefState, members: readonly MemberLoad[], now: number, cfg: ReliefConfig): { state: ReliefState; decisions: ReliefDecision[] } {
  const decisions: ReliefDecision[] = [];
  const next = new Map<string, MemberRelief>();
  for (const m of members) next.set(m.node, observeOne(state.get(m.node), m, now, cfg, decisions));
  for (const [node, r] of state) {
    if (next.has(node) || !r.relieved) continue;
    decisions.push({ kind: 'unrelieved', node, reason: 'forgotten', clearMs: 0, holdMs: r.relieved.holdMs });
  }
  return { state: next, decisions };
}

/** Why the map relieves nobody although some members are relieved: most of the cluster is starting, or too few members have room. */
export interface ReliefWithheld {
  reason: 'starting' | 'no_room';
  /** The members relieved but not given fewer shards. */
  members: string[];
  /** Of the eligible members: how many run (are not starting), how many have room. */
  running: number;
  room: number;
  eligible: number;
}

/**
 * The members of `eligible` the map relieves (sorted): those relieved now — none unless at least
 * half of the eligible members run (are not starting) and at least half of them have room (say
 * they are clear and are not relieved themselves; a starting member that says it is clear counts).
 * `withheld` says why, when some members are relieved and the map relieves none of them.
 */
export function reliefOf(state: ReliefState, eligible: readonly string[]): { relieved: string[]; withheld: ReliefWithheld | null } {
  const members = eligible.filter((n) => state.get(n)?.relieved).sort();
  if (members.length === 0) return { relieved: [], withheld: null };
  const running = eligible.filter((n) => !state.get(n)?.starting).length;
  const room = eligible.filter((n) => !state.get(n)?.overloaded && !state.get(n)?.relieved).length;
  const reason = 2 * running < eligible.length ? 'starting' : 2 * room < eligible.length ? 'no_room' : null;
  return reason ? { relieved: [], withheld: { reason, members, running, room, eligible: eligible.length } } : { relieved: members, withheld: null };
}

/** The members of `eligible` the map relieves (reliefOf). */
export const relievedMembers = (state: ReliefState, eligible: readonly string[]): string[] => reliefOf(state, eligible).relieved;

/**
 * A new leader takes over the members its predecessor's map relieved: each is held relieved for a
 * fresh holdMs from now, so a leader change alone gives nobody its full share back early.
 */
export function inheritRelieved(state: ReliefState, relieved: readonly string[], now: number, cfg: ReliefConfig): { state: ReliefState; decisions: ReliefDecision[] } {
  const decisions: ReliefDecision[] = [];
  const next = new Map<string, MemberRelief>(state);
  for (const node of relieved) {
    const prev = state.get(node);
    if (prev?.relieved) continue;
    const reliefs = Math.max(1, prev?.reliefs ?? 0);
    next.set(node, { overloaded: prev?.overloaded ?? false, starting: prev?.starting ?? false, relieved: { since: now, holdMs: cfg.holdMs }, reliefs, lastReliefAt: now, clearSince: null });
    decisions.push({ kind: 'relieved', node, reason: 'inherited', holdMs: cfg.holdMs, reliefs });
  }
  return { state: next, decisions };
}
