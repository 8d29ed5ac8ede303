// The node: root actor of a Lookout process.
//
//   node
//   ├── shardOwner ........ follows the assignment, one check runner per owned (shard, rank)
//   └── running (parallel)
//       ├── specFeed ...... bucket watch → catalog → SPEC_SET / SPEC_REMOVED
//       ├── specApi ....... spec requests → bucket
//       ├── membership .... heartbeats + failure detector → MEMBERS
//       ├── leader ........ KV lease → ELECTED / DEPOSED / TERM_SEEN
//       ├── follower ...... assignment watch → ASSIGNED
//       ├── clusterStatus . answers <prefix>.cluster.status
//       ├── role: follower | leading (leading invokes the assigner)
//       └── lifecycle: active | leaving
//
// States an operator reads in the logs:
//   running.lifecycle.active  — serving, probing the assigned shards
//   running.lifecycle.leaving — SIGTERM: release the lease, announce the leave, keep probing until a
//                               map without this node arrives (or leaveTimeoutMs), so the handover
//                               leaves no gap
//   stopping                  — runners drain in-flight probes
//   stopped                   — final; the process drains NATS and exits

import { assign, enqueueActions, sendTo, setup } from 'xstate';
import type { Bus } from '../runtime/bus';
import type { AssignmentStore, LeaseStore } from '../runtime/cluster-store';
import type { Logger } from '../runtime/logger';
import type { SpecStore } from '../runtime/store';
import type { SpecFeedSource } from '../runtime/spec-watch';
import { assignerMachine } from './assigner';
import { assignmentFollower, type Assigned } from './assignment-follower';
import type { RunnerPorts } from './check-runner';
import { clusterStatusResponder } from './cluster-status';
import { emptyView, reduceView, type ClusterView, type ViewEvent } from './cluster-view';
import { leaderMachine, type LeaderOutput } from './leader';
import type { LeaseConfig } from './lease';
import { membership, type DuplicateFound, type MembersChanged } from './membership';
import { shardOwnerMachine } from './shard-owner';
import type { AddressPolicy } from '../checks/address-policy';
import { specApi } from './spec-api';
import type { AdmissionConfig } from './spec-admission';

/** How often the spec API logs its summary of rejected requests. */
export const API_SUMMARY_EVERY_MS = 10_000;
import type { SpecCatalog } from './spec-catalog';
import { specFeed, type FeedEvent } from './spec-feed';

export interface ClusterSettings {
  version: string;
  heartbeatMs: number;
  suspectAfterMs: number;
  deadAfterMs: number;
  lease: LeaseConfig;
  rebalanceQuietMs: number;
  rebalanceMaxDelayMs: number;
  leaveTimeoutMs: number;
  handoverMs: number;
  vantagePoints: number;
}

export interface NodeInput {
  bus: Bus;
  specSource: SpecFeedSource;
  store: SpecStore;
  /** This process's instance id (./node-identity.ts). */
  instance: string;
  leaseStore: LeaseStore;
  assignmentStore: AssignmentStore;
  catalog: SpecCatalog;
  ports: RunnerPorts;
  maxSpecBytes: number;
  /** LOOKOUT_MAX_SPECS. */
  maxSpecs: number;
  /** Spec API admission bounds (rate, burst, backlog). */
  api: AdmissionConfig;
  /** The node's address policy (the spec API rejects specs whose literal target it denies). */
  targetPolicy: AddressPolicy;
  cluster: ClusterSettings;
}

export type NodeEvent = FeedEvent | MembersChanged | LeaderOutput | Assigned | DuplicateFound | { type: 'CONNECTION'; up: boolean } | { type: 'SHUTDOWN' };

/** What the node tells the process it runs in (XState `emit`): its latest cluster view. */
export type NodeEmitted = { type: 'view'; view: ClusterView };

/** Why the node stopped: a requested shutdown, or another process running with its node id. */
export interface NodeOutput {
  reason: 'shutdown' | 'duplicate_node_id';
}

interface NodeContext extends NodeInput {
  log: Logger;
  /** The node's cluster view (./cluster-view.ts reduceView); replaced, never mutated. */
  view: ClusterView;
  term: number;
  /** Monotonic instant this node's lease runs out, as last told by the leader actor. */
  leaseValidUntil: number;
  stopReason: NodeOutput['reason'];
  /** Monotonic time the node started: a new leader waits for heartbeats before its first map. */
  startedAt: number;
  /** Leaving: wall-clock instant the cluster takes over this node's slots. */
  handoverAt: number;
}

export const nodeMachine = setup({
  types: {
    context: {} as NodeContext,
    input: {} as NodeInput,
    events: {} as NodeEvent,
    emitted: {} as NodeEmitted,
    output: {} as NodeOutput,
  },
  actors: {
    specApi,
    specFeed,
    membership,
    assignmentFollower,
    clusterStatusResponder,
    shardOwner: shardOwnerMachine,
    leader: leaderMachine,
    assigner: assignerMachine,
  },
  actions: {
    /** Fold an event into the view and pass the new view on (status responder, the process). */
    updateView: enqueueActions(({ context, event, enqueue }) => {
      const view = reduceView(context.view, event as ViewEvent);
      if (view === context.view) return;
      enqueue.assign({ view });
      enqueue.sendTo('clusterStatus', { type: 'VIEW', view });
      enqueue.emit({ type: 'view', view });
    }),
    noteMembers: ({ context, event }) => {
      if (event.type !== 'MEMBERS') return;
      const counts: Record<string, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
      for (const m of event.members) counts[m.state]!++;
      for (const [state, n] of Object.entries(counts)) context.ports.metrics.members.set({ state }, n);
    },
    applyAssignment: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'ASSIGNED') return;
      context.ports.metrics.assignmentEpoch.set(event.record.epoch);
      context.ports.metrics.leaderTerm.set(Math.max(event.record.term, context.view.leader?.term ?? 0));
      enqueue.sendTo('membership', { type: 'SEED', nodes: event.record.members });
      enqueue.sendTo('shardOwner', { type: 'ASSIGN', slots: event.slots, epoch: event.record.epoch, handoverAt: event.record.at + context.cluster.handoverMs });
    }),
  },
  guards: {
    aloneOrUnassigned: ({ context }) => context.view.live.filter((n) => n !== context.view.node).length === 0 || context.view.assignment === null,
    handedOver: ({ event }) => event.type === 'ASSIGNED' && event.slots.length === 0,
  },
  delays: {
    leaveTimeout: ({ context }) => context.cluster.leaveTimeoutMs,
    untilHandover: ({ context }) => Math.max(0, context.handoverAt - context.ports.clock.now()),
  },
}).createMachine({
  id: 'node',
  context: ({ input }) => ({
    ...input,
    log: input.ports.log.child({ actor: 'node' }),
    view: emptyView(input.ports.nodeId),
    term: 0,
    leaseValidUntil: -Infinity,
    stopReason: 'shutdown' as NodeOutput['reason'],
    startedAt: input.ports.clock.monotonic(),
    handoverAt: 0,
  }),
  invoke: {
    id: 'shardOwner',
    src: 'shardOwner',
    input: ({ context }) => ({ catalog: context.catalog, ports: context.ports }),
    onDone: { target: '.stopped' },
  },
  output: ({ context }) => ({ reason: context.stopReason }),
  initial: 'running',
  states: {
    running: {
      type: 'parallel',
      entry: ({ context }) => context.log.info({ shards: context.catalog.shardCount, vantagePoints: context.cluster.vantagePoints }, 'node running'),
      invoke: [
        { src: 'specFeed', input: ({ context }) => ({ source: context.specSource, catalog: context.catalog, log: context.ports.log }) },
        {
          src: 'specApi',
          input: ({ context }) => ({
            bus: context.bus,
            subjects: context.ports.subjects,
            log: context.ports.log,
            metrics: context.ports.metrics,
            store: context.store,
            catalog: context.catalog,
            maxSpecBytes: context.maxSpecBytes,
            maxSpecs: context.maxSpecs,
            clock: context.ports.clock,
            admission: context.api,
            summaryEveryMs: API_SUMMARY_EVERY_MS,
            targetPolicy: context.targetPolicy,
          }),
        },
        {
          id: 'membership',
          src: 'membership',
          input: ({ context }) => ({
            bus: context.bus,
            subjects: context.ports.subjects,
            node: context.ports.nodeId,
            instance: context.instance,
            version: context.cluster.version,
            clock: context.ports.clock,
            log: context.ports.log,
            heartbeatMs: context.cluster.heartbeatMs,
            suspectAfterMs: context.cluster.suspectAfterMs,
            deadAfterMs: context.cluster.deadAfterMs,
            load: () => ({ ...context.ports.metrics.held }),
          }),
        },
        {
          id: 'leader',
          src: 'leader',
          input: ({ context }) => ({
            store: context.leaseStore,
            node: context.ports.nodeId,
            cfg: context.cluster.lease,
            clock: context.ports.clock,
            log: context.ports.log,
            announce: (e) => context.bus.publish(context.ports.subjects.cluster('leader'), { ...e, at: new Date(context.ports.clock.now()).toISOString() }),
          }),
        },
        {
          id: 'follower',
          src: 'assignmentFollower',
          input: ({ context }) => ({
            store: context.assignmentStore,
            node: context.ports.nodeId,
            clock: context.ports.clock,
            log: context.ports.log,
            rereadMs: Math.max(1000, context.cluster.lease.leaseMs),
          }),
        },
        {
          id: 'clusterStatus',
          src: 'clusterStatusResponder',
          input: ({ context }) => ({ bus: context.bus, subjects: context.ports.subjects, view: context.view, log: context.ports.log }),
        },
      ],
      on: {
        SPEC_SET: { actions: sendTo('shardOwner', ({ event }) => event) },
        SPEC_REMOVED: { actions: sendTo('shardOwner', ({ event }) => event) },
        SPECS_LOADED: { actions: sendTo('shardOwner', { type: 'SPECS_LOADED' }) },
        MEMBERS: { actions: ['updateView', 'noteMembers'] },
        TERM_SEEN: {
          actions: [
            'updateView',
            ({ context, event }) => context.ports.metrics.leaderTerm.set(Math.max(event.term, context.view.leader?.term ?? 0)),
            sendTo('follower', ({ event }) => ({ type: 'TERM_SEEN' as const, term: event.term })),
          ],
        },
        ASSIGNED: { actions: ['updateView', 'applyAssignment'] },
        CONNECTION: { actions: sendTo('membership', ({ event }) => event) },
        DUPLICATE: {
          target: '#node.stopping',
          // No leave, no handover: the node id lives on in the other process, which holds the same shards.
          actions: assign({ stopReason: 'duplicate_node_id' as const }),
        },
      },
      states: {
        role: {
          initial: 'follower',
          states: {
            follower: {
              on: {
                ELECTED: {
                  target: 'leading',
                  actions: [
                    assign({ term: ({ event }) => event.term, leaseValidUntil: ({ event }) => event.validUntil }),
                    'updateView',
                    ({ context, event }) => {
                      context.ports.metrics.isLeader.set(1);
                      context.ports.metrics.leaderTerm.set(event.term);
                    },
                    sendTo('membership', { type: 'LEADING', leading: true }),
                  ],
                },
              },
            },
            leading: {
              invoke: {
                id: 'assigner',
                src: 'assigner',
                input: ({ context }) => ({
                  term: context.term,
                  node: context.ports.nodeId,
                  store: context.assignmentStore,
                  shardCount: context.catalog.shardCount,
                  vantagePoints: context.cluster.vantagePoints,
                  quietMs: context.cluster.rebalanceQuietMs,
                  maxDelayMs: context.cluster.rebalanceMaxDelayMs,
                  // A node that just started first listens for heartbeats, so its first map is not "just me".
                  firstMapNotBefore: context.startedAt + context.cluster.suspectAfterMs,
                  clock: context.ports.clock,
                  log: context.ports.log,
                  live: context.view.live,
                  leaseValidUntil: context.leaseValidUntil,
                  announce: (e) => context.bus.publish(context.ports.subjects.cluster('assignment'), e),
                }),
              },
              on: {
                // A region that handles an event shadows running's handler (XState parallel states), so record the view here too.
                MEMBERS: { actions: ['updateView', 'noteMembers', sendTo('assigner', ({ event }) => ({ type: 'MEMBERS' as const, live: event.live }))] },
                LEASE_HELD: {
                  actions: [
                    assign({ leaseValidUntil: ({ event }) => event.validUntil }),
                    sendTo('assigner', ({ event }) => ({ type: 'LEASE' as const, validUntil: event.validUntil })),
                  ],
                },
                DEPOSED: {
                  target: 'follower',
                  actions: [
                    'updateView',
                    ({ context }) => context.ports.metrics.isLeader.set(0),
                    sendTo('membership', { type: 'LEADING', leading: false }),
                  ],
                },
              },
            },
          },
        },
        lifecycle: {
          initial: 'active',
          states: {
            active: {
              on: { SHUTDOWN: 'leaving' },
            },
            leaving: {
              entry: [
                ({ context }) => context.log.info({ leaveTimeoutMs: context.cluster.leaveTimeoutMs }, 'leaving: handing shards over before stopping'),
                sendTo('leader', { type: 'RELEASE' }),
                sendTo('membership', { type: 'LEAVE' }),
              ],
              initial: 'awaitingMap',
              states: {
                awaitingMap: {
                  always: { guard: 'aloneOrUnassigned', target: '#node.stopping' },
                  after: {
                    leaveTimeout: { target: '#node.stopping', actions: ({ context }) => context.log.warn('leave timeout: stopping without a handover map') },
                  },
                  on: {
                    // This handler shadows running's ASSIGNED handler, so it applies the map too.
                    ASSIGNED: {
                      guard: 'handedOver',
                      target: 'handingOver',
                      actions: ['updateView', 'applyAssignment', assign({ handoverAt: ({ context, event }) => (event as Assigned).record.at + context.cluster.handoverMs })],
                    },
                  },
                },
                handingOver: {
                  // The runners keep probing the slots before the handover instant, then stop.
                  entry: ({ context }) => context.log.info({ handoverAt: new Date(context.handoverAt).toISOString() }, 'handover map received'),
                  after: { untilHandover: '#node.stopping' },
                },
              },
              on: { SHUTDOWN: {} },
            },
          },
        },
      },
    },
    stopping: {
      entry: [({ context }) => context.log.info('node stopping'), sendTo('shardOwner', { type: 'STOP' })],
    },
    stopped: {
      type: 'final',
      entry: ({ context }) => context.log.info('node stopped'),
    },
  },
});
