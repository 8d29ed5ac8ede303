// Wire and stored records: the shapes Lookout publishes on NATS and keeps in its KV buckets and
// result stream. One module, so every layer (the pure protocol, the stores in runtime/, the actors,
// the CLI) reads the same definition. Types only.
//
// Public contract (DESIGN.md §2): result and status messages are read by consumers written in any
// language, so their fields are only ever added, never renamed. The lease and assignment records
// and heartbeats are read by other nodes, possibly of another version: the same rule applies.
//
// Glossary: one name per concept in code and comments. Wire fields, settings, metric names and
// spec fields keep their published names; where one differs from the code's name, it says so.
//   shard          checks hash to one of LOOKOUT_SHARDS shards. The assignment map (ShardMap)
//                  gives each shard an ordered list of owner nodes, its row.
//   rank           a node's position in a shard's row: 0 is the primary. Code says `rank`, never
//                  `vantage`, `index` or `position` (the assignment algorithm's formulas write it
//                  `k`, as they write `s` for a shard and `u` for a member).
//   vantagePoints  LOOKOUT_VANTAGE_POINTS: how many ranks each shard has (at most the member
//                  count). Not kvReplicas (LOOKOUT_KV_REPLICAS), JetStream's copies of stored data.
//   replicas       the spec field (a wire contract): how many ranks, 0..replicas-1, probe a
//                  check; capped by vantagePoints.
//   vantage        a check's vantages are the nodes at those ranks. The `vantage` field of result
//                  and status messages is the rank the probe ran from (the wire name of `rank`).
//   term / epoch   a term is the lease revision a leader won (its fencing token); an epoch numbers
//                  assignment maps and keeps increasing across terms.
//   slot           (time) an instant a check's probes belong to (slots.ts). The assignment code
//                  also calls one (shard, rank) cell of the map a slot (Slot, movedSlots): the
//                  one name still used for two things.

import type { CertInfo, DnsInfo, FailureReason, GrpcInfo, PhaseTimings, PushInfo } from '../checks/outcome';
import type { PushCarry } from '../checks/push-deadline';
import type { CheckKind } from '../checks/spec';
import type { Confirmation } from './confirm';
import type { QuorumCounts, QuorumVerdict, VantageState } from './quorum';
import type { QuorumRecord } from './quorum-record';
import type { PublishedVerdict } from './published-verdict';
import type { Verdict } from './verdict';
import type { VerdictCounts } from './verdict-counts';

/** `<prefix>.result.<id>`: one per probe. */
export interface ResultMessage {
  checkId: string;
  /** This probe passed. */
  ok: boolean;
  /** The verdict policy's verdict after this probe (up / down; the published verdict adds the flags below). */
  status: Verdict;
  latencyMs: number;
  reason: FailureReason | null;
  message: string | null;
  node: string;
  /** ISO-8601 time the probe started. */
  at: string;
  /** Assignment epoch under which the probe ran: (epoch, seq) orders a check's messages. */
  epoch: number;
  /** Per check and rank, strictly increasing; continues across handover and restart. */
  seq: number;
  /** The rank the probe ran from: the node's position in the shard's row (0 unless the spec asks for replicas > 1). */
  vantage: number;
  kind: CheckKind;
  target: string;
  /** Slot (ms since the Unix epoch) this probe belongs to; the start is slot + jitter. */
  slot: number;
  /**
   * The interval of the slot grid this probe ran on: intervalMs, or a state-dependent interval
   * (protocol/state-interval.ts) — the spacing to this probe's slot from the previous one on the same grid.
   */
  intervalMs: number;
  timings: PhaseTimings;
  httpStatus?: number;
  bodyBytes?: number;
  truncated?: boolean;
  redirects?: number;
  /** TLS probes (https, tcp with tls): the peer certificate's days left and the chain's earliest expiry. */
  cert?: CertInfo;
  /** dns probes: the server asked, the transport, the rcode and the number of answers of the queried type. */
  dns?: DnsInfo;
  /** tcp probes that failed in a dialog step: the step's field path ("tcp.dialog[2]"). */
  step?: string;
  /** grpc probes: the call's gRPC status code and, when a response arrived, its serving status. */
  grpc?: GrpcInfo;
  /** push checks: what the owner had heard when it evaluated the deadline (durations on its monotonic clock). */
  push?: PushInfo;
  /**
   * Reason `inconclusive` only: ms this node's own event loop stalled while the probe ran (the
   * evidence that its failure was the node's, not the target's: protocol/overload.ts).
   */
  stallMs?: number;
  /** What another node saw when this failure was confirmed (protocol/confirm.ts; replicas 1 with `confirm`). */
  confirmation?: Confirmation;
  /**
   * `panic`: this failure would have turned the check down, held by the panic guard (protocol/panic.ts);
   * `quarantine`: this outcome would have changed the verdict while the node is quarantined
   * (protocol/quarantine.ts). Either way the verdict is as it was.
   */
  held?: 'panic' | 'quarantine';
  /** Recent outcomes, oldest first ('1' pass, '0' fail): the verdict state, for handover. */
  history: string;
  /** Rounds skipped since the previous result because a probe was still running. */
  skipped: number;
  /**
   * Status up and the newest passing probe breached a degraded threshold (`degradedAfterMs`,
   * `tls.degradedDaysLeft`): the check is degraded (protocol/published-verdict.ts). Absent: not.
   */
  degraded?: true;
  /** The check is flapping (protocol/flapping.ts): the published verdict is `flapping`, whatever status says. Absent: not. */
  flapping?: true;
}

/** `<prefix>.status.<id>`: only when the published verdict changes ("unknown" before a check's first verdict). */
export interface StatusMessage {
  checkId: string;
  from: PublishedVerdict | 'unknown';
  to: PublishedVerdict;
  at: string;
  node: string;
  epoch: number;
  seq: number;
  /** The rank the probe ran from (as in ResultMessage). */
  vantage: number;
  /**
   * Reason of the probe that caused a change to down; the threshold breached (`latency`,
   * `cert_expiry`) on a change to degraded; null otherwise. `message` says more (for flapping: the
   * percent state change).
   */
  reason: FailureReason | null;
  message: string | null;
  /** A change to down: what another node saw when it was confirmed (protocol/confirm.ts). */
  confirmation?: Confirmation;
  /** The check's value of LOOKOUT_PANIC_GROUP_LABEL, when set and it has one (protocol/panic-groups.ts). */
  group?: string;
}

/**
 * `<prefix>.status.<id>` of a check with replicas > 1: the combined verdict (protocol/quorum.ts),
 * published by the shard's primary when it changes (or when the quorum is lost or formed again:
 * then `from` equals `to`). `seq` counts these messages per check and `epoch` is the primary's,
 * so they order by (epoch, seq) among themselves; `vantage` is absent.
 */
export interface QuorumStatusMessage {
  checkId: string;
  from: QuorumVerdict | 'unknown';
  to: QuorumVerdict;
  at: string;
  node: string;
  epoch: number;
  seq: number;
  /** The reason of the down vantage heard last, on a change to down (null otherwise). */
  reason: FailureReason | null;
  message: string | null;
  quorum: QuorumCounts;
  vantages: VantageState[];
  /** As on StatusMessage: the check's panic group. */
  group?: string;
}

/**
 * What a new owner needs to continue a check: taken from its last published result (the newest
 * message on `<prefix>.result.<id>` in the result stream).
 */
export interface ResumeState {
  seq: number;
  status: Verdict;
  history: string;
  /** Slot of that result: tells whether the check missed a round while it had no owner. */
  slot: number;
  /** The result's flags (protocol/published-verdict.ts): absent, false. */
  degraded?: true;
  flapping?: true;
}

/** `<prefix>._node.heartbeat`: the membership message every node publishes (failure-detector.ts). */
export interface Heartbeat {
  node: string;
  /** Drawn once per process: tells a node's lives (and two processes sharing a node id) apart. */
  instance: string;
  /** Wall-clock start, for display only: no decision reads it. */
  startedAt: number;
  /**
   * The sender's wall clock when it sent this heartbeat: clock-offset estimates only
   * (clock-offset.ts), never a decision. Absent from heartbeats of versions before it was added.
   */
  sentAt?: number;
  incarnation: number;
  seq: number;
  version: string;
  shards: number;
  checks: number;
  leaving: boolean;
  /**
   * The sender is overloaded (protocol/overload.ts: its event loop lagged past LOOKOUT_OVERLOAD_LAG_MS
   * for the hold time): the leader gives it fewer primary shards (overload-relief.ts). Absent from
   * heartbeats of versions before it was added (read as false).
   */
  overloaded?: boolean;
  /** The sender's worst event-loop lag of its last second (ms), for display. Absent from older versions. */
  lagMs?: number;
  /**
   * The sender quarantined itself (protocol/quarantine.ts: its probes disagree with the others'):
   * the leader leaves it out of the map within the bound (quarantine-bound.ts). Absent: not.
   */
  quarantined?: boolean;
  /**
   * Specs stored in the shards the sender runs at rank 0 (every check has one rank-0 slot), so the
   * sum over members is the cluster's spec count: the API's `total` and LOOKOUT_MAX_SPECS, the panic
   * guard's fleet size. Absent from older versions (read as 0).
   */
  specs?: number;
  /**
   * With LOOKOUT_PANIC_GROUP_LABEL: the specs counted in `specs` by their value of that label, the
   * sender's largest MAX_PANIC_GROUPS groups (protocol/panic-groups.ts): summed over members, a
   * group's size for the panic guard. Absent: no label set, or an older version.
   */
  groups?: Record<string, number>;
  /**
   * The sender's slots of the first map it followed are not all running yet (their shards' specs
   * are still loading). A peer that heard an earlier life of the sender holds it returning
   * (failure-detector.ts): the next owners by rank keep running its slots until it is running
   * (protocol/takeover.ts). Once false, never true again in one life. Absent: running.
   */
  starting?: boolean;
  /**
   * How long the sender's slots have been running in this life, in ms of its own monotonic clock (a
   * duration, never compared with another clock): a node that joins later knows how long a member
   * has run (failure-detector.ts runningSince), so a leader it elects judges the member's overload
   * as the others do. Absent while starting, or from older versions (read as just begun).
   */
  runningMs?: number;
  /**
   * The checks whose status the sender decides (the shards it runs at rank 0: each check is counted
   * by one node), by published verdict, `unknown` before a first one (protocol/verdict-counts.ts):
   * summed over members by cluster.status. Each a bounded integer; absent (an older version, or
   * malformed): not known.
   */
  verdicts?: VerdictCounts;
}

/** The leader lease as read from its KV key: who holds it, and under which term (lease.ts). */
export interface LeaseRecord {
  holder: string;
  /** Acquisition revision, written by the first renewal (null right after acquisition). */
  term: number | null;
}

/** shard → its row: owner node ids by rank, rank 0 (the primary) first. */
export type ShardMap = string[][];

/** The assignment map as stored in its KV key and announced (assignment-record.ts: fencing). */
export interface AssignmentRecord {
  term: number;
  epoch: number;
  leader: string;
  /** Wall-clock ms when the leader issued the map. */
  at: number;
  /** The members the map assigns to (live and not damped). */
  members: string[];
  shards: ShardMap;
  /**
   * Members the leader holds out of this map because they flap (protocol/churn.ts); absent
   * in maps of older versions and when nobody is damped. Shown by cluster.status; a new leader
   * keeps holding them.
   */
  damped?: string[];
  /**
   * Members the leader gives fewer primary shards because they said they were overloaded
   * (protocol/overload-relief.ts); absent in maps of older versions and when nobody is relieved.
   */
  relieved?: string[];
  /**
   * Members held out of this map because they quarantined themselves (protocol/quarantine-bound.ts),
   * and those that asked past the bound and keep their shards (`quarantineRefused`). Absent when
   * empty and in maps of older versions; a new leader keeps holding the quarantined out.
   */
  quarantined?: string[];
  quarantineRefused?: string[];
}

/** One check of a release (handover.ts): where the new owner continues it from. */
export interface ReleasedCheck {
  id: string;
  /** Seq of the last result the releasing holder published (the new owner publishes seq + 1). */
  seq: number;
  status: Verdict;
  history: string;
  /**
   * The verdict last announced on `status.<id>` ('unknown': none yet — a check whose first probes
   * have not decided yet carries its initial `status` here unannounced). Absent from older nodes: `status`.
   */
  published?: PublishedVerdict | 'unknown';
  /** The flags beside `status` (protocol/published-verdict.ts): absent from older nodes and when false. */
  degraded?: true;
  flapping?: true;
  /** The next slot, as the holder labelled it (ms on the holder's own slot grid). */
  slot: number;
  /** Time from the moment of sending until that slot, on the holder's own clock: a duration, never a wall time. */
  dueInMs: number;
  /**
   * Rounds the holder skipped since its last published result (its probe was still running when
   * the slot came), not announced yet: the new owner's first result announces them in `skipped`.
   * Absent when none, and from older nodes.
   */
  skipped?: number;
  /** Probes the holder ran of this check since it last started probing it (absent from older nodes). */
  ran?: number;
  /** When the first of those probes started, on the holder's wall clock (ms): for counting what ran twice only (overlap.ts). */
  firstAt?: number;
  /** When its next slot is, on the holder's wall clock (ms; the label `slot` may be on a previous holder's clock). */
  nextAt?: number;
  /**
   * When the last of those probes started, on the holder's wall clock (ms): slots it let pass (a
   * pause) are not taken for probes. Absent from older nodes: one interval before `nextAt`.
   */
  lastAt?: number;
  /** The combined verdict (replicas > 1, released by the shard's primary only; absent from older nodes). */
  quorum?: QuorumRecord;
  /**
   * A push check's deadline (checks/push-deadline.ts): the ages of what the holder heard, measured on
   * its monotonic clock at sending — durations, never instants. Absent: not a push check, or an older node.
   */
  push?: PushCarry;
}

/** A claimant's runner: its node, process instance and runner generation there. */
export interface Claimant {
  node: string;
  instance: string;
  gen: number;
}

/** `<prefix>._node.shard.<s>.<r>.release`: a holder gives (shard, rank) up (handover.ts). */
export interface ReleaseRecord {
  shard: number;
  rank: number;
  node: string;
  instance: string;
  /** The releasing runner's generation on its node. */
  gen: number;
  /** Epoch of the map the holder followed when it released. */
  epoch: number;
  checks: ReleasedCheck[];
  /**
   * The claimant the holder released to (the first that claimed): only it continues from this
   * release when heard on `.release`. Absent: released on its own (no claim came), or an older node.
   */
  to?: Claimant;
}
