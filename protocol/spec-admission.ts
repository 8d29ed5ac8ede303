// Admission control for the spec API: the API's work per unit time and its backlog are bounded, so
// a flood of requests (valid or not) can never starve the probe scheduler or the lease renewals.
// Pure: time comes in as an argument (monotonic ms).
//
//   - A token bucket (ratePerSec, burst) bounds the work admitted per second. A request costs one
//     token per started TOKEN_BYTES of payload (`costOf`), so big payloads — whose decoding is the
//     work — are admitted at a proportionally lower rate.
//   - A bounded queue (maxPending) holds admitted requests until the API's pump takes them, a few
//     per turn of the event loop (see actors/spec-api.ts), so timers and I/O run in between.
//   - Anything beyond either bound is shed at once: the sender gets `unavailable` with a
//     `retryAfterMs` hint (when the bucket will have a token for it), counted by the caller.

export interface AdmissionConfig {
  /** Requests admitted per second, sustained. */
  ratePerSec: number;
  /** Requests admitted at once after a quiet period. */
  burst: number;
  /** Admitted requests waiting for the pump (beyond it: shed). */
  maxPending: number;
}

export type Admission = { type: 'admit' } | { type: 'shed'; why: 'rate' | 'backlog'; retryAfterMs: number };

/** Payload bytes one token pays for. */
export const TOKEN_BYTES = 4096;

/** Tokens a request of `bytes` costs: one per started TOKEN_BYTES (at least one). */
export function costOf(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / TOKEN_BYTES));
}

export class AdmissionGate {
  private tokens: number;
  private last: number;
  private pending = 0;

  constructor(
    private readonly cfg: AdmissionConfig,
    now: number,
  ) {
    if (!(cfg.ratePerSec > 0 && cfg.burst >= 1 && cfg.maxPending >= 1)) throw new Error('admission: need ratePerSec > 0, burst >= 1, maxPending >= 1');
    this.tokens = cfg.burst;
    this.last = now;
  }

  /** One request of `cost` tokens arrives: admit it (it now counts as pending) or shed it. */
  offer(now: number, cost = 1): Admission {
    this.refill(now);
    if (this.pending >= this.cfg.maxPending) {
      return { type: 'shed', why: 'backlog', retryAfterMs: this.retryAfter(this.pending - this.cfg.maxPending + 1) };
    }
    const need = Math.min(cost, this.cfg.burst); // a request bigger than the burst is still admissible
    if (this.tokens < need) return { type: 'shed', why: 'rate', retryAfterMs: this.retryAfter(need - this.tokens) };
    this.tokens -= need;
    this.pending++;
    return { type: 'admit' };
  }

  /** An admitted request left the queue (answered or failed). */
  done(): void {
    if (this.pending > 0) this.pending--;
  }

  get backlog(): number {
    return this.pending;
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.cfg.burst, this.tokens + (elapsed * this.cfg.ratePerSec) / 1000);
  }

  /** Milliseconds until `n` more tokens have accrued (at least 1 ms). */
  private retryAfter(n: number): number {
    return Math.max(1, Math.ceil((n * 1000) / this.cfg.ratePerSec));
  }
}

/**
 * Rejections counted per error code between two summaries: each rejection is a debug line, and
 * an operator gets one info line per period with the counts (a flood cannot flood the log).
 */
export class RejectionTally {
  private counts = new Map<string, number>();

  add(code: string): void {
    this.counts.set(code, (this.counts.get(code) ?? 0) + 1);
  }

  /** The counts since the last call (null when there were none), and start over. */
  take(): Record<string, number> | null {
    if (this.counts.size === 0) return null;
    const out = Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
    this.counts = new Map();
    return out;
  }
}
