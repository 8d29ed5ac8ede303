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
//   leaving.handingOver ──the map's handover instant──▶ stopping
//   active | leaving ──DUPLICATE──▶ stopping                 (another process runs with this node id: it
//                                                            holds the same shards, so no leave, no handover)
//
// While leaving the node keeps probing until the cluster takes its slots over at the handover
// instant (map.at + handoverMs), so the handover leaves no gap. A second SHUTDOWN changes nothing.
// The node passes every new cluster view (VIEW) and every followed map (ASSIGNED, before that
// map's VIEW) in.

import { assign, sendParent, setup } from 'xstate';
import type { ClusterView } from '../protocol/cluster-view';
import type { Clock } from '../runtime/clock';
import type { Logger } from '../runtime/logger';
import type { Assigned } from './assignment-follower';

export interface LifecycleInput {
  /** The node's logger (the lines are the node's). */
  log: Logger;
  /** For the handover instant (wall clock). */
  clock: Clock;
  /** The node's cluster view when the lifecycle starts. */
  view: ClusterView;
  /** How long a leaving node waits for a map without itself. */
  leaveTimeoutMs: number;
  /** From a map's `at` to the instant its moved slots change owner. */
  handoverMs: number;
}

export type LifecycleEvent =
  | { type: 'SHUTDOWN' }
  | { type: 'DUPLICATE' }
  | { type: 'VIEW'; view: ClusterView }
  | Pick<Assigned, 'type' | 'record' | 'slots'>;

/** Sent to the node when it starts leaving: release the lease, announce the leave. */
export type LifecycleLeaving = { type: 'LEAVING' };

/** Why the node stops: a requested shutdown, or another process running with its node id. */
export interface LifecycleOutput {
  reason: 'shutdown' | 'duplicate_node_id';
}

interface LifecycleContext extends LifecycleInput {
  reason: LifecycleOutput['reason'];
  /** Leaving: wall-clock instant the cluster takes over this node's slots. */
  handoverAt: number;
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
    untilHandover: ({ context }) => Math.max(0, context.handoverAt - context.clock.now()),
  },
}).createMachine({
  id: 'lifecycle',
  context: ({ input }) => ({ ...input, reason: 'shutdown', handoverAt: 0 }),
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
            ASSIGNED: {
              guard: 'handedOver',
              target: 'handingOver',
              actions: assign({ handoverAt: ({ context, event }) => event.record.at + context.handoverMs }),
            },
          },
        },
        handingOver: {
          // The runners keep probing the slots before the handover instant, then stop.
          entry: ({ context }) => context.log.info({ event: 'leave_handover_map', handoverAt: new Date(context.handoverAt).toISOString() }, 'handover map received'),
          after: { untilHandover: '#lifecycle.stopping' },
        },
      },
    },
    stopping: { type: 'final' },
  },
});
