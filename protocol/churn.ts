// Membership churn damping: which live members the leader holds out of the assignment because they
// flap (crash and restart again and again), and when it lets them back in. Pure: the leader's
// monotonic time comes in as an argument; decisions come out as values for the assigner to log.
//
// A member's lives are told apart by its instance id (never by wall time). A **return** is a member
// entering service again after its first join: a heartbeat of a new instance (a restart, quick or
// not: every process draws a fresh id), or the same instance heard again after it was declared
// dead. An instance seen before is not a new life: two processes that share a node id by mistake
// alternate in the detector's view, and that is one return, not one per heartbeat. The first join is not a
// return, so a new node is never delayed; neither is one restart (a rolling upgrade restarts each
// node once). Deaths without a return cost nothing here: the node is out of the map anyway.
//
// Per member, what an operator reads in `member_damped` / `member_undamped`:
//
//   in service → damped     its `threshold`-th return within `windowMs` (reason `flapping`), or
//                           held out by the previous leader's map (reason `inherited`)
//   damped     → in service alive (one instance, not suspect) for its hold, counted from the
//                           later of the damping and the start of the current stable run
//                           (reason `stable`); a restart or suspicion while damped restarts it
//   damped     → forgotten  the failure detector forgot the member (reason `forgotten`)
//
// The hold grows with repeated damping, like a route-flap-damping penalty: the n-th damping holds
// holdMs·2^(n−1), at most maxHoldMs. The count decays: once a member has had no return for
// maxHoldMs it is forgiven and its next damping holds holdMs again. A member undamped while its
// returns are still within the window is damped again by its next return (with a longer hold).
//
// A damped member still heartbeats and is shown (cluster.status, the map's `damped` list, which
// keeps it while dead but drops it once it left gracefully); only the assignment skips it. Damping never empties the assignment: when every live member is damped,
// all of them are eligible.

import type { MemberState } from './failure-detector';

export interface ChurnConfig {
  /** Returns within this window (ms of the leader's monotonic clock) are counted. */
  windowMs: number;
  /** This many returns within windowMs make a member flapping (at least 2: one restart is never damped). */
  threshold: number;
  /** The first damping holds a member out until it has been stable this long. */
  holdMs: number;
  /** Bound of the growing hold, and the quiet time after which a member's dampings are forgiven. */
  maxHoldMs: number;
}

/** What the damping reads of a member (a failure-detector Member has these fields). */
export interface MemberLife {
  node: string;
  /** Instance id of the life last heard ('' while only known from a map: not a life of its own). */
  instance: string;
  state: MemberState;
}

/** How many of a member's latest instance ids are remembered (an id among them is no new life). */
export const LIVES_REMEMBERED = 8;

interface MemberChurn {
  /** Instance ids of its latest lives, oldest first (empty while only known from a map). */
  instances: string[];
  /** State when last observed. */
  state: MemberState;
  /** Monotonic times of the returns within the window. */
  returns: number[];
  lastReturnAt: number | null;
  /** Start of the current run of `alive` in one instance (null while suspect, dead or left). */
  stableSince: number | null;
  damped: { since: number; holdMs: number } | null;
  /** Dampings not yet forgiven (the hold doubles with each). */
  dampings: number;
}

export type ChurnState = ReadonlyMap<string, Readonly<MemberChurn>>;

export type ChurnDecision =
  | { kind: 'damped'; node: string; reason: 'flapping' | 'inherited'; returns: number; windowMs: number; holdMs: number; dampings: number }
  | { kind: 'undamped'; node: string; reason: 'stable' | 'forgotten'; stableMs: number; holdMs: number; dampings: number };

export const emptyChurn = (): ChurnState => new Map();

/** Hold of the n-th damping (n ≥ 1): holdMs · 2^(n−1), bounded by maxHoldMs. */
export function holdFor(cfg: ChurnConfig, dampings: number): number {
  return Math.min(cfg.maxHoldMs, cfg.holdMs * 2 ** Math.max(0, Math.min(dampings - 1, 30)));
}

const isLive = (s: MemberState): boolean => s === 'alive' || s === 'suspect';

function observeOne(prev: Readonly<MemberChurn> | undefined, m: MemberLife, now: number, cfg: ChurnConfig, out: ChurnDecision[]): MemberChurn {
  const live = isLive(m.state);
  const first = m.instance === '' ? [] : [m.instance];
  if (!prev) return { instances: first, state: m.state, returns: [], lastReturnAt: null, stableSince: m.state === 'alive' ? now : null, damped: null, dampings: 0 };
  const known = m.instance === '' || prev.instances.includes(m.instance);
  const newLife = !known && prev.instances.length > 0;
  const instances = known ? prev.instances : [...prev.instances, m.instance].slice(-LIVES_REMEMBERED);
  const returned = live && (newLife || !isLive(prev.state));
  const returns = prev.returns.filter((t) => now - t < cfg.windowMs);
  if (returned) returns.push(now);
  const lastReturnAt = returned ? now : prev.lastReturnAt;
  const stableSince = m.state === 'alive' ? (newLife ? now : (prev.stableSince ?? now)) : null;
  let { damped, dampings } = prev;
  if (!damped && dampings > 0 && (lastReturnAt === null || now - lastReturnAt >= cfg.maxHoldMs)) dampings = 0;
  if (!damped && returned && returns.length >= cfg.threshold) {
    dampings += 1;
    damped = { since: now, holdMs: holdFor(cfg, dampings) };
    out.push({ kind: 'damped', node: m.node, reason: 'flapping', returns: returns.length, windowMs: cfg.windowMs, holdMs: damped.holdMs, dampings });
  } else if (damped && stableSince !== null && now - Math.max(stableSince, damped.since) >= damped.holdMs) {
    out.push({ kind: 'undamped', node: m.node, reason: 'stable', stableMs: now - Math.max(stableSince, damped.since), holdMs: damped.holdMs, dampings });
    damped = null;
  }
  return { instances, state: m.state, returns, lastReturnAt, stableSince, damped, dampings };
}

/**
 * Fold the failure detector's member list of this instant into the damping state. Members missing
 * from the list were forgotten by the detector and are dropped (a damped one with a decision).
 */
export function observeMembers(state: ChurnState, members: readonly MemberLife[], now: number, cfg: ChurnConfig): { state: ChurnState; decisions: ChurnDecision[] } {
  const decisions: ChurnDecision[] = [];
  const next = new Map<string, MemberChurn>();
  for (const m of members) next.set(m.node, observeOne(state.get(m.node), m, now, cfg, decisions));
  for (const [node, c] of state) {
    if (next.has(node) || !c.damped) continue;
    decisions.push({ kind: 'undamped', node, reason: 'forgotten', stableMs: 0, holdMs: c.damped.holdMs, dampings: c.dampings });
  }
  return { state: next, decisions };
}

/**
 * A new leader takes over the members its predecessor's map held out (`damped`): each is held for
 * a fresh holdMs from now (the predecessor's counts died with it). Members already damped here
 * are left as they are.
 */
export function inheritDamped(state: ChurnState, damped: readonly string[], now: number, cfg: ChurnConfig): { state: ChurnState; decisions: ChurnDecision[] } {
  const decisions: ChurnDecision[] = [];
  const next = new Map<string, MemberChurn>(state);
  for (const node of damped) {
    const prev = state.get(node);
    if (prev?.damped) continue;
    const base: MemberChurn = prev ? { ...prev } : { instances: [], state: 'alive', returns: [], lastReturnAt: null, stableSince: null, damped: null, dampings: 0 };
    const dampings = Math.max(1, base.dampings);
    next.set(node, { ...base, lastReturnAt: base.lastReturnAt ?? now, damped: { since: now, holdMs: cfg.holdMs }, dampings });
    decisions.push({ kind: 'damped', node, reason: 'inherited', returns: base.returns.length, windowMs: cfg.windowMs, holdMs: cfg.holdMs, dampings });
  }
  return { state: next, decisions };
}

/**
 * Members currently held out (sorted), the published list: dead ones too (so a crash of a damped
 * member changes no map), but not one that announced a graceful leave (its leave then changes the
 * list, and the map that says so is the one a leaving node waits for before it stops).
 */
export function dampedMembers(state: ChurnState): string[] {
  return [...state.entries()]
    .filter(([, c]) => c.damped !== null && c.state !== 'left')
    .map(([n]) => n)
    .sort();
}

/**
 * The live members the assignment may use: `live` without the damped ones — unless that leaves
 * nobody, then all of `live` (a flapping owner is better than none).
 */
export function eligibleMembers(state: ChurnState, live: readonly string[]): string[] {
  const out = live.filter((n) => !state.get(n)?.damped);
  return out.length > 0 ? out : [...live];
}
