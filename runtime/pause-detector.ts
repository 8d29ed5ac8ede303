// The pause detector: notices that this process was not running (SIGSTOP, a VM freeze, a stalled
// event loop) or not connected to NATS for longer than the pause threshold (protocol/pause.ts),
// and reports it once per pause. Evidence comes from three places:
//   ticks — a timer re-armed every tickMs on the injected clock; a gap between consecutive ticks,
//           by the monotonic clock, is how long the process did not run;
//   timer — the node's timer queue saw its own timer fire far too late (TimerQueue.watchLateness);
//           on waking this can come before the next tick, so the queue holds itself first;
//   nats  — the connection was down (disconnect → reconnect) for longer than the threshold.
// What to do about a pause is the pause guard's business (actors/pause-guard.ts).

import { PauseSource, pauseBetweenTicks, pauseFromOutage, pauseTickMs } from '../protocol/pause';
import type { Clock, TimerHandle } from './clock';

export interface PauseReport {
  /** How long the node was away (ms, monotonic). */
  gapMs: number;
  source: PauseSource;
}

export class PauseDetector {
  readonly tickMs: number;
  private timer: TimerHandle | null = null;
  private lastTick = 0;
  private down: { at: number; stale: boolean } | null = null;
  private staleSeen = false;

  /**
   * `staleDetectMs`: how long a dead connection can go unnoticed before nats.js reports it stale
   * (ping interval × (maxPingOut + 1)).
   */
  constructor(
    private readonly clock: Clock,
    readonly thresholdMs: number,
    private readonly staleDetectMs: number,
    private readonly onPause: (r: PauseReport) => void,
  ) {
    this.tickMs = pauseTickMs(thresholdMs);
  }

  start(): void {
    if (this.timer !== null) return;
    this.lastTick = this.clock.monotonic();
    this.timer = this.clock.setTimeout(() => this.tick(), this.tickMs);
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Another component saw a pause itself (the timer queue's late timer). */
  report(gapMs: number, source: PauseSource): void {
    // The tick that comes next measures the same pause: start its count afresh.
    this.lastTick = this.clock.monotonic();
    this.onPause({ gapMs, source });
  }

  /**
   * The detector's own tick is overdue past the threshold: the process was stopped and has not
   * noticed yet (on waking, I/O callbacks such as finished probes can run before the timers do).
   */
  overdue(): boolean {
    return this.timer !== null && pauseBetweenTicks(this.lastTick, this.clock.monotonic(), this.tickMs, this.thresholdMs) > 0;
  }

  /**
   * Ask now whether the process was stopped, rather than at the next tick: on waking, the I/O that
   * queued up meanwhile (a map that moved this node's shards away) is handled before any timer
   * runs. An overdue tick is taken at once (the pause is reported); true if it was.
   */
  noticeNow(): boolean {
    if (!this.overdue()) return false;
    this.clock.clearTimeout(this.timer!);
    this.tick();
    return true;
  }

  /** The NATS client found the connection stale (unanswered pings); a disconnect follows. */
  linkStale(): void {
    this.staleSeen = true;
  }

  /** The NATS connection went down. */
  linkDown(): void {
    if (this.down) return;
    this.down = { at: this.clock.monotonic(), stale: this.staleSeen };
    this.staleSeen = false;
  }

  /**
   * The link has been down past the threshold and is still down: the others may hold this node dead
   * and run its checks. What it publishes now would reach them late (a reconnect attempt that hangs
   * on a frozen link sends it when it succeeds) and could share a seq with the taker's results.
   */
  cutOff(): boolean {
    const d = this.down;
    return d !== null && pauseFromOutage({ downAt: d.at, upAt: this.clock.monotonic(), stale: d.stale }, this.staleDetectMs, this.thresholdMs) > 0;
  }

  /** The NATS connection is back: an outage beyond the threshold is a pause. */
  linkUp(): void {
    const d = this.down;
    this.down = null;
    this.staleSeen = false;
    if (!d) return;
    const gapMs = pauseFromOutage({ downAt: d.at, upAt: this.clock.monotonic(), stale: d.stale }, this.staleDetectMs, this.thresholdMs);
    if (gapMs > 0) this.onPause({ gapMs, source: PauseSource.nats });
  }

  private tick(): void {
    const now = this.clock.monotonic();
    const gapMs = pauseBetweenTicks(this.lastTick, now, this.tickMs, this.thresholdMs);
    this.lastTick = now;
    this.timer = this.clock.setTimeout(() => this.tick(), this.tickMs);
    if (gapMs > 0) this.onPause({ gapMs, source: PauseSource.ticks });
  }
}
