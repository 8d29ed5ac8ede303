// The check runner's boundary: the ports it touches outside itself, what it is started with, the
// events it takes and its context. Unit tests pass fakes (test/helpers/fake-ports.ts); the node
// passes NATS (app/start-node.ts). check-runner.ts is the machine, runner-directives.ts carries
// out the table's directives, runner-handover.ts the claim and the release.

import type { ProbeOutcome } from '../checks/outcome';
import type { NormalizedSpec } from '../checks/spec';
import type { CatchUpPacer } from '../protocol/catch-up-pacer';
import type { CheckTable } from '../protocol/check-table';
import type { ClockOffsets } from '../protocol/clock-offset';
import type { Confirmation } from '../protocol/confirm';
import type { ClaimEvent } from '../protocol/handover';
import type { ClaimAnswer, ClaimRequest } from '../protocol/handover-wire';
import type { QuorumRecord } from '../protocol/quorum-record';
import type { QuorumTable } from '../protocol/quorum-table';
import type { ReleaseRecord, ResultMessage, ResumeState } from '../protocol/records';
import type { Bus } from '../runtime/bus';
import type { Clock } from '../runtime/clock';
import type { LoadPort } from '../runtime/load-monitor';
import type { Logger } from '../runtime/logger';
import type { QuarantinePort } from '../runtime/quarantine-guard';
import type { CheckGauges } from '../runtime/check-gauges';
import type { VerdictTally } from '../runtime/verdict-tally';
import type { Metrics } from '../runtime/metrics';
import type { PushOwnership } from '../runtime/push-registry';
import type { ResultHistory, ResumeAnswer } from '../runtime/result-history';
import type { Subjects } from '../runtime/subjects';
import type { DueHandler, TimerQueue } from '../runtime/timer-queue';
import type { InFlightStops, StopSignal } from '../checks/probe-stop';
import type { ProbeFn } from '../checks/probe';

/** Everything a runner touches outside itself. */
export interface RunnerPorts {
  clock: Clock;
  queue: TimerQueue;
  probe: ProbeFn;
  /**
   * Publish a result, verdict change or record. `onDropped`: called if the publish gate drops the
   * message instead (at once, or when its batch is written: runtime/publish-batcher.ts).
   */
  publish(subject: string, msg: unknown, onDropped?: () => void): void;
  /** Claims and releases between nodes (request/reply, subscribe). */
  bus: Bus;
  history: ResultHistory;
  subjects: Subjects;
  metrics: Metrics;
  log: Logger;
  nodeId: string;
  /** This process's instance id (a claim from ourselves is told apart by it). */
  instance: string;
  jitterMs: number;
  random(): number;
  /** How long a draining or releasing runner waits for in-flight probes. */
  graceMs: number;
  /** LOOKOUT_CLAIM_WAIT_MS: how long a claim may go unanswered before starting from the result stream. */
  claimWaitMs: number;
  /** A check left this runner for good (deleted): drop per-check resources such as pooled sockets. */
  release(id: string): void;
  /** Node-wide pacing of catch-up probes after a failover. */
  catchUps: CatchUpPacer;
  /**
   * How long a holder taken over without a release may have published unseen (the dead threshold
   * plus its own dead-link detection): a takeover skips that many intervals' seq numbers.
   */
  takeoverUnseenMs?: number;
  /** False while this node must not publish verdicts (its queue is held, its link cut); absent: while the queue is not held. */
  canPublishVerdicts?(): boolean;
  /** The stored combined verdicts of checks with replicas > 1 (absent: none is read; a new primary starts from unknown). */
  quorumRecords?: QuorumRecordStore;
  /** Peers' clock offsets estimated from heartbeats (membership writes them): a count of probes that ran twice places another node's probes by them. */
  clockOffsets?: ClockOffsets;
  /**
   * The node's measure of its own lag (runtime/load-monitor.ts): the stall while a probe runs judges
   * its outcome, the queue's lateness counts towards the overload state. Absent: nothing is judged.
   */
  load?: LoadPort;
  /**
   * Ask another live node to probe `spec` once before a failure of it counts (protocol/confirm.ts;
   * runtime/confirm-bus.ts). Never rejects; `signal` gives up (unconfirmed). Absent: nobody is asked.
   */
  confirm?(spec: NormalizedSpec, signal: StopSignal): Promise<Confirmation>;
  /**
   * True while the panic guard holds new downs (protocol/panic.ts; runtime/panic-guard.ts): the
   * fleet's, or that of `group` (protocol/panic-groups.ts). Absent: never.
   */
  panicking?(group?: string): boolean;
  /** LOOKOUT_PANIC_GROUP_LABEL: the label whose value is a check's panic group. Absent or '': no groups. */
  panicGroupLabel?: string;
  /**
   * Self-quarantine (protocol/quarantine.ts; runtime/quarantine-guard.ts): told what each probe and
   * confirmation showed, and asked whether verdict changes are held. Absent: never quarantined.
   */
  quarantine?: QuarantinePort;
  /** Per-check metrics (runtime/check-gauges.ts), when LOOKOUT_CHECK_METRICS is on. */
  checkGauges?: CheckGauges;
  /** This node's verdict counts (runtime/verdict-tally.ts): a rank-0 runner counts its checks there while it lives. */
  verdictTally?: VerdictTally;
  /** Per-period rollups of the probes (runtime/rollup-recorder.ts). */
  rollups?: { observe(msg: ResultMessage): void };
  /**
   * Whether this node's detector holds `node` alive: a moved holder keeps probing while the new
   * owner lives and has not claimed yet (protocol/handover.ts movedWait). Absent: never waits on.
   */
  peerAlive?(node: string): boolean;
  /**
   * Whether this node holds `node` dead or returning (a restart still loading its specs:
   * protocol/takeover.ts): its claims are answered `held`, and the slot probed on for it until it
   * is heard running. Absent: never.
   */
  heldDead?(node: string): boolean;
  /**
   * Whether this process has heard `node`'s heartbeat (not merely seeded it from a stored map: a
   * node that left before this one started). An unanswered claim to a holder never heard is a
   * takeover from one gone, not from one that may still publish (runner-handover.ts streamMode).
   * Absent: every holder counts as heard.
   */
  peerHeard?(node: string): boolean;
  /**
   * Whether this node is cut off from NATS now (its link down past the pause threshold). A probe
   * started then is never published —
   * not even when it finishes after the link is back and the gate open again: the others may have
   * taken its check over meanwhile, and its seq could repeat theirs (its outcome is no quarantine
   * evidence). `dropped` counts each message not published, like the gate's own drops
   * (lookout_pause_dropped_total, `publishes_dropped`). Absent: never cut off.
   */
  publishGate?: { cutOff(): boolean; dropped(kind: 'result' | 'status'): void };
  /** The node's push deadlines (runtime/push-registry.ts): the runner owns its push checks there (actors/runner-push.ts). Absent: none kept. */
  push?: PushOwnership;
}

/** Reads `<prefix>._resume.<id>.quorum` (protocol/quorum-record.ts); `done` gets null when there is none. */
export interface QuorumRecordStore {
  last(id: string, done: (err: unknown, record: QuorumRecord | null) => void): void;
}

/**
 * How a runner's checks start. `fresh`: from the result stream, on the next slot (a shard nobody
 * held, or a start with no previous map). `claim`: from the previous holder's release (`holder`:
 * the node the previous map named, epoch `since`, null when unknown; a release from before `since`
 * is stale: protocol/handover.ts staleRelease); `gainedAt`: this node's wall time when its map gave
 * it the slot (the runner itself may start later, once the shard's specs are held) — if the named
 * holder turns out to hold nothing (no responders), nobody probed the slot since, and a slot due
 * since gets a catch-up. `takeover`: the previous holder is dead or gone — from the result stream
 * with one paced catch-up probe per check, and one takeover claim beside it (a moved holder or an
 * unclaimed kept release answers: protocol/handover.ts); `from`: the holder taken over (dead, or
 * not a member), only its late release counts duplicates; `heldDead`: this node's detector holds
 * it dead (not merely gone), its seq is skipped past; `restarted`: it is held dead because a new
 * life of it was heard (returning), no catch-up probe.
 */
export type RunnerStart = { type: 'fresh' } | { type: 'claim'; holder: string | null; since?: number; gainedAt?: number } | { type: 'takeover'; from?: string | null; heldDead?: boolean; restarted?: boolean };

export interface RunnerInput {
  shard: number;
  /** This node's rank among the shard's owners (0: the primary). */
  rank: number;
  gen: number;
  epoch: number;
  specs: NormalizedSpec[];
  /** Default `fresh`. */
  start?: RunnerStart;
  ports: RunnerPorts;
  /** Told once, when this runner's release has been published and a claimant asked for it (a graceful leave waits for it). */
  onHandedOver?: () => void;
}

export type RunnerEvent =
  | { type: 'CHECK_SET'; spec: NormalizedSpec }
  | { type: 'CHECK_REMOVE'; id: string }
  | { type: 'EPOCH'; epoch: number }
  | { type: 'DUE'; id: string; at: number; now: number }
  | { type: 'PROBE_DONE'; id: string; token: number; outcome: ProbeOutcome; confirmation?: Confirmation; startedCutOff?: boolean }
  | { type: 'RESUMED'; id: string; state: ResumeState | null }
  /** `handover`: the map moved this (shard, rank) to another node (`nextOwner`): release it. Absent: stop (node stopping, or drop). */
  | { type: 'STOP'; handover?: boolean; atOnce?: boolean; nextOwner?: string }
  /** Another node claims this (shard, rank) (`answer` replies to it). */
  | { type: 'CLAIM'; claim: ClaimRequest; answer(a: ClaimAnswer): void }
  /** What our own claim attempt `attempt` got. */
  | { type: 'CLAIM_RESULT'; attempt: number; event: ClaimEvent; answer?: ClaimAnswer }
  /** Claim again (the holder is releasing, or the last attempt went unanswered). */
  | { type: 'CLAIM_RETRY' }
  /** A holder's release arrived on `<…>.release`. */
  | { type: 'RELEASE'; release: ReleaseRecord }
  /** The primary heard a result of a check it combines (`raw`: the payload, hostile input). */
  | { type: 'VANTAGE_RESULT'; id: string; raw: unknown }
  /** The stored combined verdict of a check was read. */
  | { type: 'QUORUM_RESUMED'; id: string; record: QuorumRecord | null };

/** The release a runner gave, kept to answer late claims; `at` is when it was made (monotonic: dueInMs is recomputed from it). */
export interface KeptRelease {
  release: ReleaseRecord;
  at: number;
}

export interface RunnerContext {
  shard: number;
  rank: number;
  gen: number;
  /** The wall clock when the runner started, whole ms: its checks' probe stretches count their times from it in whole ms (check-entry.ts ProbeStretch). */
  wallOrigin: number;
  ports: RunnerPorts;
  log: Logger;
  table: CheckTable;
  /** The shard's primary (rank 0) combines its checks with replicas > 1 (runner-quorum.ts); null at other ranks. */
  quorum: QuorumTable | null;
  /** Per combined check, the subscription to its results. */
  quorumUnsubs: Map<string, () => void>;
  /** The combined verdicts when the primary stopped combining: they go with its release. */
  quorumReleased: Map<string, QuorumRecord> | null;
  due: DueHandler;
  /** Where this runner's resume lookups answer (one function for all of them: runtime/result-history.ts). */
  resumed: ResumeAnswer;
  /** The stop switch of each probe (or confirmation) in flight, by its token. */
  aborts: InFlightStops;
  /** Specs not loaded into the table yet (while claiming; a shard may hold thousands). */
  pending: Map<string, NormalizedSpec>;
  start: RunnerStart;
  /** Claiming: attempts sent, monotonic start of the wait (or the holder's last answer). */
  attempt: number;
  silentSince: number;
  /** The node's total stall (load.stallMs) at silentSince: a stall of this node is no silence of the holder. */
  silentStall: number;
  /** The node's total stall when the first claim went out: a release read after a stall may have waited that long. */
  claimStall: number;
  /** Unsubscribe functions of this runner's subscriptions (release while claiming, claims while holding). */
  unsubs: (() => void)[];
  /** The release this runner continued from (`node/instance/gen`): heard again on `.release`, it is no news. */
  continuedFrom: string | null;
  /** Subscribed to this (shard, rank)'s `.release` already. */
  hearsReleases: boolean;
  kept: KeptRelease | null;
  /** The first claimant that asked for our release (it gets it; a graceful leave may go on); null: none yet. */
  claimedBy: ClaimRequest | null;
  /** `taken` answers given as a holder, or received as a claimant (the first is logged). */
  takenAnswers: number;
  /** The node stopped while this runner was releasing: stop once released instead of keeping the release. */
  stopWhenReleased: boolean;
  /** Moved: the slot's new owner (null: unknown), and the claim waits passed without its claim. */
  nextOwner: string | null;
  movedWaits: number;
  /** Claims this runner answered `held` as a holder (the first is logged). */
  heldAnswers: number;
  /** `held` answers this runner received as a claimant (the first is logged). */
  heldWaits: number;
  /** While true, carryOut publishes no result, transition or resume state (a probe started while cut off is being applied). */
  dropPublishes: boolean;
  /**
   * Gained from a live holder while this node had none of the shard's specs yet (its watch not
   * created yet): nothing to claim at start. The first check added before this monotonic instant
   * claims then, so the holder — still probing it, moved — releases (check-runner.ts claimLate).
   */
  claimLateUntil: number;
  /** Stops counting this runner's verdicts (a rank-0 runner counts its checks in ports.verdictTally until it stops scheduling); idempotent. */
  uncount: () => void;
  onHandedOver: () => void;
  /** Actor events that arrive after the actor stopped are dropped, not warned about. */
  send: (e: RunnerEvent) => void;
}
