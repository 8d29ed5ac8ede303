// Overload: when the node's own lag, not the target, decided a probe, and when a node says it is
// overloaded. Pure: lag figures and monotonic times come in as arguments (runtime/load-monitor.ts
// measures them), decisions go out as values.
//
// The evidence is the node's event-loop **stall**: a timer re-armed every LAG_SAMPLE_MS fires late
// by however long the loop could not run (busy with other work, or waiting for a CPU it shares);
// the lateness of each firing, summed, is the stall. While the loop stalls, an answer that reached
// the socket waits unread — and a probe's deadline, a timer that comes due during the stall, runs
// first when the loop wakes (libuv runs due timers before it polls for I/O). So a node whose loop
// stalls for most of a probe's timeout reports `timeout` about targets that answered in time.
//
// A probe is **inconclusive** (judgeOutcome) when its failure could be the node's own stall:
//   timeout — the loop stalled for more than INCONCLUSIVE_STALL_FRACTION of timeoutMs while the
//             probe ran: the target had less than 3/4 of its timeout of the node's attention;
//   latency — the probe passed everything but maxLatencyMs, the stall was more than that fraction
//             of the bound, and without the stall it would have been within the bound.
// Time the probe's body work spent waiting for the node's body worker (behind other checks' jobs,
// or for a worker to start: the outcome's waitedMs, checks/body-worker.ts) is lost to the node the
// same way and counts as stall here.
// Every other failure (refused, reset, dns, status, body, …) is the target's answer and stands, and
// so does a timeout on a node that was merely a bit busy: a target that is really slow on a node that
// lost less than a quarter of the timeout goes down as it always did. What the rule cannot tell
// apart — a target that needs more than 3/4 of its timeout, probed from a node that lost more than
// 1/4 — is reported inconclusive, not down: the node does not know, and says so. An inconclusive
// result carries the verdict unchanged and does not enter the history (check-messages.ts), so a
// starved node never flips a verdict; the leader moves shards off a node that stays overloaded
// (overload-relief.ts), and the nodes that take them over decide.
//
// A node is **overloaded** (overloadStep) when the worst lag of each window (the largest lateness
// of the sampler, or of the timer queue's probes) stays at or above LOOKOUT_OVERLOAD_LAG_MS for
// LOOKOUT_OVERLOAD_HOLD_MS; it is clear again when the worst lag of each window stays below
// LEAVE_FRACTION of that for the same hold (hysteresis in level and in time, so it does not flap).
//
//   clear      → overloaded   every window ≥ lagMs for holdMs
//   overloaded → clear        every window < LEAVE_FRACTION × lagMs for holdMs
//
// A window that breaks the run starts the count again.

import { FailureReason, type ProbeOutcome } from '../checks/outcome';

/** How often the node's lag sampler fires (ms): a stall shorter than this may go unseen. */
export const LAG_SAMPLE_MS = 20;

/** The sampler's window: the worst lag of each is what the overload state reads. */
export const LAG_WINDOW_MS = 1_000;

/** A timeout is inconclusive when the node stalled for more than this fraction of timeoutMs while the probe ran. */
export const INCONCLUSIVE_STALL_FRACTION = 0.25;

/** An overloaded node is clear again once every window's worst lag is below this fraction of the threshold. */
export const LEAVE_FRACTION = 0.5;

/** The bounds a probe ran under (from its spec). */
export interface ProbeBounds {
  timeoutMs: number;
  maxLatencyMs?: number;
}

const round = (ms: number) => Math.round(ms);

/**
 * The outcome as the node publishes it: `o` itself, or — when its failure could be the node's own
 * stall of `stallMs` (its event loop) plus `o.waitedMs` (its body worker) while it ran — an
 * inconclusive outcome that keeps the timings and says why.
 */
export function judgeOutcome(o: ProbeOutcome, stallMs: number, b: ProbeBounds): ProbeOutcome {
  const lost = stallMs + (o.waitedMs ?? 0);
  if (o.ok || !(lost > 0)) return o;
  if (o.reason === FailureReason.timeout) {
    if (lost <= INCONCLUSIVE_STALL_FRACTION * b.timeoutMs) return o;
    return inconclusive(o, lost, `node overloaded: ${lostWords(stallMs, o.waitedMs)} of this probe's ${round(o.latencyMs)} ms (timeout ${b.timeoutMs} ms); whether the target answered in time is unknown`);
  }
  if (o.reason === FailureReason.latency && b.maxLatencyMs !== undefined) {
    if (lost <= INCONCLUSIVE_STALL_FRACTION * b.maxLatencyMs || o.latencyMs - lost > b.maxLatencyMs) return o;
    return inconclusive(o, lost, `node overloaded: took ${round(o.latencyMs)} ms of which ${lostWords(stallMs, o.waitedMs)} (bound ${b.maxLatencyMs} ms); the target's own latency is unknown`);
  }
  return o;
}

/** "its event loop stalled 300 ms", "it waited 300 ms for its body worker", or both. */
function lostWords(stallMs: number, waitedMs: number | undefined): string {
  const stalled = stallMs > 0 ? `its event loop stalled ${round(stallMs)} ms` : '';
  if (!waitedMs) return stalled;
  const waited = `${stalled ? 'and ' : ''}it waited ${round(waitedMs)} ms for its body worker`;
  return stalled ? `${stalled} ${waited}` : waited;
}

function inconclusive(o: ProbeOutcome, stallMs: number, message: string): ProbeOutcome {
  return { ...o, ok: false, reason: FailureReason.inconclusive, message, stallMs: round(stallMs) };
}

/** True for an outcome that says nothing about the target (it leaves the verdict as it was). */
export function isInconclusive(o: Pick<ProbeOutcome, 'reason'>): boolean {
  return o.reason === FailureReason.inconclusive;
}

/** LOOKOUT_OVERLOAD_LAG_MS and LOOKOUT_OVERLOAD_HOLD_MS. */
export interface OverloadConfig {
  lagMs: number;
  holdMs: number;
}

export interface OverloadState {
  overloaded: boolean;
  /** Start (monotonic) of the current run of windows that point the other way; null: none. */
  turningSince: number | null;
  /** The worst lag of the last window (ms), for the heartbeat and the gauge. */
  lagMs: number;
}

export const clearState = (): OverloadState => ({ overloaded: false, turningSince: null, lagMs: 0 });

export type OverloadChange = { to: 'overloaded' | 'clear'; lagMs: number; forMs: number } | null;

/**
 * One window ended at `now` (monotonic) with worst lag `windowLagMs`: the next state, and the
 * change it makes (null: none). `windowStart` is when that window began (a run counts from there).
 */
export function overloadStep(s: OverloadState, windowLagMs: number, windowStart: number, now: number, cfg: OverloadConfig): { state: OverloadState; change: OverloadChange } {
  const turning = s.overloaded ? windowLagMs < LEAVE_FRACTION * cfg.lagMs : windowLagMs >= cfg.lagMs;
  if (!turning) return { state: { overloaded: s.overloaded, turningSince: null, lagMs: windowLagMs }, change: null };
  const since = s.turningSince ?? windowStart;
  if (now - since < cfg.holdMs) return { state: { overloaded: s.overloaded, turningSince: since, lagMs: windowLagMs }, change: null };
  const overloaded = !s.overloaded;
  return { state: { overloaded, turningSince: null, lagMs: windowLagMs }, change: { to: overloaded ? 'overloaded' : 'clear', lagMs: windowLagMs, forMs: now - since } };
}
