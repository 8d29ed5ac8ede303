// A token bucket for per-key rate limits (push reports: runtime/push-registry.ts on the owner,
// runtime/push-http.ts on the node a job calls). Pure: the caller keeps the bucket and passes a
// monotonic now. Burst is twice the rate, so a job may send a second's worth twice in a burst.

export interface TokenBucket {
  /** Tokens left (fractional while refilling). */
  tokens: number;
  /** When it was last refilled (monotonic ms). */
  filledAt: number;
}

/** The burst of a bucket refilled at `perSecond`. */
export function burstOf(perSecond: number): number {
  return 2 * perSecond;
}

/** A full bucket at `now`. */
export function fullBucket(perSecond: number, now: number): TokenBucket {
  return { tokens: burstOf(perSecond), filledAt: now };
}

/** Refill `b` at `perSecond` up to its burst, then take one token: false (nothing taken) when it is empty. */
export function takeToken(b: TokenBucket, perSecond: number, now: number): boolean {
  b.tokens = Math.min(burstOf(perSecond), b.tokens + (Math.max(0, now - b.filledAt) * perSecond) / 1000);
  b.filledAt = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}
