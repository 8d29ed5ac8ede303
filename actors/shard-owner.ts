// Shard owner: follows this node's assignment, a list of slots (shard, rank). For each gained slot
// it spawns a check runner loaded with the shard's specs that run at that rank (replicas > rank);
// for each lost slot it tells the runner to drain and stop. Spec changes from the catalog are
// routed to the runners of the check's shard that should run it.
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
import type { Logger } from '../runtime/logger';
import { checkRunnerMachine, type RunnerPorts } from './check-runner';
import type { SpecCatalog } from './spec-catalog';

export type OwnerEvent =
  /**
   * `handoverAt`: wall-clock ms from which moved slots belong to their new owner (the old owner
   * probes the slots before it, the new one the slots from it). Absent: at once. `atOnce`: the map
   * reached us after a pause (pause-guard.ts): lost slots stop now, none before the instant runs late.
   */
  | { type: 'ASSIGN'; slots: readonly Slot[]; epoch: number; handoverAt?: number; atOnce?: boolean }
  | { type: 'SPEC_SET'; spec: NormalizedSpec }
  | { type: 'SPEC_REMOVED'; id: string }
  | { type: 'SPECS_LOADED' }
  | { type: 'STOP' }
  /** A runner reached its final state. */
  | { type: `xstate.done.actor.${string}`; actorId?: string };

export interface OwnerInput {
  catalog: SpecCatalog;
  ports: RunnerPorts;
}

type RunnerRef = ActorRefFrom<typeof checkRunnerMachine>;

/** Ranks a check can run at: a spec asks for at most this many replicas. */
const MAX_RANKS = SPEC_LIMITS.replicas.max;

const slotKey = (shard: number, rank: number) => `${shard}/${rank}`;

interface OwnerContext {
  catalog: SpecCatalog;
  ports: RunnerPorts;
  log: Logger;
  /** Runners of owned slots, keyed "shard/rank". */
  runners: Map<string, RunnerRef>;
  /** Ids of runners told to stop that have not stopped yet. */
  draining: Set<string>;
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
    applyAssignment: assign(({ context, event: e, spawn }) => {
      const event = e.type === 'ASSIGN' ? e : context.pending;
      if (!event) return {};
      const want = new Map(event.slots.map((s) => [slotKey(s.shard, s.rank), s]));
      const runners = new Map(context.runners);
      const draining = new Set(context.draining);
      let gen = context.gen;
      let lost = 0;
      let gained = 0;
      for (const [key, ref] of runners) {
        if (want.has(key)) continue;
        ref.send({ type: 'STOP', ...(event.handoverAt !== undefined ? { handoverAt: event.handoverAt } : {}), ...(event.atOnce ? { atOnce: true } : {}) });
        draining.add(ref.id);
        runners.delete(key);
        lost++;
      }
      if (event.epoch !== context.epoch) for (const ref of runners.values()) ref.send({ type: 'EPOCH', epoch: event.epoch });
      for (const [key, { shard, rank }] of want) {
        if (runners.has(key)) continue;
        gen++;
        const specs = context.catalog.inShard(shard).filter((spec) => spec.replicas > rank);
        const ref = spawn('checkRunner', {
          id: `runner-${shard}-${rank}-${gen}`,
          input: { shard, rank, gen, epoch: event.epoch, specs, ports: context.ports, ...(event.handoverAt !== undefined ? { startAt: event.handoverAt } : {}) },
        });
        runners.set(key, ref);
        gained++;
      }
      context.ports.metrics.setShards(runners.size);
      if (gained || lost || event.epoch !== context.epoch) {
        context.log.info({ event: 'assignment_applied', epoch: event.epoch, slots: runners.size, gained, lost }, 'assignment applied');
      }
      return { runners, draining, gen, epoch: event.epoch, pending: null };
    }),
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
      return { draining };
    }),
    stopAll: assign(({ context }) => {
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
    epoch: -1,
    gen: 0,
    pending: null,
    specsLoaded: false,
  }),
  initial: 'waiting',
  on: {
    'xstate.done.actor.*': { actions: 'forgetRunner' },
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
        ASSIGN: { actions: 'applyAssignment' },
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

