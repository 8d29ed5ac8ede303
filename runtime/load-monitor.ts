// The node's measure of its own lag (protocol/overload.ts says what is decided from it): a timer
// re-armed every LAG_SAMPLE_MS on the injected clock, whose lateness at each firing (by the
// monotonic clock) is how long the event loop could not run. Two figures come out of it:
//   stall — the lateness summed since start (plus the lateness of the firing still to come, read
//           at any instant): the difference between two readings is how long the loop stalled
//           between them. The check runner reads it when a probe starts and when it ends
//           (actors/runner-directives.ts), and judges the outcome with it;
//   lag   — the worst lateness of each LAG_WINDOW_MS window, of the sampler's own firings and of
//           the timer queue's probe starts (noteLateness: the scheduling delay the runners already
//           measure for lookout_schedule_lateness_seconds), stepped through the overload state
//           with hysteresis: `node_overloaded` / `node_overload_cleared`, lookout_overloaded, and
//           the heartbeat's `overloaded` and `lagMs` (actors/membership.ts).
// A pause (the process stopped for seconds) is the pause detector's business (runtime/
// pause-detector.ts, with ticks of its own a quarter of the pause threshold apart, too coarse to
// see lag); a pause shows here as one very late firing.
//
// Beside these, the default metrics' lookout_nodejs_eventloop_lag_* (prom-client's native
// monitorEventLoopDelay) stay as they were: they cannot be read per probe nor driven by a test clock.

import { clearState, LAG_SAMPLE_MS, LAG_WINDOW_MS, LEAVE_FRACTION, overloadStep, type OverloadChange, type OverloadConfig, type OverloadState } from '../protocol/overload';
import type { Clock, TimerHandle } from './clock';
import type { Logger } from './logger';

/** What the monitor reports into (runtime/metrics.ts implements it). */
export interface LoadGauges {
  /** Each firing's lateness, seconds. */
  observeLag(seconds: number): void;
  /** The worst lag of the last window, seconds, and whether the node is overloaded. */
  setLoad(lagSeconds: number, overloaded: boolean): void;
}

/** What the heartbeat and cluster.status carry. */
export interface LoadStatus {
  overloaded: boolean;
  /** Worst lag of the last window (ms, whole). */
  lagMs: number;
}

/** A monitor that measures nothing (unit tests of the runner, callers without a node). */
export const NO_LOAD = { stallMs: () => 0, noteLateness: () => {}, status: (): LoadStatus => ({ overloaded: false, lagMs: 0 }) };

/** The part of the monitor a check runner reads. */
export type LoadPort = Pick<LoadMonitor, 'stallMs' | 'noteLateness' | 'status'>;

export class LoadMonitor {
  private timer: TimerHandle | null = null;
  /** Monotonic instant the armed firing is due. */
  private due = 0;
  private stalled = 0;
  private windowStart = 0;
  private windowMax = 0;
  private state: OverloadState = clearState();

  constructor(
    private readonly clock: Clock,
    private readonly cfg: OverloadConfig,
    private readonly gauges: LoadGauges,
    private readonly log: Logger | null,
    private readonly sampleMs = LAG_SAMPLE_MS,
    private readonly windowMs = LAG_WINDOW_MS,
  ) {}

  start(): void {
    if (this.timer !== null) return;
    this.windowStart = this.clock.monotonic();
    this.arm();
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Total stall (ms) up to now: what has been measured, plus how late the coming firing already is. */
  stallMs(): number {
    if (this.timer === null) return this.stalled;
    return this.stalled + Math.max(0, this.clock.monotonic() - this.due);
  }

  /** A lateness measured elsewhere (the timer queue handed a probe out this late): counts towards the window's lag. */
  noteLateness(ms: number): void {
    if (ms > this.windowMax) this.windowMax = ms;
  }

  status(): LoadStatus {
    return { overloaded: this.state.overloaded, lagMs: Math.round(this.state.lagMs) };
  }

  private arm(): void {
    this.due = this.clock.monotonic() + this.sampleMs;
    this.timer = this.clock.setTimeout(() => this.fire(), this.sampleMs);
  }

  private fire(): void {
    const now = this.clock.monotonic();
    const late = Math.max(0, now - this.due);
    this.stalled += late;
    if (late > this.windowMax) this.windowMax = late;
    this.gauges.observeLag(late / 1000);
    if (now - this.windowStart >= this.windowMs) this.closeWindow(now);
    this.arm();
  }

  private closeWindow(now: number): void {
    const { state, change } = overloadStep(this.state, this.windowMax, this.windowStart, now, this.cfg);
    this.state = state;
    this.windowStart = now;
    this.windowMax = 0;
    this.gauges.setLoad(state.lagMs / 1000, state.overloaded);
    if (change) this.report(change);
  }

  private report(c: NonNullable<OverloadChange>): void {
    const fields = { lagMs: Math.round(c.lagMs), forMs: Math.round(c.forMs), thresholdMs: this.cfg.lagMs, holdMs: this.cfg.holdMs };
    if (c.to === 'overloaded') {
      this.log?.warn({ event: 'node_overloaded', ...fields }, `overloaded: the event loop lagged ${fields.lagMs} ms (at or above ${this.cfg.lagMs} ms for ${fields.forMs} ms); timeouts it causes are published as inconclusive, and the leader gives this node fewer shards`);
    } else {
      this.log?.info({ event: 'node_overload_cleared', ...fields }, `no longer overloaded: the event loop lag stayed below ${LEAVE_FRACTION * this.cfg.lagMs} ms for ${fields.forMs} ms`);
    }
  }
}
