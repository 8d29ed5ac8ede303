// Pauses: when a node must assume the cluster moved on without it. Pure: times are monotonic
// milliseconds passed in.
//
// A node that was stopped (SIGSTOP, a VM freeze, a long GC) or cut off from NATS for about as
// long as the failure detector's dead threshold may have been declared dead meanwhile, and its
// shards given to other nodes by a map it has not seen. On waking it must not probe (or publish)
// before it has learned the current map; pause-guard.ts holds the node's timer queue until then.
//
// What counts as a pause:
//   - a gap between two consecutive ticks of a monotonic clock (runtime/pause-detector.ts ticks
//     often; a timer that fired far too late is the same evidence) longer than the threshold;
//   - a NATS outage (disconnect → reconnect) longer than the threshold. A connection found dead by
//     unanswered pings was dead before the disconnect was reported: up to the stale-detection time
//     earlier, which is added to the outage.
//
// The threshold is PAUSE_FRACTION × (deadAfterMs − 2 × heartbeatMs): a peer declares us dead after
// deadAfterMs of silence, and the silence starts up to one heartbeat before a pause (the last
// heartbeat sent) while a heartbeat may take another period to arrive. Taking 0.8 of what is left
// flags every pause that could have got us declared dead, with a margin for timer lateness, while a
// busy event loop's ordinary lateness (milliseconds to a few hundred) stays well below it.

/** Fraction of (deadAfterMs − 2 × heartbeatMs) beyond which a gap is a pause. */
export const PAUSE_FRACTION = 0.8;

/** The shortest threshold, whatever the timing settings: below it, ordinary event-loop lag would count. */
export const PAUSE_MIN_THRESHOLD_MS = 50;

/** Gap beyond which the node may have been declared dead without knowing it. */
export function pauseThresholdMs(deadAfterMs: number, heartbeatMs: number): number {
  return Math.max(PAUSE_MIN_THRESHOLD_MS, Math.floor(PAUSE_FRACTION * (deadAfterMs - 2 * heartbeatMs)));
}

/**
 * How often the pause detector ticks: a quarter of the threshold, so a pause is measured to within
 * a quarter of it, at most once a second and at least every 10 ms.
 */
export function pauseTickMs(thresholdMs: number): number {
  return Math.min(1_000, Math.max(10, Math.floor(thresholdMs / 4)));
}

/** The pause between two consecutive ticks (`prev`, `now`, `tickMs` apart when nothing stalls), or 0. */
export function pauseBetweenTicks(prev: number, now: number, tickMs: number, thresholdMs: number): number {
  const gap = now - prev - tickMs;
  return gap > thresholdMs ? gap : 0;
}

/** A timer meant to fire at `dueAt` fired at `firedAt`: the pause it reveals, or 0. */
export function pauseFromLateTimer(dueAt: number, firedAt: number, thresholdMs: number): number {
  const late = firedAt - dueAt;
  return late > thresholdMs ? late : 0;
}

/** How a NATS outage ended, for outageMs. */
export interface Outage {
  /** Monotonic time the disconnect was reported. */
  downAt: number;
  /** Monotonic time the connection was back. */
  upAt: number;
  /** The connection was found dead by unanswered pings (it stopped answering before downAt). */
  stale: boolean;
}

/**
 * How long the node was cut off: from the disconnect (or, for a stale connection, up to
 * `staleDetectMs` before it) to the reconnect.
 */
export function outageMs(o: Outage, staleDetectMs: number): number {
  return Math.max(0, o.upAt - o.downAt) + (o.stale ? staleDetectMs : 0);
}

/** The pause an outage amounts to (its length if beyond the threshold), or 0. */
export function pauseFromOutage(o: Outage, staleDetectMs: number, thresholdMs: number): number {
  const ms = outageMs(o, staleDetectMs);
  return ms > thresholdMs ? ms : 0;
}

/** Where the evidence of a pause came from (log field `source`). */
export const PauseSource = { ticks: 'ticks', timer: 'timer', nats: 'nats' } as const;
export type PauseSource = (typeof PauseSource)[keyof typeof PauseSource];

/** How the pause guard confirms ownership after a pause (actors/pause-guard.ts). */
export interface ConfirmTimings {
  /** Wait between attempts when NATS or the map store does not answer. */
  retryMs: number;
  /** One attempt's step (a flush, a map re-read) is given up after this long. */
  stepTimeoutMs: number;
  /**
   * Hold at most this long, then resume on the last map unconfirmed: checks are not left unprobed
   * because NATS stays unreachable after a pause (AP for checking); probes of shards moved meanwhile
   * are counted as duplicates once the new map arrives.
   */
  confirmMaxMs: number;
}

/** Confirmation timings from the failure detector's: retry every heartbeat, give up on a step after a dead threshold, hold at most three. */
export function confirmTimings(deadAfterMs: number, heartbeatMs: number): ConfirmTimings {
  return { retryMs: heartbeatMs, stepTimeoutMs: deadAfterMs, confirmMaxMs: 3 * deadAfterMs };
}
