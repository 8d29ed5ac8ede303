// Paces catch-up probes node-wide. When a node takes over checks that went unprobed (a failover),
// each may get one early probe instead of waiting for its next slot; the pacer hands those out at
// most `perSecond` apart so a failover of thousands of checks is a steady trickle, not a burst.
// Pure: time comes in as an argument.

export class CatchUpPacer {
  private nextFree = -Infinity;

  constructor(readonly perSecond: number) {}

  /** The earliest instant at or after `now` with a free place (not reserved). */
  peek(now: number): number {
    return Math.max(now, this.nextFree);
  }

  /** Reserve the place returned by peek(now). */
  take(now: number): number {
    const at = this.peek(now);
    this.nextFree = at + 1000 / this.perSecond;
    return at;
  }
}
