// A push check's deadline (a dead-man's switch), pure: what the owner knows of a job's reports,
// how a report changes it, what an evaluation at a slot finds, and the form the knowledge travels
// in at a handover. Every time here is the owner's own monotonic clock (runtime/push-registry.ts
// feeds performance.now()); nothing a job or another node says about time is compared with it.
// A release carries ages (durations measured by the holder at sending), never instants.
//
// Each instant is kept with the node's total "deaf time" at that instant — its event-loop stall
// (runtime/load-monitor.ts) and its NATS outages (runtime/link-outage.ts): time this node could not
// run or could not hear is not counted against the job (a paused owner reads the reports queued in
// its socket after its timers; a cut link loses the reports sent meanwhile).
//
// What an evaluation decides, in order:
//   the last report was `fail`                              down  reported_fail (until the next ok)
//   a run is open (start, no ok/fail yet) past graceMs      down  missed        (healthchecks.io's start rule)
//   a run is open within graceMs                            up    (the job is alive and running)
//   a report heard, its age > intervalMs + graceMs          down  missed
//   nothing heard since this node began keeping the deadline
//     (a fresh check, or a takeover without a release)
//     for more than intervalMs + graceMs                    down  missed
//     for less                                              inconclusive: the verdict stays as it was
//                                                           (a takeover of a down check must not flip
//                                                           it up, nor of an up one down: it cannot know)
//   otherwise                                               up
//
// How often this runs is push.checkEveryMs (protocol/state-interval.ts), not intervalMs: a missed
// deadline or a fail report is published at the first evaluation after it, within checkEveryMs.
import { FailureReason, type ProbeOutcome, type PushInfo } from './outcome';
import { SPEC_LIMITS } from './spec-limits';
import { PUSH_LIMITS } from './spec-schema-push';

export const PushSignal = { ok: 'ok', fail: 'fail', start: 'start' } as const;
export type PushSignal = (typeof PushSignal)[keyof typeof PushSignal];
export const PUSH_SIGNALS = Object.values(PushSignal);

/** An instant on the owner's monotonic clock, with the node's total stall then. */
export interface Instant {
  at: number;
  stall: number;
}

export interface PushState {
  /** When this owner's knowledge begins (it began keeping the deadline, or what a release carried): the base while nothing was heard. */
  since: Instant;
  last: (Instant & { signal: PushSignal; message: string | null }) | null;
  /** The run in progress: a start not yet followed by ok or fail. */
  run: Instant | null;
  /** The last finished run's duration (start → ok or fail), ms. */
  runMs: number | null;
}

export interface PushDeadline {
  intervalMs: number;
  graceMs: number;
}

/** A release's form of a PushState: ages at the moment of sending, on the holder's clock (stalls taken out). */
export interface PushCarry {
  /** Age of the holder's `since`. */
  sinceAgoMs: number;
  last?: { agoMs: number; signal: PushSignal; message: string | null };
  /** Age of the open run's start. */
  runAgoMs?: number;
  runMs?: number;
}

/**
 * Ages past this are all "missed" alike (twice the longest period + the longest grace: 140 days):
 * a carry clamps them, and a release that says more is refused, so a hostile release cannot push
 * numbers around.
 */
export const PUSH_MAX_AGE_MS = 2 * (SPEC_LIMITS.pushPeriodMs.max + PUSH_LIMITS.graceMs.max);

/** What a new owner knows with no release: nothing, since now. */
export function freshPush(now: Instant): PushState {
  return { since: now, last: null, run: null, runMs: null };
}

/** A report heard at `now`. */
export function noteReport(s: PushState, signal: PushSignal, message: string | null, now: Instant): PushState {
  const last = { ...now, signal, message };
  if (signal === PushSignal.start) return { ...s, last, run: now };
  const runMs = s.run ? Math.round(ageAt(s.run, now)) : s.runMs;
  return { ...s, last, run: null, runMs };
}

/** ms from `from` to `now`, less the node's stall in between. */
function ageAt(from: Instant, now: Instant): number {
  return Math.max(0, now.at - from.at - Math.max(0, now.stall - from.stall));
}

/** The evaluation at a slot: a probe outcome whose latency is 0 (nothing went over a network). */
export function evaluatePush(s: PushState, d: PushDeadline, now: Instant): ProbeOutcome {
  const deadline = d.intervalMs + d.graceMs;
  const lastAgo = s.last ? Math.round(ageAt(s.last, now)) : null;
  const push: PushInfo = { lastReportAgoMs: lastAgo, signal: s.last?.signal ?? null, runMs: s.runMs, running: s.run !== null };
  const down = (reason: FailureReason, message: string): ProbeOutcome => ({ ok: false, reason, message, latencyMs: 0, timings: { total: 0 }, push });
  if (s.last?.signal === PushSignal.fail) return down(FailureReason.reported_fail, s.last.message ?? 'the job reported a failure');
  if (s.run) {
    const running = Math.round(ageAt(s.run, now));
    if (running > d.graceMs) return down(FailureReason.missed, `a run started ${running} ms ago has not reported ok within graceMs (${d.graceMs} ms)`);
  } else if (lastAgo !== null) {
    if (lastAgo > deadline) return down(FailureReason.missed, `no report for ${lastAgo} ms: the deadline is intervalMs + graceMs = ${deadline} ms`);
  } else {
    const waited = Math.round(ageAt(s.since, now));
    if (waited > deadline) return down(FailureReason.missed, `no report in the ${waited} ms this node has kept the deadline (intervalMs + graceMs = ${deadline} ms)`);
    return down(FailureReason.inconclusive, `no report heard yet: the deadline has been kept here for ${waited} ms of intervalMs + graceMs = ${deadline} ms`);
  }
  return { ok: true, reason: null, message: null, latencyMs: 0, timings: { total: 0 }, push };
}

/** The state as a release carries it, at `now` on the holder's clock. */
export function carryOf(s: PushState, now: Instant): PushCarry {
  const age = (i: Instant) => Math.min(PUSH_MAX_AGE_MS, Math.round(ageAt(i, now)));
  return {
    sinceAgoMs: age(s.since),
    ...(s.last ? { last: { agoMs: age(s.last), signal: s.last.signal, message: s.last.message } } : {}),
    ...(s.run ? { runAgoMs: age(s.run) } : {}),
    ...(s.runMs !== null ? { runMs: s.runMs } : {}),
  };
}

/** The state a new owner continues from a carry read at `now` on its own clock. */
export function fromCarry(c: PushCarry, now: Instant): PushState {
  const ago = (ms: number): Instant => ({ at: now.at - ms, stall: now.stall });
  return {
    since: ago(c.sinceAgoMs),
    last: c.last ? { ...ago(c.last.agoMs), signal: c.last.signal, message: c.last.message } : null,
    run: c.runAgoMs !== undefined ? ago(c.runAgoMs) : null,
    runMs: c.runMs ?? null,
  };
}

/** A kept carry answered `elapsed` ms after it was made: every age grows by it (clamped). */
export function agedCarry(c: PushCarry, elapsed: number): PushCarry {
  const grow = (ms: number) => Math.min(PUSH_MAX_AGE_MS, ms + Math.max(0, elapsed));
  return {
    sinceAgoMs: grow(c.sinceAgoMs),
    ...(c.last ? { last: { ...c.last, agoMs: grow(c.last.agoMs) } } : {}),
    ...(c.runAgoMs !== undefined ? { runAgoMs: grow(c.runAgoMs) } : {}),
    ...(c.runMs !== undefined ? { runMs: c.runMs } : {}),
  };
}

/**
 * A carry for a check already kept here (a holder's late release after this node took the check
 * over, or a release from a runner of this node): the newer last report wins (with its run), and
 * the earlier `since` (the deadline travels: the holder may have waited longer than this node).
 */
export function withCarry(s: PushState, c: PushCarry, now: Instant): PushState {
  const carried = fromCarry(c, now);
  const since = carried.since.at < s.since.at ? carried.since : s.since;
  if (s.last && (!carried.last || s.last.at >= carried.last.at)) return { ...s, since };
  return { ...carried, since };
}
