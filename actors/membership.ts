// Membership: heartbeats out, heartbeats in, the failure detector in between
// (protocol/failure-detector.ts decides; this actor only does the I/O and the ticking).
//
// Internal subjects: `<prefix>._node.heartbeat` (every heartbeatMs: node, instance, startedAt,
// sentAt, incarnation, seq, version, shards and checks held, leaving, overloaded and lagMs, quarantined) and `<prefix>._node.suspect` (a node
// that starts suspecting another says so; the suspected node, if alive, raises its incarnation and
// heartbeats at once — the refutation). It also answers claims of its node id
// (node-claim.ts) and notices a heartbeat of its own node id from another process.
//
// The parent hears MEMBERS whenever a member changes state (and on every tick, for what members
// hold), and DUPLICATE when this process must stop because another one runs with its node id.
// While the parent says this node leads, member changes are also published on the public
// `<prefix>.cluster.member.<state>` subjects (one publisher, not one per node).
//
// Heartbeats also feed the clock watch (clock-watch.ts): each peer's clock offset and skew, for
// the gauges, the clock_skew log events and cluster.status (MEMBERS carries the report). Display
// and alerting only: no decision here or in the failure detector reads a wall clock.

import { fromCallback } from 'xstate';
import { FailureDetector, type Member, type MemberChange } from '../protocol/failure-detector';
import { parseHeartbeat } from '../protocol/heartbeat';
import type { ClockReport } from '../protocol/clock-offset';
import { yieldsTo } from '../protocol/node-identity';
import type { Heartbeat } from '../protocol/records';
import type { VerdictCounts } from '../protocol/verdict-counts';
import type { Bus } from '../runtime/bus';
import type { Clock, TimerHandle } from '../runtime/clock';
import type { LoadStatus } from '../runtime/load-monitor';
import type { Logger } from '../runtime/logger';
import type { Subjects } from '../runtime/subjects';
import type { ClockOffsets } from '../protocol/clock-offset';
import { clockWatch, type ClockGauges } from './clock-watch';
import { answerClaims } from './node-claim';

export interface MembershipInput {
  bus: Bus;
  subjects: Subjects;
  node: string;
  /** This process's instance id (protocol/node-identity.ts). */
  instance: string;
  version: string;
  clock: Clock;
  log: Logger;
  heartbeatMs: number;
  suspectAfterMs: number;
  deadAfterMs: number;
  /** Extra silence tolerated when a member, or this node, says it is overloaded (failure-detector.ts). */
  overloadGraceMs?: number;
  /** Extra silence tolerated for a member silent while most members were (protocol/shared-silence.ts). */
  sharedSilenceGraceMs?: number;
  /** Counts each shared silence found (lookout_shared_silences_total). */
  sharedSilences?: { inc(): void };
  /** What this node holds, for the heartbeat. */
  load(): { shards: number; checks: number; specs?: number; groups?: Record<string, number>; verdicts?: VerdictCounts };
  /** Whether this node is overloaded and its worst recent lag (runtime/load-monitor.ts), for the heartbeat; absent: never. */
  overload?(): LoadStatus;
  /** Whether this node's slots are not all running yet (a restart's are run by others meanwhile), for the heartbeat; absent: never. */
  starting?(): boolean;
  /** Once running: for how long (ms, monotonic), for the heartbeat (records.ts Heartbeat.runningMs). */
  runningMs?(): number | undefined;
  /** Whether this node is in self-quarantine (runtime/quarantine-guard.ts), for the heartbeat; absent: never. */
  quarantined?(): boolean;
  /** LOOKOUT_CLOCK_SKEW_WARN_MS. */
  clockSkewWarnMs: number;
  clockGauges: ClockGauges;
  /** Where the clock offset estimates are kept (shared with the check runners). */
  clockOffsets?: ClockOffsets;
}

export type MembershipEvent =
  | { type: 'LEAVE' }
  | { type: 'SEED'; nodes: string[] }
  | { type: 'CONNECTION'; up: boolean }
  | { type: 'LEADING'; leading: boolean };

export interface MembersChanged {
  type: 'MEMBERS';
  live: string[];
  members: Member[];
  changes: MemberChange[];
  /** Clock offsets and skews as of the last tick (clock-watch.ts). */
  clocks: ClockReport;
}

/** Another process runs with this node id and this one yields: stop, without announcing a leave. */
export interface DuplicateFound {
  type: 'DUPLICATE';
  other: string;
}

/**
 * Dead and left members are forgotten after this long (10 min). Long enough that `lookout cluster`
 * still shows a node that just died or left while an operator looks into it; short enough that a
 * cluster whose nodes are replaced over months does not carry every one it ever had. Forgetting
 * changes no assignment (the leader stopped assigning to the member when it died or left).
 */
export const FORGET_AFTER_MS = 10 * 60_000;

/** Public event name of a member change (`<prefix>.cluster.member.<event>`). */
export function memberEvent(c: MemberChange): string {
  return c.from === 'new' || c.from === 'dead' || c.from === 'left' ? (c.to === 'alive' ? 'joined' : c.to) : c.to;
}

export const membership = fromCallback<MembershipEvent, MembershipInput>(({ input, sendBack, receive }) => {
  const { bus, subjects: s, node, instance, clock } = input;
  const log = input.log.child({ actor: 'membership' });
  const detector = new FailureDetector(node, { suspectAfterMs: input.suspectAfterMs, deadAfterMs: input.deadAfterMs, overloadGraceMs: input.overloadGraceMs ?? 0, sharedSilenceGraceMs: input.sharedSilenceGraceMs ?? 0 });
  const startedAt = clock.now();
  let incarnation = 0;
  let seq = 0;
  let leaving = false;
  let leading = false;
  let duplicate = false;
  let timer: TimerHandle | null = null;
  const clocks = clockWatch({ node, boundMs: input.clockSkewWarnMs, settleMs: input.suspectAfterMs, log, gauges: input.clockGauges, ...(input.clockOffsets ? { offsets: input.clockOffsets } : {}) });
  let clockReport = clocks.tick([], clock.monotonic());

  const report = (changes: MemberChange[], always = false) => {
    if (changes.length === 0 && !always) return;
    for (const c of changes) {
      const fields = { event: `member_${memberEvent(c)}`, member: c.node, from: c.from, to: c.to, incarnation: c.incarnation };
      if (c.to === 'alive' && c.from === 'new') log.info(fields, 'member joined');
      else if (c.to === 'suspect' || c.to === 'dead') log.warn(fields, `member ${c.to}`);
      else log.info(fields, `member ${c.to}`);
      if (c.to === 'suspect') bus.publish(s.internal('suspect'), { node: c.node, incarnation: c.incarnation, by: node });
      if (leading) {
        bus.publish(s.cluster(`member.${memberEvent(c)}`), { node: c.node, state: c.to, previous: c.from, incarnation: c.incarnation, by: node, at: new Date(clock.now()).toISOString() });
      }
    }
    sendBack({ type: 'MEMBERS', live: detector.live(), members: detector.all(), changes, clocks: clockReport } satisfies MembersChanged);
  };

  const runningFor = (): { runningMs?: number } => {
    const ms = input.runningMs?.();
    return ms === undefined ? {} : { runningMs: ms };
  };

  const beat = () => {
    if (duplicate) return;
    const hb: Heartbeat = { node, instance, startedAt, incarnation, seq: ++seq, version: input.version, ...input.load(), leaving, ...(input.starting?.() ? { starting: true } : runningFor()), ...input.overload?.(), ...(input.quarantined?.() ? { quarantined: true } : {}) };
    // Our own entry, so the view (and cluster.status) includes this node.
    report(detector.heartbeat(hb, clock.monotonic()));
    // sentAt read last, right before it goes out: a later reading only narrows the delay.
    bus.publish(s.internal('heartbeat'), { ...hb, sentAt: clock.now() } satisfies Heartbeat);
  };

  const tick = () => {
    beat();
    // Every tick, even without a state change: the view also carries what members hold (checks,
    // shards, version) for cluster.status.
    const changes = detector.tick(clock.monotonic());
    const shared = detector.sharedSilenceNews();
    if (shared) {
      input.sharedSilences?.inc();
      log.warn({ event: 'shared_silence', silent: shared.silent, live: shared.live, marked: shared.marked, graceMs: input.sharedSilenceGraceMs ?? 0 }, `${shared.silent.length} of ${shared.live} members silent at once: taken for the server's or this node's link's delay, each judged with the grace until heard`);
    }
    clockReport = clocks.tick(detector.live(), clock.monotonic());
    report(changes, true);
    clocks.forget(detector.forget(clock.monotonic(), FORGET_AFTER_MS));
    timer = clock.setTimeout(tick, input.heartbeatMs);
  };

  /** A restart of a member is starting (its slots run on the next owners), or now runs (they go back to it). */
  const noteReturning = (hb: Heartbeat, returning: boolean) => {
    const fields = { member: hb.node, instance: hb.instance, incarnation: hb.incarnation };
    if (returning) log.warn({ event: 'member_returning', ...fields }, 'a new life of the member is starting: the next owners run its slots until it runs');
    else log.info({ event: 'member_running', ...fields }, 'the restarted member runs: its slots go back to it');
  };

  /** Another process with our node id: log it once; the one with the greater instance id stops. */
  const sharedId = (other: string, how: string) => {
    if (duplicate) return;
    if (!yieldsTo(instance, other)) {
      log.error({ event: 'duplicate_node_id', other, how }, `another process runs with node id ${node}; it will stop (its instance id is greater)`);
      return;
    }
    duplicate = true;
    log.fatal({ event: 'duplicate_node_id', other, how }, `another process runs with node id ${node} (instance ${other}): stopping this one`);
    sendBack({ type: 'DUPLICATE', other } satisfies DuplicateFound);
  };

  const unsubs = [
    bus.subscribe(s.internal('heartbeat'), (m) => {
      const recvAt = clock.now();
      const hb = parseHeartbeat(m.json());
      if (!hb) return void log.debug({ event: 'heartbeat_malformed', subject: m.subject, bytes: m.data.length }, 'malformed heartbeat ignored');
      if (hb.node === node) {
        if (hb.instance !== instance) sharedId(hb.instance, 'heartbeat');
        return;
      }
      clocks.heard(hb, recvAt);
      const wasReturning = detector.get(hb.node)?.returning === true;
      const changes = detector.heartbeat(hb, clock.monotonic());
      const returning = detector.get(hb.node)?.returning === true;
      if (returning !== wasReturning) noteReturning(hb, returning);
      report(changes, returning !== wasReturning);
    }),
    bus.subscribe(s.internal('suspect'), (m) => {
      const msg = m.json() as { node?: unknown; incarnation?: unknown; by?: unknown } | undefined;
      if (typeof msg !== 'object' || msg === null) return;
      if (msg.node !== node || leaving || duplicate || typeof msg.incarnation !== 'number' || msg.incarnation < incarnation) return;
      incarnation = msg.incarnation + 1;
      log.warn({ event: 'suspicion_refuted', by: msg.by, incarnation }, 'suspected by a peer: refuting with a higher incarnation');
      beat();
    }),
    answerClaims(bus, s, node, instance, (other) => log.warn({ event: 'node_id_claimed', other }, `another process tried to start with node id ${node}; told it the id is taken`)),
  ];

  receive((e) => {
    switch (e.type) {
      case 'LEAVE':
        leaving = true;
        log.info({ event: 'member_leave_announced' }, 'announcing graceful leave');
        beat();
        break;
      case 'SEED':
        report(detector.seed(e.nodes, clock.monotonic()));
        break;
      case 'CONNECTION':
        if (e.up) detector.resume(clock.monotonic());
        else detector.pause();
        break;
      case 'LEADING':
        leading = e.leading;
        break;
    }
  });

  log.info({ event: 'membership_started', instance, heartbeatMs: input.heartbeatMs, suspectAfterMs: input.suspectAfterMs, deadAfterMs: input.deadAfterMs, overloadGraceMs: input.overloadGraceMs ?? 0, sharedSilenceGraceMs: input.sharedSilenceGraceMs ?? 0 }, 'membership started');
  tick();
  return () => {
    if (timer !== null) clock.clearTimeout(timer);
    for (const u of unsubs) u();
  };
});
