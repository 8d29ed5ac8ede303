// Shard owner: follows this node's assignment, a list of slots (shard, rank). For each gained slot
// it spawns a check runner loaded with the shard's specs that run at that rank (replicas > rank)
// and says how it starts: claim the slot from its previous holder (named by the previous map this
// node followed) while that holder is a live member, else take it over from the result stream
// (protocol/handover.ts gainedStart). Each lost slot's runner releases it to the next owner.
// A gained slot's runner starts once the shard's specs are held (SpecHolder.hold: this node
// watches only the shards it serves); a shard no rank of which is held any more is dropped.
// Spec changes from the catalog are routed to the runners of the check's shard that should run it.
// Once a map has taken every slot away and each runner's release was claimed (or the runner
// stopped), the owner tells the node (`onHandedOver`): a graceful leave may stop. The first time
// every assigned slot has its runner (no shard's specs still loading), it tells the node once
// (`onRunning`): the heartbeat stops saying `starting` (protocol/takeover.ts: a restart's slots
// are run by the next owners until then).
//
// States:
//   waiting  — until there is an assignment
//   owning   — runners exist for the assigned slots whose shard's specs are held (the others wait
//              for their hold: runners start with their specs in one go, not one event per spec)
//   stopping — node shutdown: every runner drains; final when the last one has stopped
//   stopped  — final

import { assign, setup } from 'xstate';
import { SPEC_LIMITS, type NormalizedSpec } from '../checks/spec';
import type { Slot } from '../protocol/assignment-record';
import { slotKey, spawnRunner, startOf, syncHolds, type Deferred, type OwnerContext, type RunnerRef } from './owner-slots';
import type { ShardMap } from '../protocol/records';
import { checkRunnerMachine, type RunnerPorts } from './check-runner';
import type { SpecHolder } from './shard-specs';

export type OwnerEvent =
  /**
   * `shards`: the whole map (the next ASSIGN reads the previous holders from it); `live`: the
   * members that may still hold slots (alive, suspect, or leaving: not dead). Without them a gained
   * slot claims from whoever holds it. `dead`: the members this node holds dead (a takeover from one
   * skips its seq past what it may have published unseen); `restarted`: those held dead because a new
   * life of them is heard (a takeover from one has no catch-up probe). `atOnce`: the map reached us after a pause (pause-guard.ts):
   * lost slots are released now instead of probed until claimed.
   */
  | { type: 'ASSIGN'; slots: readonly Slot[]; epoch: number; shards?: ShardMap; live?: readonly string[]; dead?: readonly string[]; restarted?: readonly string[]; atOnce?: boolean }
  /** A runner's release was published and claimed. */
  | { type: 'RUNNER_HANDED_OVER'; id: string }
  | { type: 'SPEC_SET'; spec: NormalizedSpec }
  | { type: 'SPEC_REMOVED'; id: string }
  /** The hold of `shard` (its `gen`-th) has loaded its specs. */
  | { type: 'SHARD_LOADED'; shard: number; gen: number }
  | { type: 'STOP' }
  /** A runner reached its final state. */
  | { type: `xstate.done.actor.${string}`; actorId?: string };

export interface OwnerInput {
  specs: SpecHolder;
  ports: RunnerPorts;
  /** Every slot this node held has been handed over (a map took them all and each release was claimed). */
  onHandedOver?: () => void;
  /** Once per life: every slot of the followed map has its runner (the heartbeat stops saying `starting`). */
  onRunning?: () => void;
}

/** Ranks a check can run at: a spec asks for at most this many replicas. */
const MAX_RANKS = SPEC_LIMITS.replicas.max;



export const shardOwnerMachine = setup({
  types: {
    context: {} as OwnerContext,
    input: {} as OwnerInput,
    events: {} as OwnerEvent,
  },
  actors: { checkRunner: checkRunnerMachine },
  actions: {
    applyAssignment: assign(({ context, event, spawn, self }) => {
      if (event.type !== 'ASSIGN') return {};
      const want = new Map(event.slots.map((s) => [slotKey(s.shard, s.rank), s]));
      const runners = new Map(context.runners);
      const draining = new Set(context.draining);
      const handingOver = new Set(context.handingOver);
      const deferred = new Map([...context.deferred].filter(([key]) => want.has(key)));
      let gen = context.gen;
      let lost = 0;
      let gained = 0;
      for (const [key, ref] of runners) {
        if (want.has(key)) continue;
        // Released to the slot's next owner; a rank the new map no longer has (fewer members) has none.
        const [shard, rank] = key.split('/').map(Number) as [number, number];
        const nextOwner = event.shards?.[shard]?.[rank];
        const next = event.shards === undefined ? true : nextOwner !== undefined;
        ref.send({ type: 'STOP', handover: next, ...(event.atOnce ? { atOnce: true } : {}), ...(nextOwner !== undefined ? { nextOwner } : {}) });
        draining.add(ref.id);
        if (next && !context.handedOver.has(ref.id)) handingOver.add(ref.id);
        runners.delete(key);
        lost++;
      }
      if (event.epoch !== context.epoch) for (const ref of runners.values()) ref.send({ type: 'EPOCH', epoch: event.epoch });
      for (const [key, { shard, rank }] of want) {
        if (runners.has(key) || deferred.has(key)) continue;
        const slot: Deferred = { shard, rank, start: startOf(context.previous, shard, rank, event.live, event.dead, event.restarted, context.epoch, context.ports.clock.now()) };
        gained++;
        if (!context.loaded.has(shard)) {
          deferred.set(key, slot);
          continue;
        }
        gen++;
        runners.set(key, spawnRunner({ ...context, draining }, (id, input) => spawn('checkRunner', { id, input }), self, slot, gen, event.epoch));
      }
      const holding = new Map(context.holding);
      const loaded = new Set(context.loaded);
      syncHolds(context, want, holding, loaded, self);
      context.specs.setPrimaries?.([...want.values()].filter((s) => s.rank === 0).map((s) => s.shard));
      context.ports.metrics.setShards(runners.size);
      if (gained || lost || event.epoch !== context.epoch) {
        context.log.info({ event: 'assignment_applied', epoch: event.epoch, slots: runners.size, waitingForSpecs: deferred.size, gained, lost }, 'assignment applied');
      }
      return { runners, draining, handingOver, deferred, holding, loaded, gen, epoch: event.epoch, previous: event.shards ?? context.previous };
    }),
    startLoaded: assign(({ context, event, spawn, self }) => {
      if (event.type !== 'SHARD_LOADED' || context.holding.get(event.shard) !== event.gen) return {};
      const loaded = new Set(context.loaded).add(event.shard);
      const deferred = new Map(context.deferred);
      const runners = new Map(context.runners);
      let gen = context.gen;
      for (const [key, slot] of context.deferred) {
        if (slot.shard !== event.shard) continue;
        deferred.delete(key);
        gen++;
        runners.set(key, spawnRunner(context, (id, input) => spawn('checkRunner', { id, input }), self, slot, gen, context.epoch));
      }
      context.ports.metrics.setShards(runners.size);
      context.log.info({ event: 'shard_specs_held', shard: event.shard, specs: context.catalog.countInShard(event.shard), slots: runners.size, waitingForSpecs: deferred.size }, 'shard specs held; its slots run');
      return { loaded, deferred, runners, gen };
    }),
    noteHandedOver: assign(({ context, event }) => {
      if (event.type !== 'RUNNER_HANDED_OVER') return {};
      const handingOver = new Set(context.handingOver);
      handingOver.delete(event.id);
      return { handingOver, handedOver: new Set(context.handedOver).add(event.id) };
    }),
    tellRunning: assign(({ context }) => {
      if (context.running || context.deferred.size > 0) return {};
      context.log.info({ event: 'slots_running', slots: context.runners.size }, 'every assigned slot runs: this node is no longer starting');
      context.onRunning();
      return { running: true };
    }),
    tellHandedOver: ({ context }) => {
      if (context.runners.size === 0 && context.deferred.size === 0 && context.handingOver.size === 0) context.onHandedOver();
    },
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
      return { runners: new Map(), draining, deferred: new Map() };
    }),
  },
  guards: {
    allStopped: ({ context }) => context.runners.size === 0 && context.draining.size === 0,
  },
}).createMachine({
  id: 'shardOwner',
  context: ({ input }) => ({
    specs: input.specs,
    catalog: input.specs.catalog,
    ports: input.ports,
    log: input.ports.log.child({ actor: 'shard-owner' }),
    runners: new Map(),
    draining: new Set(),
    handingOver: new Set(),
    handedOver: new Set(),
    previous: null,
    onHandedOver: input.onHandedOver ?? (() => {}),
    onRunning: input.onRunning ?? (() => {}),
    running: false,
    epoch: -1,
    gen: 0,
    deferred: new Map(),
    holding: new Map(),
    loaded: new Set(),
    holdSeq: { n: 0 },
  }),
  initial: 'waiting',
  on: {
    'xstate.done.actor.*': { actions: ['forgetRunner', 'tellHandedOver'] },
    RUNNER_HANDED_OVER: { actions: ['noteHandedOver', 'tellHandedOver'] },
  },
  states: {
    waiting: {
      on: {
        ASSIGN: { target: 'owning', actions: ['applyAssignment', 'tellRunning'] },
        STOP: 'stopping',
      },
    },
    owning: {
      on: {
        ASSIGN: { actions: ['applyAssignment', 'tellHandedOver', 'tellRunning'] },
        SHARD_LOADED: { actions: ['startLoaded', 'tellRunning'] },
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

