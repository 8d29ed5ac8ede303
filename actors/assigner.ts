// Assigner: runs only while this node leads. It turns the membership view into the assignment map
// (the pure assignShards) and writes it to KV with compare-and-set, stamped with the leader's term
// and the next epoch.
//
// Membership changes are coalesced (serf's coalesce.go): a change starts a quiet timer that every
// further change restarts, bounded by a maximum delay, so a flapping node causes one rebalance.
// Churn is damped (protocol/churn.ts): a member that keeps coming back (restarts, returns from
// dead) is held out of the map until it has been stable for a while — `member_damped` /
// `member_undamped`, and the map's `damped` list. Members that say they are overloaded (their
// heartbeat) are relieved of primary shards (protocol/overload-relief.ts) — `member_relieved` /
// `member_unrelieved`, and the map's `relieved` list. Members that say they quarantined themselves
// (their heartbeat) are held out within a bound (protocol/quarantine-bound.ts) — `quarantine_admitted`
// / `quarantine_refused` / `quarantine_released`, and the map's `quarantined` and
// `quarantineRefused` lists. Only eligible members (live, not damped) are
// assigned; a change of that set, or of the damped list, is what starts the quiet timer. The hold is re-evaluated on every
// MEMBERS (membership reports on every heartbeat tick). The damping state lives in this actor: a
// new leader starts it afresh, keeping only the members its predecessor's map held out.
//
// States:
//   loading  — read the stored map (the previous assignment and its epoch)
//   waiting  — coalescing membership changes
//   writing  — compute and write the map (skipped when nothing changed under the same term)
//   idle     — the map matches the membership view
//   retrying — the store failed (StorageUnavailable): read again after ASSIGN_RETRY_MS
//   fenced   — NotLeader: this node's lease ran out, or a newer term's map is stored. Nothing is
//              written and nothing retried; the leader actor steps down and the node stops this
//              actor. A renewal told by LEASE after a lapsed lease (the lease outlived a slow
//              write) lets it load and write again.
// A write that loses the compare-and-set (CasConflict) re-reads the map: loading.

import { assign, enqueueActions, fromPromise, setup } from 'xstate';
import { assignShards } from '../protocol/assignment';
import { strikeOut } from '../protocol/takeover';
import { minimalMoves, movedSlots, shardsPerNode } from '../protocol/assignment-moves';
import { dampedMembers, eligibleMembers, emptyChurn, inheritDamped, observeMembers, type ChurnConfig, type ChurnDecision, type ChurnState, type MemberLife } from '../protocol/churn';
import { ErrorCode, errorCode, hasCode, NotLeader } from '../protocol/errors';
import { emptyRelief, inheritRelieved, observeLoad, reliefOf, relievedMembers, type MemberLoad, type ReliefConfig, type ReliefDecision, type ReliefState, type ReliefWithheld } from '../protocol/overload-relief';
import { admissionChanges, admitQuarantined, NO_QUARANTINE, type QuarantineAdmission } from '../protocol/quarantine-bound';
import type { AssignmentRecord } from '../protocol/records';
import type { Clock } from '../runtime/clock';
import type { AssignmentStore, Versioned } from '../runtime/cluster-store';
import type { Logger } from '../runtime/logger';

/**
 * Wait after a failed read or write of the map (the store is unreachable or slow), before reading
 * it again. The pace of the NATS client's own reconnect attempts (runtime/nats.ts NATS_RETRY_MS):
 * a retry cannot succeed before the connection is back, and the map should follow within one
 * attempt once it is. The retries end with the lease: past it the write is fenced (NotLeader).
 */
export const ASSIGN_RETRY_MS = 500;

export interface AssignerInput {
  term: number;
  node: string;
  store: AssignmentStore;
  shardCount: number;
  vantagePoints: number;
  quietMs: number;
  maxDelayMs: number;
  /** Monotonic instant before which the first map of this term is not written (0: no wait). */
  firstMapNotBefore?: number;
  clock: Clock;
  log: Logger;
  /** The latest live members (alive + suspect) when the assigner starts. */
  live: string[];
  /** The failure detector's members when the assigner starts (their lives, for churn damping; whether they are overloaded). */
  members?: readonly AssignedMember[];
  /** Churn damping settings (LOOKOUT_CHURN_*). */
  churn: ChurnConfig;
  /** Overload relief settings (LOOKOUT_OVERLOAD_RELIEF_MS); absent: nobody is relieved. */
  overloadRelief?: ReliefConfig;
  /** LOOKOUT_QUARANTINE_MAX_PERCENT / 100; absent or 0: nobody is held out for quarantine. */
  quarantineMaxFraction?: number;
  /**
   * Monotonic instant this node's lease runs out (from the leader actor, by message: ELECTED, then
   * LEASE after every renewal). Checked right before every write: no map is written after it.
   */
  leaseValidUntil: number;
  /** Public assignment events (`<prefix>.cluster.assignment`). */
  announce(event: Record<string, unknown>): void;
}

/**
 * `members` are the failure detector's members with their lives; without them (a caller that only
 * knows names) every live member counts as one unchanging life and nobody is ever damped.
 */
export type AssignerEvent = { type: 'MEMBERS'; live: string[]; members?: readonly AssignedMember[] } | { type: 'LEASE'; validUntil: number } | { type: 'ELIGIBLE' };

/** What the assigner reads of a member: its lives (churn.ts), whether it says it is overloaded or starting and since when it runs (overload-relief.ts). */
export type AssignedMember = MemberLife & Pick<MemberLoad, 'overloaded' | 'starting' | 'runningSince'> & { quarantined?: boolean };

interface AssignerContext extends AssignerInput {
  /** Live members the map may use (eligibleMembers: `allLive` without the damped), sorted. */
  live: string[];
  /** Every live member last reported, sorted. */
  allLive: string[];
  damping: ChurnState;
  relief: ReliefState;
  /** Eligible members the map relieves of primary slots (overloaded), sorted. */
  relieved: string[];
  /** Members held out of the map for self-quarantine, and those refused past the bound. */
  quarantine: QuarantineAdmission;
  stored: Versioned<AssignmentRecord> | null;
  /** Why the last write was refused (NotLeader), while fenced. */
  fencedBy: NotLeader['reason'] | null;
  /** Monotonic time of the first change not yet written (bounds the coalescing delay). */
  pendingSince: number | null;
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const livesOf = (live: readonly string[]): MemberLife[] => live.map((node) => ({ node, instance: '', state: 'alive' }));

function logRelief(log: Logger, d: ReliefDecision): void {
  if (d.kind === 'relieved') {
    log.warn({ event: 'member_relieved', member: d.node, reason: d.reason, holdMs: d.holdMs, reliefs: d.reliefs }, `member ${d.node} is overloaded: fewer primary shards (while the cluster has room: see relief_withheld) until it has been clear for ${d.holdMs} ms`);
  } else {
    log.info({ event: 'member_unrelieved', member: d.node, reason: d.reason, clearMs: d.clearMs, holdMs: d.holdMs }, `member ${d.node} gets its full share of shards again`);
  }
}

/** Say when the map starts or stops withholding the relief of relieved members (overload-relief.ts reliefOf). */
function logWithheld(log: Logger, before: ReliefWithheld | null, after: ReliefWithheld | null): void {
  if (before?.reason === after?.reason && sameMembers(before?.members ?? [], after?.members ?? [])) return;
  if (after) log.warn({ event: 'relief_withheld', ...after }, `relieved members ${after.members.join(', ')} keep their full share: ${after.reason === 'starting' ? 'most of the cluster is starting' : 'too few members have room'}`);
  else if (before) log.info({ event: 'relief_unwithheld', members: before.members }, 'the map relieves overloaded members again (or none is relieved)');
}

/** Fold a membership report into the relief state (nobody is relieved without settings). */
function observeRelief(state: ReliefState, members: readonly AssignedMember[], now: number, cfg: ReliefConfig | undefined): { state: ReliefState; decisions: ReliefDecision[] } {
  return cfg ? observeLoad(state, members, now, cfg) : { state, decisions: [] };
}

/** Who of `allLive` is held out for quarantine now (`previous` admitted first); the eligible members without them. */
function quarantineOf(previous: readonly string[], members: readonly AssignedMember[], allLive: readonly string[], eligible: readonly string[], fraction: number | undefined): { quarantine: QuarantineAdmission; live: string[] } {
  const quarantine = fraction ? admitQuarantined(previous, members, allLive, fraction) : NO_QUARANTINE;
  return { quarantine, live: quarantine.admitted.length ? eligible.filter((n) => !quarantine.admitted.includes(n)) : [...eligible] };
}

function logQuarantine(log: Logger, before: QuarantineAdmission, after: QuarantineAdmission): void {
  const c = admissionChanges(before, after);
  for (const m of c.admitted) log.warn({ event: 'quarantine_admitted', member: m, quarantined: after.admitted }, `member ${m} quarantined itself: its shards move away`);
  for (const m of c.refused) log.warn({ event: 'quarantine_refused', member: m, quarantined: after.admitted }, `member ${m} quarantined itself past the bound (${after.admitted.length} already): it keeps its shards`);
  for (const m of c.released) log.info({ event: 'quarantine_released', member: m }, `member ${m} is no longer held out for quarantine`);
}

function logDecision(log: Logger, d: ChurnDecision): void {
  if (d.kind === 'damped') {
    log.warn(
      { event: 'member_damped', member: d.node, reason: d.reason, returns: d.returns, windowMs: d.windowMs, holdMs: d.holdMs, dampings: d.dampings },
      `member ${d.node} flaps: held out of the assignment until stable for ${d.holdMs} ms`,
    );
  } else {
    log.info({ event: 'member_undamped', member: d.node, reason: d.reason, stableMs: d.stableMs, holdMs: d.holdMs, dampings: d.dampings }, `member ${d.node} eligible for shards again`);
  }
}

/** The starting context: every member of the view seen once (a first sight is never damped). */
function initialDamping(input: AssignerInput): Pick<AssignerContext, 'live' | 'allLive' | 'damping' | 'relief' | 'relieved' | 'quarantine'> {
  const allLive = [...input.live].sort();
  const members = input.members ?? livesOf(allLive);
  const { state } = observeMembers(emptyChurn(), members, input.clock.monotonic(), input.churn);
  const { quarantine, live } = quarantineOf([], members, allLive, eligibleMembers(state, allLive), input.quarantineMaxFraction);
  const relief = observeRelief(emptyRelief(), members, input.clock.monotonic(), input.overloadRelief).state;
  return { allLive, live, damping: state, relief, relieved: relievedMembers(relief, live), quarantine };
}

const writeMap = fromPromise<Versioned<AssignmentRecord> | null, { ctx: AssignerContext }>(async ({ input: { ctx } }) => {
  const prev = ctx.stored!;
  const live = [...ctx.live].sort();
  if (live.length === 0) return null; // nobody to assign to (not even us: we are leaving)
  // Plan from the map as the nodes run it: owners no longer live struck out, the next ranks moved up
  // (protocol/takeover.ts) — the survivors already took those slots over; keep them where possible.
  const allLive = new Set(ctx.allLive);
  const base = prev.record ? strikeOut(prev.record.shards, (n) => allLive.has(n)) : null;
  const relieved = ctx.relieved.filter((n) => live.includes(n));
  const shards = assignShards(live, base, ctx.shardCount, ctx.vantagePoints, relieved);
  const damped = dampedMembers(ctx.damping);
  const { admitted: quarantined, refused: quarantineRefused } = ctx.quarantine;
  const unchanged =
    prev.record !== null &&
    prev.record.term === ctx.term &&
    sameMembers(prev.record.members, live) &&
    sameMembers(prev.record.damped ?? [], damped) &&
    sameMembers(prev.record.relieved ?? [], relieved) &&
    sameMembers(prev.record.quarantined ?? [], quarantined) &&
    sameMembers(prev.record.quarantineRefused ?? [], quarantineRefused) &&
    movedSlots(prev.record.shards, shards) === 0;
  if (unchanged) return null;
  if (ctx.clock.monotonic() >= ctx.leaseValidUntil) throw new NotLeader(ctx.term, 'lease_expired', 'the lease ran out before the write');
  if (prev.record !== null && prev.record.term > ctx.term) throw new NotLeader(ctx.term, 'newer_term', `the stored map is from term ${prev.record.term}`);
  const record: AssignmentRecord = { term: ctx.term, epoch: (prev.record?.epoch ?? 0) + 1, leader: ctx.node, at: ctx.clock.now(), members: live, shards, ...(damped.length ? { damped } : {}), ...(relieved.length ? { relieved } : {}), ...(quarantined.length ? { quarantined } : {}), ...(quarantineRefused.length ? { quarantineRefused } : {}) };
  const revision = await ctx.store.write(record, prev.revision);
  // Moves counted from the map as run (a dead owner's slots were already taken over by the next ranks).
  const moved = movedSlots(base, shards);
  const minimal = minimalMoves(base, live, ctx.shardCount, ctx.vantagePoints);
  ctx.log.info({ event: 'assignment_written', term: ctx.term, epoch: record.epoch, members: live, damped, relieved, quarantined, quarantineRefused, moved, minimal }, 'assignment written');
  ctx.announce({ term: ctx.term, epoch: record.epoch, leader: ctx.node, at: new Date(record.at).toISOString(), members: live, damped, relieved, quarantined, quarantineRefused, moved, minimalMoves: minimal, shardsPerNode: shardsPerNode(shards) });
  return { revision, record };
});

export const assignerMachine = setup({
  types: {
    context: {} as AssignerContext,
    input: {} as AssignerInput,
    events: {} as AssignerEvent,
  },
  actors: {
    load: fromPromise<Versioned<AssignmentRecord>, AssignmentStore>(({ input }) => input.read()),
    writeMap,
  },
  actions: {
    noteLease: assign(({ context, event }) => (event.type === 'LEASE' ? { leaseValidUntil: Math.max(context.leaseValidUntil, event.validUntil) } : {})),
    /**
     * Fold a membership report into the damping state; when the eligible members change, note
     * them (the change is pending from now) and raise ELIGIBLE for the states that coalesce.
     */
    noteMembers: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'MEMBERS') return;
      const now = context.clock.monotonic();
      const allLive = [...event.live].sort();
      const members = event.members ?? livesOf(allLive);
      const { state, decisions } = observeMembers(context.damping, members, now, context.churn);
      for (const d of decisions) enqueue(() => logDecision(context.log, d));
      const load = observeRelief(context.relief, members, now, context.overloadRelief);
      for (const d of load.decisions) enqueue(() => logRelief(context.log, d));
      const { quarantine, live } = quarantineOf(context.quarantine.admitted, members, allLive, eligibleMembers(state, allLive), context.quarantineMaxFraction);
      enqueue(() => logQuarantine(context.log, context.quarantine, quarantine));
      const { relieved, withheld } = reliefOf(load.state, live);
      if (context.overloadRelief) enqueue(() => logWithheld(context.log, reliefOf(context.relief, context.live).withheld, withheld));
      // A damping alone (of a member already out of the map) is written too: the map is how every node learns it.
      const changed =
        !sameMembers(live, context.live) ||
        !sameMembers(dampedMembers(state), dampedMembers(context.damping)) ||
        !sameMembers(relieved, context.relieved) ||
        !sameMembers(quarantine.admitted, context.quarantine.admitted) ||
        !sameMembers(quarantine.refused, context.quarantine.refused);
      enqueue.assign({ damping: state, relief: load.state, allLive, members, quarantine, ...(changed ? { live, relieved, pendingSince: context.pendingSince ?? now } : {}) });
      if (changed) enqueue.raise({ type: 'ELIGIBLE' });
    }),
    /** A map of an earlier term (another leader's): keep holding out the members it held out. */
    inheritDamped: enqueueActions(({ context, enqueue }) => {
      const rec = context.stored?.record;
      if (!rec || rec.term === context.term) return;
      let { damping, relief } = context;
      if (rec.damped?.length) {
        const { state, decisions } = inheritDamped(context.damping, rec.damped, context.clock.monotonic(), context.churn);
        for (const d of decisions) enqueue(() => logDecision(context.log, d));
        damping = state;
      }
      // And the members it relieved because they were overloaded (fewer primaries for a while yet).
      if (rec.relieved?.length && context.overloadRelief) {
        const { state, decisions } = inheritRelieved(context.relief, rec.relieved, context.clock.monotonic(), context.overloadRelief);
        for (const d of decisions) enqueue(() => logRelief(context.log, d));
        relief = state;
      }
      // And the members it held out for quarantine (admitted first while they still say so).
      const previous = rec.quarantined ?? [];
      if (damping === context.damping && relief === context.relief && previous.length === 0) return;
      const { quarantine, live } = quarantineOf(previous, context.members ?? livesOf(context.allLive), context.allLive, eligibleMembers(damping, context.allLive), context.quarantineMaxFraction);
      enqueue.assign({ damping, relief, live, relieved: relievedMembers(relief, live), quarantine });
    }),
  },
  guards: {
    /** Fenced by a lapsed lease, and this LEASE says it was renewed. */
    renewed: ({ context, event }) => context.fencedBy === 'lease_expired' && event.type === 'LEASE' && event.validUntil > context.clock.monotonic(),
  },
  delays: {
    retry: ASSIGN_RETRY_MS,
    quiet: ({ context }) => {
      const now = context.clock.monotonic();
      const bound = (context.pendingSince ?? now) + context.maxDelayMs - now;
      const delay = Math.max(0, Math.min(context.quietMs, bound));
      // Only the first map of a term waits for a freshly started node to have heard its peers.
      const firstOfTerm = context.stored?.record?.term !== context.term;
      return firstOfTerm ? Math.max(delay, (context.firstMapNotBefore ?? 0) - now) : delay;
    },
  },
}).createMachine({
  id: 'assigner',
  context: ({ input }) => ({ ...input, ...initialDamping(input), log: input.log.child({ actor: 'assigner' }), stored: null, fencedBy: null, pendingSince: null }),
  initial: 'loading',
  // Every state folds membership reports in; `waiting` and `idle` also react to ELIGIBLE.
  on: { LEASE: { actions: 'noteLease' }, MEMBERS: { actions: 'noteMembers' } },
  states: {
    loading: {
      invoke: {
        src: 'load',
        input: ({ context }) => context.store,
        onDone: { target: 'waiting', actions: [assign({ stored: ({ event }) => event.output }), 'inheritDamped'] },
        onError: {
          target: 'retrying',
          actions: ({ context, event }) =>
            context.log.warn({ event: 'assignment_read_failed', code: errorCode(event.error), err: event.error, retryMs: ASSIGN_RETRY_MS }, 'cannot read the assignment'),
        },
      },
    },
    waiting: {
      after: { quiet: 'writing' },
      on: { ELIGIBLE: { target: 'waiting', reenter: true } },
    },
    writing: {
      invoke: {
        src: 'writeMap',
        input: ({ context }) => ({ ctx: context }),
        onDone: {
          target: 'idle',
          actions: assign(({ context, event }) => {
            const stored = event.output ?? context.stored;
            // Members that changed while the write was in flight are still pending.
            const written = stored?.record?.members ?? [];
            const current =
              sameMembers(written, context.live) &&
              sameMembers(stored?.record?.damped ?? [], dampedMembers(context.damping)) &&
              sameMembers(stored?.record?.relieved ?? [], context.relieved) &&
              sameMembers(stored?.record?.quarantined ?? [], context.quarantine.admitted) &&
              sameMembers(stored?.record?.quarantineRefused ?? [], context.quarantine.refused);
            return { stored, pendingSince: context.live.length === 0 || current ? null : (context.pendingSince ?? context.clock.monotonic()) };
          }),
        },
        onError: [
          {
            guard: ({ event }) => hasCode(event.error, ErrorCode.cas_conflict),
            target: 'loading',
            actions: ({ context }) =>
              context.log.warn({ event: 'assignment_conflict', code: ErrorCode.cas_conflict, revision: context.stored?.revision }, 'assignment changed under us; re-reading'),
          },
          {
            guard: ({ event }) => hasCode(event.error, ErrorCode.not_leader),
            target: 'fenced',
            actions: [
              assign({ fencedBy: ({ event }) => (event.error as NotLeader).reason }),
              ({ context, event }) =>
                context.log.warn({ event: 'assignment_fenced', code: ErrorCode.not_leader, term: context.term, reason: (event.error as NotLeader).reason }, 'assignment not written: no longer leader'),
            ],
          },
          {
            target: 'retrying',
            actions: ({ context, event }) =>
              context.log.warn({ event: 'assignment_write_failed', code: errorCode(event.error), err: event.error, retryMs: ASSIGN_RETRY_MS }, 'assignment write failed'),
          },
        ],
      },
    },
    idle: {
      always: { guard: ({ context }) => context.pendingSince !== null, target: 'waiting' },
      on: { ELIGIBLE: { target: 'waiting' } },
    },
    retrying: {
      after: { retry: 'loading' },
    },
    fenced: {
      on: {
        LEASE: [{ guard: 'renewed', target: 'loading', actions: ['noteLease', assign({ fencedBy: null })] }, { actions: 'noteLease' }],
      },
    },
  },
});
