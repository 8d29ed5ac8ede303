// The node: root actor of a Lookout process.
//
//   node
//   ├── shardOwner ........ follows the assignment, one check runner per owned (shard, rank);
//   │                       holds each served shard's specs first (shard-specs.ts: one filtered
//   │                       watch per shard → catalog → SPEC_SET / SPEC_REMOVED to the node)
//   └── running (parallel)
//       ├── specApi ....... spec requests → bucket
//       ├── membership .... heartbeats + failure detector → MEMBERS
//       ├── leader ........ KV lease → ELECTED / DEPOSED / TERM_SEEN (told MEMBERS: an overloaded
//       │                   node defers its candidacy and hands the lease over)
//       ├── follower ...... assignment watch → ASSIGNED
//       ├── clusterStatus . answers <prefix>.cluster.status
//       ├── lifecycle ..... active | leaving (awaitingMap → handingOver) → done: the node stops
//       ├── pauseGuard .... after a pause: hold the timer queue until the map is re-read
//       └── role: follower | leading (leading invokes the assigner)
//
// States an operator reads in the logs:
//   running   — serving, probing the assigned shards; on SIGTERM the lifecycle leaves first
//               (node-lifecycle.ts): release the lease, announce the leave, keep probing until a
//               map without this node moves its slots and every runner's release was claimed
//               (or leaveTimeoutMs), so the handover leaves no gap
//   stopping  — runners drain in-flight probes
//   stopped   — final; the process drains NATS and exits
//
// The node routes: children's events in, the view and the map out (node-view.ts), each child's
// input from the node's (node-inputs.ts).

import { assign, sendTo } from 'xstate';
import { emptyView } from '../protocol/cluster-view';
import {
  assignerInput,
  clusterStatusInput,
  followerInput,
  leaderInput,
  lifecycleInput,
  membershipInput,
  nodeSetup,
  pauseGuardInput,
  shardOwnerInput,
  specApiInput,
  type NodeOutput,
} from './node-inputs';
import { viewActions } from './node-view';

export { API_SUMMARY_EVERY_MS, type ClusterSettings, type NodeEmitted, type NodeEvent, type NodeInput, type NodeOutput } from './node-inputs';

export const nodeMachine = nodeSetup.extend({ actions: viewActions }).createMachine({
  id: 'node',
  context: ({ input }) => ({
    ...input,
    log: input.ports.log.child({ actor: 'node' }),
    view: emptyView(input.ports.nodeId),
    term: 0,
    leaseValidUntil: -Infinity,
    stopReason: 'shutdown' as NodeOutput['reason'],
    startedAt: input.ports.clock.monotonic(),
    pauseHeld: false,
    dead: new Set<string>(),
    provisional: 0,
    runEpoch: 0,
    startup: { runningAt: null },
  }),
  invoke: {
    id: 'shardOwner',
    src: 'shardOwner',
    input: shardOwnerInput,
    onDone: { target: '.stopped' },
  },
  output: ({ context }) => ({ reason: context.stopReason }),
  initial: 'running',
  states: {
    running: {
      type: 'parallel',
      entry: ({ context }) => context.log.info({ event: 'node_running', shards: context.specs.catalog.shardCount, vantagePoints: context.cluster.vantagePoints }, 'node running'),
      invoke: [
        { src: 'specApi', input: specApiInput },
        { id: 'membership', src: 'membership', input: membershipInput },
        { id: 'leader', src: 'leader', input: leaderInput },
        { id: 'follower', src: 'assignmentFollower', input: followerInput },
        { id: 'clusterStatus', src: 'clusterStatusResponder', input: clusterStatusInput },
        { id: 'pauseGuard', src: 'pauseGuard', input: pauseGuardInput },
        {
          id: 'lifecycle',
          src: 'lifecycle',
          input: lifecycleInput,
          // The lifecycle decided: stop (after a leave, or at once for a duplicate node id).
          onDone: { target: '#node.stopping', actions: assign({ stopReason: ({ event }) => event.output.reason }) },
        },
      ],
      on: {
        SPEC_SET: { actions: sendTo('shardOwner', ({ event }) => event) },
        SPEC_REMOVED: { actions: sendTo('shardOwner', ({ event }) => event) },
        MEMBERS: { actions: ['updateView', 'noteMembers', 'takeOver', 'tellLeader'] },
        TERM_SEEN: {
          actions: ['updateView', 'noteTerm', sendTo('follower', ({ event }) => ({ type: 'TERM_SEEN' as const, term: event.term }))],
        },
        // A leaving node stops once the shard owner says every release was claimed.
        HANDED_OVER: { actions: sendTo('lifecycle', { type: 'HANDED_OVER' }) },
        // The lifecycle hears of the map before its view: a leaving node waits for a map without itself.
        ASSIGNED: { actions: [sendTo('lifecycle', ({ event }) => event), 'updateView', 'applyAssignment'] },
        CONNECTION: { actions: sendTo('membership', ({ event }) => event) },
        // After a pause (actors/pause-guard.ts): hold probes, re-read the map, then go on.
        PAUSED: { actions: sendTo('pauseGuard', ({ event }) => event) },
        PAUSE_HOLD: { actions: assign({ pauseHeld: true }) },
        MAP_REREAD_REQUEST: { actions: sendTo('follower', { type: 'REREAD' }) },
        MAP_REREAD: { actions: sendTo('pauseGuard', ({ event }) => event) },
        PAUSE_RELEASE: { actions: assign({ pauseHeld: false }) },
        SHUTDOWN: { actions: sendTo('lifecycle', { type: 'SHUTDOWN' }) },
        // No leave, no handover: the node id lives on in the other process, which holds the same shards.
        DUPLICATE: { actions: sendTo('lifecycle', { type: 'DUPLICATE' }) },
        LEAVING: { actions: [sendTo('leader', { type: 'RELEASE' }), sendTo('membership', { type: 'LEAVE' })] },
      },
      states: {
        role: {
          initial: 'follower',
          states: {
            follower: {
              on: {
                ELECTED: {
                  target: 'leading',
                  actions: [assign({ term: ({ event }) => event.term, leaseValidUntil: ({ event }) => event.validUntil }), 'updateView', 'noteElected'],
                },
              },
            },
            leading: {
              invoke: { id: 'assigner', src: 'assigner', input: assignerInput },
              on: {
                // A region that handles an event shadows running's handler (XState parallel states), so record the view here too.
                MEMBERS: { actions: ['updateView', 'noteMembers', 'takeOver', 'tellLeader', sendTo('assigner', ({ event }) => ({ type: 'MEMBERS' as const, live: event.live, members: event.members }))] },
                LEASE_HELD: {
                  actions: [
                    assign({ leaseValidUntil: ({ event }) => event.validUntil }),
                    sendTo('assigner', ({ event }) => ({ type: 'LEASE' as const, validUntil: event.validUntil })),
                  ],
                },
                DEPOSED: { target: 'follower', actions: ['updateView', 'noteDeposed'] },
              },
            },
          },
        },
      },
    },
    stopping: {
      entry: [({ context }) => context.log.info({ event: 'node_stopping' }, 'node stopping'), sendTo('shardOwner', { type: 'STOP' })],
    },
    stopped: {
      type: 'final',
      entry: ({ context }) => context.log.info({ event: 'node_stopped' }, 'node stopped'),
    },
  },
});
