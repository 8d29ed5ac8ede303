// Leader lease decisions. Pure: every input is an argument, times are monotonic milliseconds.
//
// The lease lives in one KV key. A candidate acquires with `create` (key absent) or, once the
// holder's lease has run out by its own clock, with `update(key, value, revisionItSaw)`: compare-
// and-set, so exactly one candidate wins a given revision. The revision that won is the **term**,
// a fencing token: nodes ignore assignment maps from older terms.
//
// Why no two leaders act at once:
//   - The leader counts its lease from the moment it *sent* its last successful write, and stops
//     acting as leader when `leaseMs` has passed since then without another successful renewal.
//   - A follower counts from the moment it *observed* that revision, which is later than the send,
//     and waits `leaseMs + takeoverMarginMs` (the margin absorbs clock-rate differences).
//   So the old leader's lease always ends before any follower may try to take over. Leadership is
//   decided only from the result of one's own write (NATS KV gives no read-your-writes).

import type { LeaseRecord } from './records';

export interface LeaseConfig {
  /** How long a leader may act after its last successful write was sent. */
  leaseMs: number;
  /** How often the leader renews (several renewals per lease). */
  renewMs: number;
  /** How often a follower reads the lease key. */
  pollMs: number;
  /** Extra wait before a follower takes over an expired lease. */
  takeoverMarginMs: number;
}

/** What a follower last saw of the key. */
export interface LeaseView {
  revision: number;
  /** null: the key is absent or deleted (a leader released it). */
  record: LeaseRecord | null;
  /** Monotonic time this revision was first seen. */
  observedAt: number;
}

/** Fold one read of the key into the view: observedAt moves only when the revision changes. */
export function observe(prev: LeaseView | null, read: { revision: number; record: LeaseRecord | null }, now: number): LeaseView {
  if (prev && prev.revision === read.revision && (prev.record === null) === (read.record === null)) return prev;
  return { revision: read.revision, record: read.record, observedAt: now };
}

export type FollowerMove = { type: 'wait' } | { type: 'create' } | { type: 'takeover'; revision: number };

/** What a follower should do now. */
export function followerMove(view: LeaseView | null, now: number, cfg: LeaseConfig): FollowerMove {
  if (!view) return { type: 'wait' };
  if (view.record === null) return { type: 'create' };
  if (now - view.observedAt >= cfg.leaseMs + cfg.takeoverMarginMs) return { type: 'takeover', revision: view.revision };
  return { type: 'wait' };
}

/** Milliseconds of lease the leader has left (≤ 0: it must stop acting as leader now). */
export function leaseLeft(lastWriteSentAt: number, now: number, cfg: LeaseConfig): number {
  return lastWriteSentAt + cfg.leaseMs - now;
}

/** Monotonic instant the leader's lease runs out (it acts as leader strictly before it). */
export function leaseEndsAt(lastWriteSentAt: number, cfg: LeaseConfig): number {
  return lastWriteSentAt + cfg.leaseMs;
}

/** Delay until the next renewal: every renewMs, never later than half the lease left. */
export function renewDelay(lastWriteSentAt: number, now: number, cfg: LeaseConfig): number {
  const left = leaseLeft(lastWriteSentAt, now, cfg);
  return Math.max(0, Math.min(lastWriteSentAt + cfg.renewMs - now, left / 2));
}

export function validateLeaseConfig(cfg: LeaseConfig): string | null {
  if (cfg.renewMs * 2 > cfg.leaseMs) return 'renew period must be at most half the lease';
  if (cfg.pollMs > cfg.leaseMs) return 'follower poll period must be shorter than the lease';
  return null;
}
