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
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { AssignmentStore, LeaseStore } from '../runtime/cluster-store';
import type { Logger } from '../runtime/logger';
import type { SpecStore } from '../runtime/store';
import { assignerMachine } from './assigner';
import { assignmentFollower, type Assigned } from './assignment-follower';
import type { RunnerPorts } from './check-runner';
import { clusterStatusResponder } from './cluster-status';
import { emptyView, type ClusterView } from './cluster-view';
import { actsAsLeader, leaderMachine, type LeaderOutput } from './leader';
import type { LeaseConfig } from './lease';
import { membership, type MembersChanged } from './membership';
import { shardOwnerMachine } from './shard-owner';
import { specApi } from './spec-api';
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
  nc: NatsConnection;
  kv: KV;
  store: SpecStore;
  leaseStore: LeaseStore;
  assignmentStore: AssignmentStore;
  catalog: SpecCatalog;
  ports: RunnerPorts;
  maxSpecBytes: number;
  cluster: ClusterSettings;
}

export type NodeEvent = FeedEvent | MembersChanged | LeaderOutput | Assigned | { type: 'CONNECTION'; up: boolean } | { type: 'SHUTDOWN' };

interface NodeContext extends NodeInput {
  log: Logger;
  view: ClusterView;
  term: number;
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
    noteMembers: ({ context, event }) => {
      if (event.type !== 'MEMBERS') return;
      context.view.members = event.members;
      context.view.live = event.live;
      const counts: Record<string, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
      for (const m of event.members) counts[m.state]!++;
      for (const [state, n] of Object.entries(counts)) context.ports.metrics.members.set({ state }, n);
    },
    applyAssignment: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'ASSIGNED') return;
      context.view.assignment = event.record;
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
    startedAt: input.ports.clock.monotonic(),
    handoverAt: 0,
  }),
  invoke: {
    id: 'shardOwner',
    src: 'shardOwner',
    input: ({ context }) => ({ catalog: context.catalog, ports: context.ports }),
    onDone: { target: '.stopped' },
  },
  initial: 'running',
  states: {
    running: {
      type: 'parallel',
      entry: ({ context }) => context.log.info({ shards: context.catalog.shardCount, vantagePoints: context.cluster.vantagePoints }, 'node running'),
      invoke: [
        { src: 'specFeed', input: ({ context }) => ({ kv: context.kv, catalog: context.catalog, log: context.ports.log }) },
        {
          src: 'specApi',
          input: ({ context }) => ({
            nc: context.nc,
            subjects: context.ports.subjects,
            log: context.ports.log,
            metrics: context.ports.metrics,
            store: context.store,
            catalog: context.catalog,
            maxSpecBytes: context.maxSpecBytes,
          }),
        },
        {
          id: 'membership',
          src: 'membership',
          input: ({ context }) => ({
            nc: context.nc,
            subjects: context.ports.subjects,
            node: context.ports.nodeId,
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
            announce: (e) => context.nc.publish(context.ports.subjects.cluster('leader'), JSON.stringify({ ...e, at: new Date(context.ports.clock.now()).toISOString() })),
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
          src: 'clusterStatusResponder',
          input: ({ context }) => ({ nc: context.nc, subjects: context.ports.subjects, view: context.view, log: context.ports.log }),
        },
      ],
      on: {
        SPEC_SET: { actions: sendTo('shardOwner', ({ event }) => event) },
        SPEC_REMOVED: { actions: sendTo('shardOwner', ({ event }) => event) },
        SPECS_LOADED: { actions: sendTo('shardOwner', { type: 'SPECS_LOADED' }) },
        MEMBERS: { actions: 'noteMembers' },
        TERM_SEEN: {
          actions: [
            ({ context, event }) => {
              context.view.leader = { node: event.holder, term: event.term };
              context.ports.metrics.leaderTerm.set(event.term);
            },
            sendTo('follower', ({ event }) => ({ type: 'TERM_SEEN' as const, term: event.term })),
          ],
        },
        ASSIGNED: { actions: 'applyAssignment' },
        CONNECTION: { actions: sendTo('membership', ({ event }) => event) },
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
                    assign({ term: ({ event }) => event.term }),
                    ({ context, event }) => {
                      context.view.leader = { node: context.view.node, term: event.term };
                      context.view.leading = true;
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
                input: ({ context, self }) => ({
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
                  stillLeader: () => {
                    const ref = self.getSnapshot().children.leader;
                    return ref ? actsAsLeader(ref.getSnapshot() as Parameters<typeof actsAsLeader>[0]) : false;
                  },
                  announce: (e) => context.nc.publish(context.ports.subjects.cluster('assignment'), JSON.stringify(e)),
                }),
              },
              on: {
                // A region that handles an event shadows running's handler (XState parallel states), so record the view here too.
                MEMBERS: { actions: ['noteMembers', sendTo('assigner', ({ event }) => ({ type: 'MEMBERS' as const, live: event.live }))] },
                DEPOSED: {
                  target: 'follower',
                  actions: [
                    ({ context }) => {
                      context.view.leading = false;
                      context.ports.metrics.isLeader.set(0);
                    },
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
                      actions: ['applyAssignment', assign({ handoverAt: ({ context, event }) => (event as Assigned).record.at + context.cluster.handoverMs })],
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
