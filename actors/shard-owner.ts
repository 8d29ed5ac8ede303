// Shard owner: follows this node's assignment. For each gained shard it spawns a check runner
// loaded with the shard's specs; for each lost shard it tells the runner to drain and stop. Spec
// changes from the catalog are routed to the runner of the check's shard, if this node owns it.
//
// States:
//   waiting  — no assignment yet: nothing runs
//   owning   — runners exist for the assigned shards
//   stopping — node shutdown: every runner drains; final when the last one has stopped
//   stopped  — final

import { assign, setup, type ActorRefFrom } from 'xstate';
import type { NormalizedSpec } from '../checks/spec';
import type { Logger } from '../runtime/logger';
import { checkRunnerMachine, type RunnerPorts } from './check-runner';
import type { SpecCatalog } from './spec-catalog';

export type OwnerEvent =
  | { type: 'ASSIGN'; shards: readonly number[]; epoch: number }
  | { type: 'SPEC_SET'; spec: NormalizedSpec }
  | { type: 'SPEC_REMOVED'; id: string }
  | { type: 'STOP' }
  /** A runner reached its final state. */
  | { type: `xstate.done.actor.${string}`; actorId?: string };

export interface OwnerInput {
  catalog: SpecCatalog;
  ports: RunnerPorts;
}

type RunnerRef = ActorRefFrom<typeof checkRunnerMachine>;

interface OwnerContext {
  catalog: SpecCatalog;
  ports: RunnerPorts;
  log: Logger;
  /** Runners of owned shards. */
  runners: Map<number, RunnerRef>;
  /** Ids of runners told to stop that have not stopped yet. */
  draining: Set<string>;
  epoch: number;
  gen: number;
}

export const shardOwnerMachine = setup({
  types: {
    context: {} as OwnerContext,
    input: {} as OwnerInput,
    events: {} as OwnerEvent,
  },
  actors: { checkRunner: checkRunnerMachine },
  actions: {
    applyAssignment: assign(({ context, event, spawn }) => {
      if (event.type !== 'ASSIGN') return {};
      const want = new Set(event.shards);
      const runners = new Map(context.runners);
      const draining = new Set(context.draining);
      let gen = context.gen;
      const lost: number[] = [];
      const gained: number[] = [];
      for (const [shard, ref] of runners) {
        if (want.has(shard)) continue;
        ref.send({ type: 'STOP' });
        draining.add(ref.id);
        runners.delete(shard);
        lost.push(shard);
      }
      if (event.epoch !== context.epoch) for (const ref of runners.values()) ref.send({ type: 'EPOCH', epoch: event.epoch });
      for (const shard of want) {
        if (runners.has(shard)) continue;
        gen++;
        const ref = spawn('checkRunner', {
          id: `runner-${shard}-${gen}`,
          input: { shard, gen, epoch: event.epoch, specs: context.catalog.inShard(shard), ports: context.ports },
        });
        runners.set(shard, ref);
        gained.push(shard);
      }
      context.ports.metrics.shardsOwned.set(runners.size);
      if (gained.length || lost.length || event.epoch !== context.epoch) {
        context.log.info({ epoch: event.epoch, shards: runners.size, gained: gained.length, lost: lost.length }, 'assignment applied');
      }
      return { runners, draining, gen, epoch: event.epoch };
    }),
    routeSet: ({ context, event }) => {
      if (event.type !== 'SPEC_SET') return;
      context.runners.get(context.catalog.shardOf(event.spec.id))?.send({ type: 'CHECK_SET', spec: event.spec });
    },
    routeRemove: ({ context, event }) => {
      if (event.type !== 'SPEC_REMOVED') return;
      context.runners.get(context.catalog.shardOf(event.id))?.send({ type: 'CHECK_REMOVE', id: event.id });
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
      context.ports.metrics.shardsOwned.set(0);
      context.log.info({ runners: draining.size }, 'stopping all runners');
      return { runners: new Map(), draining };
    }),
  },
  guards: {
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
  }),
  initial: 'waiting',
  on: {
    'xstate.done.actor.*': { actions: 'forgetRunner' },
  },
  states: {
    waiting: {
      on: {
        ASSIGN: { target: 'owning', actions: 'applyAssignment' },
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

