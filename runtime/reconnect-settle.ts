// After a NATS reconnect the node restarts every held shard's spec watch (ShardSpecs.restartAll:
// an ordered consumer misses what was published while the link was down). Doing it at once on
// every reconnect fed a storm: on a host where the server answered PINGs late, links went stale
// every ~3.5 s, and each reconnect made every node create its ~256 tail consumers again, which
// loaded the server further (10 nodes on 2 cores, BENCHMARKS.md §16). So the restart waits until
// the link has stayed up SETTLE_MS; a disconnect meanwhile puts it off again, but never past
// MAX_WAIT_MS after the first reconnect it was owed for (then it runs as soon as the link is up).
// One restart covers every reconnect before it. A spec changed while the link was down reaches
// its runner up to SETTLE_MS later than it would have (MAX_WAIT_MS while the link keeps dropping).

/** The link must stay up this long after a reconnect before the watches are restarted. */
export const RECONNECT_SETTLE_MS = 5_000;
/** A restart owed is not put off past this, counted from the first reconnect it is owed for. */
export const RECONNECT_MAX_WAIT_MS = 30_000;

export class ReconnectSettle {
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** performance.now() of the first reconnect not yet covered by a restart (null: none owed). */
  private owedSince: number | null = null;
  private up = true;

  constructor(
    private readonly restart: () => void,
    readonly settleMs = RECONNECT_SETTLE_MS,
    readonly maxWaitMs = RECONNECT_MAX_WAIT_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether a restart is owed (a reconnect it has not run for yet). */
  get owed(): boolean {
    return this.owedSince !== null;
  }

  /** The link went down: an owed restart waits for the link to be up again. */
  disconnected(): void {
    this.up = false;
    this.clear();
  }

  /** The link is up again after being down: a restart is owed. */
  reconnected(): void {
    this.up = true;
    this.owedSince ??= this.now();
    this.clear();
    const waited = this.now() - this.owedSince;
    const wait = Math.max(0, Math.min(this.settleMs, this.maxWaitMs - waited));
    this.timer = setTimeout(() => this.fire(), wait);
  }

  /** Forget an owed restart (the node stops). */
  stop(): void {
    this.clear();
    this.owedSince = null;
  }

  private fire(): void {
    this.timer = null;
    if (!this.up || this.owedSince === null) return;
    this.owedSince = null;
    this.restart();
  }

  private clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
