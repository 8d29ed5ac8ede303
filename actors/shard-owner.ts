// Shard owner: follows this node's assignment, a list of slots (shard, rank). For each gained slot
// it spawns a check runner loaded with the shard's specs that run at that rank (replicas > rank)
// and says how it starts: claim the slot from its previous holder (named by the previous map this
// node followed) while that holder is a live member, else take it over from the result stream
// (protocol/handover.ts gainedStart). Each lost slot's runner releases it to the next owner.
// Spec changes from the catalog are routed to the runners of the check's shard that should run it.
// Once a map has taken every slot away and each runner's release was claimed (or the runner
// stopped), the owner tells the node (`onHandedOver`): a graceful leave may stop.
//
// States:
//   waiting  — until there is an assignment and the catalog has loaded (runners start with their
//              specs in one go rather than one event per spec)
//   owning   — runners exist for the assigned shards
//   stopping — node shutdown: every runner drains; final when the last one has stopped
//   stopped  — final

import { assign, setup, type ActorRefFrom } from 'xstate';
import { SPEC_LIMITS, type NormalizedSpec } from '../checks/spec';
import type { Slot } from '../protocol/assignment-record';
import { gainedStart } from '../protocol/handover';
import type { ShardMap } from '../protocol/records';
import type { Logger } from '../runtime/logger';
import { checkRunnerMachine, type RunnerPorts, type RunnerStart } from './check-runner';
import type { SpecCatalog } from './spec-catalog';

export type OwnerEvent =
  /**
   * `shards`: the whole map (the next ASSIGN reads the previous holders from it); `live`: the
   * members that may still hold slots (alive, suspect, or leaving: not dead). Without them a gained
   * slot claims from whoever holds it. `dead`: the members this node holds dead (a takeover from one
   * skips its seq past what it may have published unseen). `atOnce`: the map reached us after a pause (pause-guard.ts):
   * lost slots are released now instead of probed until claimed.
   */
  | { type: 'ASSIGN'; slots: readonly Slot[]; epoch: number; shards?: ShardMap; live?: readonly string[]; dead?: readonly string[]; atOnce?: boolean }
  /** A runner's release was published and claimed. */
  | { type: 'RUNNER_HANDED_OVER'; id: string }
  | { type: 'SPEC_SET'; spec: NormalizedSpec }
  | { type: 'SPEC_REMOVED'; id: string }
  | { type: 'SPECS_LOADED' }
  | { type: 'STOP' }
  /** A runner reached its final state. */
  | { type: `xstate.done.actor.${string}`; actorId?: string };

export interface OwnerInput {
  catalog: SpecCatalog;
  ports: RunnerPorts;
  /** Every slot this node held has been handed over (a map took them all and each release was claimed). */
  onHandedOver?: () => void;
}

type RunnerRef = ActorRefFrom<typeof checkRunnerMachine>;

/** Ranks a check can run at: a spec asks for at most this many replicas. */
const MAX_RANKS = SPEC_LIMITS.replicas.max;

const slotKey = (shard: number, rank: number) => `${shard}/${rank}`;

/**
 * How a gained (shard, rank) starts: claim it from the holder the previous map names (or from
 * whoever holds it, when no map was followed before), fresh when the previous map had no such
 * rank, or take it over when that holder is no longer a live member.
 */
function startOf(previous: ShardMap | null, shard: number, rank: number, live: readonly string[] | undefined, dead: readonly string[] = []): RunnerStart {
  const holder = previous?.[shard]?.[rank] ?? null;
  // The previous map had no such rank: nobody held it (a passive subscriber to `<prefix>.>` would
  // make a claim wait out LOOKOUT_CLAIM_WAIT_MS instead of getting no responders).
  if (previous !== null && holder === null) return { type: 'fresh' };
  if (live === undefined) return { type: 'claim', holder };
  return gainedStart(holder, live) === 'claim' ? { type: 'claim', holder } : { type: 'takeover', from: holder, heldDead: holder !== null && dead.includes(holder) };
}

interface OwnerContext {
  catalog: SpecCatalog;
  ports: RunnerPorts;
  log: Logger;
  /** Runners of owned slots, keyed "shard/rank". */
  runners: Map<string, RunnerRef>;
  /** Ids of runners told to stop that have not stopped yet. */
  draining: Set<string>;
  /** Runners of moved slots whose release has not been claimed yet. */
  handingOver: Set<string>;
  /** Runners whose release was claimed (possibly before the map moved their slot). */
  handedOver: Set<string>;
  /** The previous map this node followed (who held each slot). */
  previous: ShardMap | null;
  onHandedOver: () => void;
  epoch: number;
  gen: number;
  /** An assignment that arrived while waiting for the catalog. */
  pending: Extract<OwnerEvent, { type: 'ASSIGN' }> | null;
  specsLoaded: boolean;
}

export const shardOwnerMachine = setup({
  types: {
    context: {} as OwnerContext,
    input: {} as OwnerInput,
    events: {} as OwnerEvent,
  },
  actors: { checkRunner: checkRunnerMachine },
  actions: {
    applyAssignment: assign(({ context, event: e, spawn, self }) => {
      const event = e.type === 'ASSIGN' ? e : context.pending;
      if (!event) return {};
      const want = new Map(event.slots.map((s) => [slotKey(s.shard, s.rank), s]));
      const runners = new Map(context.runners);
      const draining = new Set(context.draining);
      const handingOver = new Set(context.handingOver);
      let gen = context.gen;
      let lost = 0;
      let gained = 0;
      for (const [key, ref] of runners) {
        if (want.has(key)) continue;
        // Released to the slot's next owner; a rank the new map no longer has (fewer members) has none.
        const [shard, rank] = key.split('/').map(Number) as [number, number];
        const next = event.shards === undefined ? true : event.shards[shard]?.[rank] !== undefined;
        ref.send({ type: 'STOP', handover: next, ...(event.atOnce ? { atOnce: true } : {}) });
        draining.add(ref.id);
        if (next && !context.handedOver.has(ref.id)) handingOver.add(ref.id);
        runners.delete(key);
        lost++;
      }
      if (event.epoch !== context.epoch) for (const ref of runners.values()) ref.send({ type: 'EPOCH', epoch: event.epoch });
      for (const [key, { shard, rank }] of want) {
        if (runners.has(key)) continue;
        gen++;
        const specs = context.catalog.inShard(shard).filter((spec) => spec.replicas > rank);
        // An older runner of ours for this slot (moved away, now back): it releases and stops at once.
        const children = self.getSnapshot().children as Record<string, RunnerRef | undefined>;
        for (const old of draining) if (old.startsWith(`runner-${shard}-${rank}-`)) children[old]?.send({ type: 'STOP' });
        const id = `runner-${shard}-${rank}-${gen}`;
        const ref = spawn('checkRunner', {
          id,
          input: { shard, rank, gen, epoch: event.epoch, specs, ports: context.ports, start: startOf(context.previous, shard, rank, event.live, event.dead), onHandedOver: () => self.send({ type: 'RUNNER_HANDED_OVER', id }) },
        });
        runners.set(key, ref);
        gained++;
      }
      context.ports.metrics.setShards(runners.size);
      if (gained || lost || event.epoch !== context.epoch) {
        context.log.info({ event: 'assignment_applied', epoch: event.epoch, slots: runners.size, gained, lost }, 'assignment applied');
      }
      return { runners, draining, handingOver, gen, epoch: event.epoch, pending: null, previous: event.shards ?? context.previous };
    }),
    noteHandedOver: assign(({ context, event }) => {
      if (event.type !== 'RUNNER_HANDED_OVER') return {};
      const handingOver = new Set(context.handingOver);
      handingOver.delete(event.id);
      return { handingOver, handedOver: new Set(context.handedOver).add(event.id) };
    }),
    tellHandedOver: ({ context }) => {
      if (context.runners.size === 0 && context.handingOver.size === 0) context.onHandedOver();
    },
    holdAssignment: assign({ pending: ({ event }) => (event.type === 'ASSIGN' ? event : null) }),
    noteLoaded: assign({ specsLoaded: true }),
    routeSet: ({ context, event }) => {
      if (event.type !== 'SPEC_SET') return;
      const shard = context.catalog.shardOf(event.spec.id);
      // Every rank this node may hold for the shard: run where replicas > rank, stop elsewhere
      // (the spec may have lowered its replicas).
      for (let rank = 0; rank < MAX_RANKS; rank++) {
        const ref = context.runners.get(slotKey(shard, rank));
        if (!ref) continue;
        ref.send(event.spec.replicas > rank ? { type: 'CHECK_SET', spec: event.spec } : { type: 'CHECK_REMOVE', id: event.spec.id });
      }
    },
    routeRemove: ({ context, event }) => {
      if (event.type !== 'SPEC_REMOVED') return;
      const shard = context.catalog.shardOf(event.id);
      for (let rank = 0; rank < MAX_RANKS; rank++) context.runners.get(slotKey(shard, rank))?.send({ type: 'CHECK_REMOVE', id: event.id });
    },
    forgetRunner: assign(({ context, event }) => {
      const id = event.type.slice('xstate.done.actor.'.length);
      if (!context.draining.has(id)) return {};
      const draining = new Set(context.draining);
      draining.delete(id);
      const handingOver = new Set(context.handingOver);
      handingOver.delete(id);
      const handedOver = new Set(context.handedOver);
      handedOver.delete(id);
      return { draining, handingOver, handedOver };
    }),
    stopAll: assign(({ context, self }) => {
      // Runners already releasing or keeping a release stop too (no late claim is answered after this).
      const children = self.getSnapshot().children as Record<string, RunnerRef | undefined>;
      for (const id of context.draining) children[id]?.send({ type: 'STOP' });
      const draining = new Set(context.draining);
      for (const ref of context.runners.values()) {
        ref.send({ type: 'STOP' });
        draining.add(ref.id);
      }
      context.ports.metrics.setShards(0);
      context.log.info({ event: 'runners_stopping', runners: draining.size }, 'stopping all runners');
      return { runners: new Map(), draining };
    }),
  },
  guards: {
    loaded: ({ context }) => context.specsLoaded,
    assigned: ({ context }) => context.pending !== null,
    allStopped: ({ context }) => context.runners.size === 0 && context.draining.size === 0,
  },
}).createMachine({
  id: 'shardOwner',
  context: ({ input }) => ({
    catalog: input.catalog,
    ports: input.ports,
    log: input.ports.log.child({ actor: 'shard-owner' }),
    runners: new Map(),
    draining: new Set(),
    handingOver: new Set(),
    handedOver: new Set(),
    previous: null,
    onHandedOver: input.onHandedOver ?? (() => {}),
    epoch: -1,
    gen: 0,
    pending: null,
    specsLoaded: false,
  }),
  initial: 'waiting',
  on: {
    'xstate.done.actor.*': { actions: ['forgetRunner', 'tellHandedOver'] },
    RUNNER_HANDED_OVER: { actions: ['noteHandedOver', 'tellHandedOver'] },
  },
  states: {
    waiting: {
      on: {
        ASSIGN: [{ guard: 'loaded', target: 'owning', actions: 'applyAssignment' }, { actions: 'holdAssignment' }],
        SPECS_LOADED: [{ guard: 'assigned', target: 'owning', actions: ['noteLoaded', 'applyAssignment'] }, { actions: 'noteLoaded' }],
        STOP: 'stopping',
      },
    },
    owning: {
      on: {
        ASSIGN: { actions: ['applyAssignment', 'tellHandedOver'] },
        SPEC_SET: { actions: 'routeSet' },
        SPEC_REMOVED: { actions: 'routeRemove' },
        STOP: 'stopping',
      },
    },
    stopping: {
      entry: 'stopAll',
      always: { guard: 'allStopped', target: 'stopped' },
      on: {
        'xstate.done.actor.*': { actions: 'forgetRunner' },
      },
    },
    stopped: { type: 'final' },
  },
});

