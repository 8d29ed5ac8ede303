// The node's lifecycle: when a running node stops, and how it leaves the cluster first. A child
// machine the node invokes while running; it tells the node to start leaving (LEAVING: release the
// lease, announce the leave) and, by reaching its final state, to stop (its output says why).
//
// States an operator reads in the logs, and the legal transitions:
//
//   active ──SHUTDOWN──▶ leaving.awaitingMap                "leaving: handing shards over before stopping"
//   leaving.awaitingMap ──alone, or no map yet──▶ stopping   (nobody to hand over to)
//   leaving.awaitingMap ──a map without this node──▶ leaving.handingOver   "handover map received"
//   leaving.awaitingMap ──leaveTimeoutMs──▶ stopping         "leave timeout: stopping without a handover map"
//   leaving.handingOver ──HANDED_OVER (every runner released, each release claimed)──▶ leaving.flushing
//   leaving.handingOver ──leaveTimeoutMs──▶ leaving.flushing "leave timeout: stopping before every release was claimed"
//   leaving.flushing ──NATS confirmed what was published (nc.flush), or LEAVE_FLUSH_MS──▶ stopping
//   active | leaving ──DUPLICATE──▶ stopping                 (another process runs with this node id: it
//                                                            holds the same shards, so no leave, no handover)
//
// While leaving the node keeps probing until the map without it arrives; its runners then release
// their slots by message (protocol/handover.ts) and the node stops once the new owners have claimed
// them — no wall-clock instant is involved. A second SHUTDOWN changes nothing. The node passes
// every new cluster view (VIEW), every followed map (ASSIGNED, before that map's VIEW) and the
// shard owner's HANDED_OVER in.

import { assign, fromPromise, sendParent, setup } from 'xstate';
import type { ClusterView } from '../protocol/cluster-view';
import type { Logger } from '../runtime/logger';
import type { Assigned } from './assignment-follower';

export interface LifecycleInput {
  /** The node's logger (the lines are the node's). */
  log: Logger;
  /** The node's cluster view when the lifecycle starts. */
  view: ClusterView;
  /** How long a leaving node waits for a map without itself, and then for its releases to be claimed. */
  leaveTimeoutMs: number;
  /** Write what was published to NATS and wait for the server's answer (nc.flush). */
  flush(): Promise<void>;
}

/** How long a leaving node waits for its last releases to reach NATS before it stops anyway. */
export const LEAVE_FLUSH_MS = 2000;

export type LifecycleEvent =
  | { type: 'SHUTDOWN' }
  | { type: 'DUPLICATE' }
  | { type: 'VIEW'; view: ClusterView }
  | { type: 'HANDED_OVER' }
  | Pick<Assigned, 'type' | 'record' | 'slots'>;

/** Sent to the node when it starts leaving: release the lease, announce the leave. */
export type LifecycleLeaving = { type: 'LEAVING' };

/** Why the node stops: a requested shutdown, or another process running with its node id. */
export interface LifecycleOutput {
  reason: 'shutdown' | 'duplicate_node_id';
}

interface LifecycleContext extends LifecycleInput {
  reason: LifecycleOutput['reason'];
}

/** Nobody to hand over to: no other live member, or no map assigned anything yet. */
export function aloneOrUnassigned(view: ClusterView): boolean {
  return view.live.filter((n) => n !== view.node).length === 0 || view.assignment === null;
}

export const lifecycleMachine = setup({
  types: {
    context: {} as LifecycleContext,
    input: {} as LifecycleInput,
    events: {} as LifecycleEvent,
    output: {} as LifecycleOutput,
  },
  guards: {
    aloneOrUnassigned: ({ context }) => aloneOrUnassigned(context.view),
    handedOver: ({ event }) => event.type === 'ASSIGNED' && event.slots.length === 0,
  },
  delays: {
    leaveTimeout: ({ context }) => context.leaveTimeoutMs,
    flushTimeout: LEAVE_FLUSH_MS,
  },
  actors: {
    flush: fromPromise<void, LifecycleContext>(({ input }) => input.flush()),
  },
}).createMachine({
  id: 'lifecycle',
  context: ({ input }) => ({ ...input, reason: 'shutdown' }),
  output: ({ context }) => ({ reason: context.reason }),
  initial: 'active',
  on: {
    VIEW: { actions: assign({ view: ({ event }) => event.view }) },
    DUPLICATE: { target: '.stopping', actions: assign({ reason: 'duplicate_node_id' as const }) },
  },
  states: {
    active: {
      on: { SHUTDOWN: 'leaving' },
    },
    leaving: {
      entry: [({ context }) => context.log.info({ event: 'node_leaving', leaveTimeoutMs: context.leaveTimeoutMs }, 'leaving: handing shards over before stopping'), sendParent({ type: 'LEAVING' } satisfies LifecycleLeaving)],
      initial: 'awaitingMap',
      states: {
        awaitingMap: {
          always: { guard: 'aloneOrUnassigned', target: '#lifecycle.stopping' },
          after: {
            leaveTimeout: { target: '#lifecycle.stopping', actions: ({ context }) => context.log.warn({ event: 'leave_timeout' }, 'leave timeout: stopping without a handover map') },
          },
          on: {
            ASSIGNED: { guard: 'handedOver', target: 'handingOver' },
          },
        },
        handingOver: {
          // The runners release their slots; the new owners claim them.
          entry: ({ context }) => context.log.info({ event: 'leave_handover_map' }, 'handover map received: releasing to the new owners'),
          on: {
            HANDED_OVER: { target: 'flushing', actions: ({ context }) => context.log.info({ event: 'leave_handed_over' }, 'every release claimed') },
          },
          after: {
            leaveTimeout: { target: 'flushing', actions: ({ context }) => context.log.warn({ event: 'leave_handover_timeout' }, 'leave timeout: stopping before every release was claimed') },
          },
        },
        flushing: {
          // The last releases are still in the client's buffer (nats.js writes at the end of the turn),
          // and stopping hundreds of runners is one long synchronous run: a release held behind it
          // reached its new owner seconds late, and the slot it carried went unprobed. Write them
          // out first; a server that does not answer does not hold the stop up for long.
          invoke: { src: 'flush', input: ({ context }) => context, onDone: '#lifecycle.stopping', onError: '#lifecycle.stopping' },
          after: {
            flushTimeout: { target: '#lifecycle.stopping', actions: ({ context }) => context.log.warn({ event: 'leave_flush_timeout', waitedMs: LEAVE_FLUSH_MS }, 'NATS did not confirm the last releases in time: stopping anyway') },
          },
        },
      },
    },
    stopping: { type: 'final' },
  },
});
