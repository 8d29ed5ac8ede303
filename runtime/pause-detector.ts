// The pause detector: notices that this process was not running (SIGSTOP, a VM freeze, a stalled
// event loop) or not connected to NATS for longer than the pause threshold (protocol/pause.ts),
// and reports it once per pause. Evidence comes from three places:
//   ticks — the node's lag sampler (runtime/load-monitor.ts: a timer re-armed every 20 ms on the
//           injected clock) fired this late by the monotonic clock: how long the process did not
//           run. One periodic timer serves both: the sampler's lateness is the event-loop lag, and
//           past the pause threshold it is a pause (tick);
//   timer — the node's timer queue saw its own timer fire far too late (TimerQueue.watchLateness);
//           on waking this can come before the next tick, so the queue holds itself first;
//   nats  — the connection was down (disconnect → reconnect) for longer than the threshold.
// What to do about a pause is the pause guard's business (actors/pause-guard.ts).

import { PauseSource, pauseFromLateTimer, pauseFromOutage } from '../protocol/pause';
import type { Clock } from './clock';

export interface PauseReport {
  /** How long the node was away (ms, monotonic). */
  gapMs: number;
  source: PauseSource;
}

export class PauseDetector {
  /** Monotonic instant of the last report from elsewhere (a late tick spanning it is the same pause). */
  private reportedAt = -Infinity;
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
  ) {}

  /**
   * The lag sampler's periodic timer fired `lateMs` late (monotonic): past the threshold, the
   * process did not run that long — unless another component reported this pause already.
   */
  tick(lateMs: number): void {
    const now = this.clock.monotonic();
    const gapMs = pauseFromLateTimer(now - lateMs, now, this.thresholdMs);
    if (gapMs > 0 && this.reportedAt < now - lateMs) this.onPause({ gapMs, source: PauseSource.ticks });
  }

  /** Another component saw a pause itself (the timer queue's late timer). */
  report(gapMs: number, source: PauseSource): void {
    // The late tick that may follow measures the same pause: it is not reported again.
    this.reportedAt = this.clock.monotonic();
    this.onPause({ gapMs, source });
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

  /** The NATS connection is back: an outage beyond the threshold is a pause. */
  linkUp(): void {
    const d = this.down;
    this.down = null;
    this.staleSeen = false;
    if (!d) return;
    const gapMs = pauseFromOutage({ downAt: d.at, upAt: this.clock.monotonic(), stale: d.stale }, this.staleDetectMs, this.thresholdMs);
    if (gapMs > 0) this.onPause({ gapMs, source: PauseSource.nats });
  }
}
