// The node's children and what each is given: how the node's input (the ports and settings
// start-node.ts builds) becomes the input of every actor the node invokes. Each child gets only
// the narrow ports it talks through (a Bus, a store port, the clock, a logger) and the settings
// it reads, never the node's context. Also the node's types and the typed XState setup that the
// rest of the node machine shares (node-view.ts adds the view actions, node.ts the states).

import { setup } from 'xstate';
import type { AddressPolicy } from '../checks/address-policy';
import type { ChurnConfig } from '../protocol/churn';
import type { ReliefConfig } from '../protocol/overload-relief';
import type { ClusterView } from '../protocol/cluster-view';
import type { LeaseConfig } from '../protocol/lease';
import { confirmTimings } from '../protocol/pause';
import type { AdmissionConfig } from '../protocol/spec-admission';
import type { Bus } from '../runtime/bus';
import type { AssignmentStore, LeaseStore } from '../runtime/cluster-store';
import type { Logger } from '../runtime/logger';
import type { ShardedSpecStore } from '../runtime/shard-spec-store';
import { assignerMachine, type AssignerInput } from './assigner';
import { assignmentFollower, assignmentRereadMs, type Assigned, type FollowerInput } from './assignment-follower';
import type { RunnerPorts } from './check-runner';
import { clusterStatusResponder, type StatusInput } from './cluster-status';
import { leaderMachine, type LeaderInput, type LeaderOutput } from './leader';
import { membership, type DuplicateFound, type MembersChanged, type MembershipInput } from './membership';
import { lifecycleMachine, type LifecycleInput, type LifecycleLeaving, type LifecycleOutput } from './node-lifecycle';
import { pauseGuard, type PauseGuardEmitted, type PauseGuardEvent, type PauseGuardInput } from './pause-guard';
import { shardOwnerMachine, type OwnerInput } from './shard-owner';
import { specApi, type SpecApiInput } from './spec-api';
import type { SpecHolder, ShardSpecEvent } from './shard-specs';

/**
 * How often the spec API logs its summary of rejected requests (spec_rejections): one info line per
 * 10 s at most, however hard the API is flooded; each rejection itself is a debug line.
 */
export const API_SUMMARY_EVERY_MS = 10_000;

export interface ClusterSettings {
  version: string;
  heartbeatMs: number;
  suspectAfterMs: number;
  deadAfterMs: number;
  /** LOOKOUT_OVERLOAD_GRACE_MS (protocol/failure-detector.ts). Absent: none. */
  overloadGraceMs?: number;
  /** LOOKOUT_SHARED_SILENCE_GRACE_MS (protocol/shared-silence.ts). Absent: the rule is off. */
  sharedSilenceGraceMs?: number;
  lease: LeaseConfig;
  rebalanceQuietMs: number;
  rebalanceMaxDelayMs: number;
  leaveTimeoutMs: number;
  vantagePoints: number;
  /** LOOKOUT_CLOCK_SKEW_WARN_MS: display and alerting only. */
  clockSkewWarnMs: number;
  /** Churn damping (protocol/churn.ts): the leader holds flapping members out of the map. */
  churn: ChurnConfig;
  /** Overload relief (protocol/overload-relief.ts): the leader gives overloaded members fewer primary shards. Absent: never. */
  overloadRelief?: ReliefConfig;
  /** Self-quarantine (protocol/quarantine-bound.ts): the fraction of live members the leader may hold out of the map. Absent or 0: nobody. */
  quarantineMaxFraction?: number;
}

export interface NodeInput {
  bus: Bus;
  /** The spec bucket for the API: any id, whichever shards this node holds. */
  store: ShardedSpecStore;
  /** This process's instance id (protocol/node-identity.ts). */
  instance: string;
  leaseStore: LeaseStore;
  assignmentStore: AssignmentStore;
  /** The specs of the shards this node serves (actors/shard-specs.ts); its changes come as SPEC_SET / SPEC_REMOVED. */
  specs: SpecHolder;
  /** How many specs the cluster stores, as the members last said (app/node-specs.ts). */
  specTotal(): number;
  ports: RunnerPorts;
  maxSpecBytes: number;
  /** LOOKOUT_MAX_SPECS. */
  maxSpecs: number;
  /** Spec API admission bounds (rate, burst, backlog). */
  api: AdmissionConfig;
  /** The node's address policy (the spec API rejects specs whose literal target it denies). */
  targetPolicy: AddressPolicy;
  cluster: ClusterSettings;
  /** One round trip to the NATS server (the pause guard's proof that the link works). */
  flush(): Promise<void>;
  /**
   * Whether this process was stopped and has not noticed yet (runtime/pause-detector.ts noticeNow:
   * it reports the pause when so). Asked before a followed map is applied, which on waking can
   * come before the pause detector's tick. Absent: never.
   */
  pauseUnnoticed?(): boolean;
}

export type NodeEvent =
  | ShardSpecEvent
  | MembersChanged
  | LeaderOutput
  | Assigned
  | DuplicateFound
  | LifecycleLeaving
  /** The shard owner: every slot this node held has been handed over (shard-owner.ts). */
  | { type: 'HANDED_OVER' }
  | PauseGuardEvent
  | PauseGuardEmitted
  | { type: 'CONNECTION'; up: boolean }
  | { type: 'SHUTDOWN' };

/** What the node tells the process it runs in (XState `emit`): its latest cluster view. */
export type NodeEmitted = { type: 'view'; view: ClusterView };

/** Why the node stopped: a requested shutdown, or another process running with its node id. */
export type NodeOutput = LifecycleOutput;

export interface NodeContext extends NodeInput {
  log: Logger;
  /** The node's cluster view (protocol/cluster-view.ts reduceView); replaced, never mutated. */
  view: ClusterView;
  term: number;
  /** Monotonic instant this node's lease runs out, as last told by the leader actor. */
  leaseValidUntil: number;
  stopReason: NodeOutput['reason'];
  /** Monotonic time the node started: a new leader waits for heartbeats before its first map. */
  startedAt: number;
  /** The pause guard holds the timer queue: a map followed now moves shards at once (node-view.ts). */
  pauseHeld: boolean;
  /** Owners this node's detector holds dead: struck out of the map it runs (protocol/takeover.ts). */
  dead: ReadonlySet<string>;
  /** Slots this node holds only because owners are held dead (provisional takeover). */
  provisional: number;
  /**
   * Set once by the shard owner when every slot of the followed map runs (the monotonic instant);
   * until then (null) the heartbeat says `starting` (protocol/takeover.ts), then how long it has run
   * (`runningMs`). A cell, not an assigned value: the heartbeat reads it.
   */
  startup: { runningAt: number | null };
  /**
   * The epoch this node's runners publish under: the followed map's, or one more while it runs a
   * provisional takeover (so a wrongly-dead owner's late results are recognisably older); never lower.
   */
  runEpoch: number;
}

/** The node machine's types and children, shared by node-view.ts and node.ts. */
export const nodeSetup = setup({
  types: {
    context: {} as NodeContext,
    input: {} as NodeInput,
    events: {} as NodeEvent,
    emitted: {} as NodeEmitted,
    output: {} as NodeOutput,
  },
  actors: {
    specApi,
    membership,
    assignmentFollower,
    clusterStatusResponder,
    shardOwner: shardOwnerMachine,
    leader: leaderMachine,
    assigner: assignerMachine,
    lifecycle: lifecycleMachine,
    pauseGuard,
  },
});

type Mapper<T> = (args: { context: NodeContext }) => T;

/** The shard owner reports back by message (HANDED_OVER) to the node that invoked it. */
export const shardOwnerInput = ({ context, self }: { context: NodeContext; self: { send(e: NodeEvent): void } }): OwnerInput => ({
  specs: context.specs,
  ports: context.ports,
  onHandedOver: () => self.send({ type: 'HANDED_OVER' }),
  onRunning: () => void (context.startup.runningAt = context.ports.clock.monotonic()),
});

export const specApiInput: Mapper<SpecApiInput> = ({ context }) => ({
  bus: context.bus,
  subjects: context.ports.subjects,
  log: context.ports.log,
  metrics: context.ports.metrics,
  store: context.store,
  specTotal: context.specTotal,
  maxSpecBytes: context.maxSpecBytes,
  maxSpecs: context.maxSpecs,
  vantagePoints: context.cluster.vantagePoints,
  clock: context.ports.clock,
  admission: context.api,
  summaryEveryMs: API_SUMMARY_EVERY_MS,
  targetPolicy: context.targetPolicy,
});

export const membershipInput: Mapper<MembershipInput> = ({ context }) => ({
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
  ...(context.cluster.overloadGraceMs !== undefined ? { overloadGraceMs: context.cluster.overloadGraceMs } : {}),
  ...(context.cluster.sharedSilenceGraceMs !== undefined ? { sharedSilenceGraceMs: context.cluster.sharedSilenceGraceMs } : {}),
  sharedSilences: context.ports.metrics.sharedSilences,
  load: () => {
    const groups = context.specs.primaryGroups?.();
    const verdicts = context.ports.verdictTally?.counts();
    return { ...context.ports.metrics.held, specs: context.specs.primarySpecs?.() ?? 0, ...(groups ? { groups } : {}), ...(verdicts ? { verdicts } : {}) };
  },
  starting: () => context.startup.runningAt === null,
  runningMs: () => (context.startup.runningAt === null ? undefined : Math.max(0, Math.round(context.ports.clock.monotonic() - context.startup.runningAt))),
  ...(context.ports.load ? { overload: context.ports.load.status.bind(context.ports.load) } : {}),
  ...(context.ports.quarantine ? { quarantined: context.ports.quarantine.quarantined.bind(context.ports.quarantine) } : {}),
  clockSkewWarnMs: context.cluster.clockSkewWarnMs,
  clockGauges: context.ports.metrics,
  ...(context.ports.clockOffsets ? { clockOffsets: context.ports.clockOffsets } : {}),
});

export const leaderInput: Mapper<LeaderInput> = ({ context }) => ({
  store: context.leaseStore,
  node: context.ports.nodeId,
  cfg: context.cluster.lease,
  startHoldMs: context.cluster.overloadRelief?.holdMs ?? 0,
  clock: context.ports.clock,
  log: context.ports.log,
  announce: (e) => context.bus.publish(context.ports.subjects.cluster('leader'), { ...e, at: new Date(context.ports.clock.now()).toISOString() }),
});

export const followerInput: Mapper<FollowerInput> = ({ context }) => ({
  store: context.assignmentStore,
  node: context.ports.nodeId,
  clock: context.ports.clock,
  log: context.ports.log,
  rereadMs: assignmentRereadMs(context.cluster.lease.leaseMs),
});

export const clusterStatusInput: Mapper<StatusInput> = ({ context }) => ({ bus: context.bus, subjects: context.ports.subjects, view: context.view, log: context.ports.log });

export const lifecycleInput: Mapper<LifecycleInput> = ({ context }) => ({
  log: context.log,
  view: context.view,
  leaveTimeoutMs: context.cluster.leaveTimeoutMs,
  flush: context.flush,
});

/** Started each time this node becomes leader, with the term, view and lease validity of that moment. */
export const assignerInput: Mapper<AssignerInput> = ({ context }) => ({
  term: context.term,
  node: context.ports.nodeId,
  store: context.assignmentStore,
  shardCount: context.specs.catalog.shardCount,
  vantagePoints: context.cluster.vantagePoints,
  quietMs: context.cluster.rebalanceQuietMs,
  maxDelayMs: context.cluster.rebalanceMaxDelayMs,
  // A node that just started first listens for heartbeats, so its first map is not "just me".
  firstMapNotBefore: context.startedAt + context.cluster.suspectAfterMs,
  clock: context.ports.clock,
  log: context.ports.log,
  live: context.view.live,
  members: context.view.members,
  churn: context.cluster.churn,
  ...(context.cluster.overloadRelief ? { overloadRelief: context.cluster.overloadRelief } : {}),
  ...(context.cluster.quarantineMaxFraction ? { quarantineMaxFraction: context.cluster.quarantineMaxFraction } : {}),
  leaseValidUntil: context.leaseValidUntil,
  announce: (e) => context.bus.publish(context.ports.subjects.cluster('assignment'), e),
});

export const pauseGuardInput: Mapper<PauseGuardInput> = ({ context }) => ({
  queue: context.ports.queue,
  flush: context.flush,
  clock: context.ports.clock,
  log: context.ports.log,
  metrics: context.ports.metrics,
  timings: confirmTimings(context.cluster.deadAfterMs, context.cluster.heartbeatMs),
});
