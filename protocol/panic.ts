// Panic guard (issue 13 §4): when many checks go down at once, the likelier story is a failure on
// the checkers' side (their network, their DNS, a bad deploy of the targets' shared front) than
// half the fleet failing in the same minute — and a flood of `down`s tells every load balancer to
// drain everything at once. Envoy's panic threshold and Eureka's self-preservation answer this by
// distrusting their own health data past a fraction; Lookout holds the transitions to down for a
// bounded time.
//
// Every node hears every status message (`<prefix>.status.>`), so each decides on its own from the
// same stream (no wall clock, no leader needed; two nodes may enter a few messages apart):
//
//   downs announced within the last `windowMs` ≥ max(minDowns, ⌈fraction × checks⌉)
//     → panic: for `holdMs`, a node announces no new `down` of its own (the failure is published as
//       a result with the verdict as it was, `held: "panic"`); then it is released and the window
//       starts empty, ignoring downs for another `windowMs` (the held ones arrive then: they must
//       not start a second panic — the hold is bounded, once).
//
// The trade-off, explicit: during a real mass outage, the checks not yet down when the panic began
// are announced `holdMs` late. `fraction` 0 turns the guard off. Pure: times are monotonic ms
// passed in.

export interface PanicConfig {
  /** Fraction of all checks whose downs within the window start a panic; 0: off. */
  fraction: number;
  windowMs: number;
  holdMs: number;
  /** At least this many downs, whatever the fraction (a small fleet's two downs are no panic). */
  minDowns: number;
}

export type PanicChange = { type: 'entered'; downs: number; checks: number; threshold: number } | { type: 'released'; heldMs: number };

export type PanicPhase = { type: 'watching' } | { type: 'panic'; since: number } | { type: 'cooling'; until: number };

/** How many downs within the window start a panic, for `checks` checks (Infinity: off). */
export function panicThreshold(cfg: PanicConfig, checks: number): number {
  if (cfg.fraction <= 0) return Infinity;
  return Math.max(cfg.minDowns, Math.ceil(cfg.fraction * checks));
}

export class PanicWatch {
  /** Monotonic instants of the downs in the window, oldest first. */
  private downs: number[] = [];
  private phase: PanicPhase = { type: 'watching' };

  constructor(private readonly cfg: PanicConfig) {}

  /** A status message to down was heard at `now`; `checks`: how many checks the fleet has. */
  noteDown(now: number, checks: number): PanicChange | null {
    const released = this.tick(now);
    if (this.phase.type !== 'watching') return released;
    this.downs.push(now);
    this.forget(now);
    const threshold = panicThreshold(this.cfg, checks);
    if (this.downs.length < threshold) return released;
    this.phase = { type: 'panic', since: now };
    const downs = this.downs.length;
    this.downs = [];
    return { type: 'entered', downs, checks, threshold };
  }

  /** Time passes: a panic past its hold is released, a cooling-off past its end watches again. */
  tick(now: number): PanicChange | null {
    const p = this.phase;
    if (p.type === 'panic' && now - p.since >= this.cfg.holdMs) {
      this.phase = { type: 'cooling', until: now + this.cfg.windowMs };
      return { type: 'released', heldMs: now - p.since };
    }
    if (p.type === 'cooling' && now >= p.until) this.phase = { type: 'watching' };
    return null;
  }

  /** True while new downs are held. */
  panicking(): boolean {
    return this.phase.type === 'panic';
  }

  state(): PanicPhase {
    return this.phase;
  }

  /** Nothing to remember at `now`: watching, and no down within the window. */
  idle(now: number): boolean {
    if (this.phase.type !== 'watching') return false;
    this.forget(now);
    return this.downs.length === 0;
  }

  private forget(now: number): void {
    let i = 0;
    while (i < this.downs.length && now - this.downs[i]! > this.cfg.windowMs) i++;
    if (i > 0) this.downs.splice(0, i);
  }
}
