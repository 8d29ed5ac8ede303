// The deadlines of the push checks this node owns (checks/push-deadline.ts has the rules): every
// node subscribes once to `<prefix>.push.>` and hands each report here; only the checks this node
// runs as owner are kept (a runner owns them while it schedules them: actors/runner-push.ts), so
// memory is bounded by what the node owns, and a report for any other id costs one map lookup.
//
// A report's work is bounded before it is read: its size (LOOKOUT_PUSH_MAX_BYTES), then ownership,
// then a token bucket per owned check (LOOKOUT_PUSH_PER_SECOND, a burst of twice that), then the
// parse (checks/push-report.ts) and the token, compared in constant time. Each outcome is counted.
// Times are this node's monotonic clock, less its event-loop stall (load-monitor.ts) and the time
// its NATS link was down (link-outage.ts): neither is the job's lateness.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { ProbeOutcome } from '../checks/outcome';
import type { PushEvaluator } from '../checks/probe';
import { carryOf, evaluatePush, freshPush, fromCarry, noteReport, withCarry, type Instant, type PushCarry, type PushState } from '../checks/push-deadline';
import { parsePushReport } from '../checks/push-report';
import type { NormalizedSpec } from '../checks/spec';
import { FailureReason } from '../checks/outcome';
import { fullBucket, takeToken, type TokenBucket } from '../protocol/token-bucket';
import type { Clock } from './clock';

export const PushReportOutcome = {
  accepted: 'accepted',
  not_owned: 'not_owned',
  rate_limited: 'rate_limited',
  too_large: 'too_large',
  invalid: 'invalid',
  bad_token: 'bad_token',
} as const;
export type PushReportOutcome = (typeof PushReportOutcome)[keyof typeof PushReportOutcome];

/** What a runner tells the registry (actors/runner-push.ts): `owner` is its generation, so a stale runner never drops a newer one's check. */
export interface PushOwnership {
  /** Keep `spec`'s deadline from now (or from `carry`, a release's); a check kept already takes the new spec (and the carry where it knows more: push-deadline.ts withCarry). */
  own(spec: NormalizedSpec, owner: number, carry?: PushCarry): void;
  /** Stop keeping `id` (if `owner` keeps it). */
  disown(id: string, owner: number): void;
  /** What a release carries for `id` now, or undefined when it is not kept. */
  carry(id: string): PushCarry | undefined;
}

export interface PushRegistryOptions {
  clock: Pick<Clock, 'monotonic'>;
  /** Time this node could not hear reports so far, ms — its event-loop stall and its NATS outages (absent: 0). */
  stallMs?: () => number;
  maxBytes: number;
  perSecond: number;
  /** Each report's outcome (metrics); `signal` when accepted. */
  onReport?: (outcome: PushReportOutcome, id: string, signal?: string) => void;
  /** The number of kept checks changed. */
  onOwned?: (count: number) => void;
}

interface Kept {
  owner: number;
  spec: NormalizedSpec;
  state: PushState;
  /** Reports left for this check (protocol/token-bucket.ts). */
  bucket: TokenBucket;
}

export class PushRegistry implements PushOwnership, PushEvaluator {
  private readonly kept = new Map<string, Kept>();

  constructor(private readonly opts: PushRegistryOptions) {}

  get size(): number {
    return this.kept.size;
  }

  private now(): Instant {
    return { at: this.opts.clock.monotonic(), stall: this.opts.stallMs?.() ?? 0 };
  }

  own(spec: NormalizedSpec, owner: number, carry?: PushCarry): void {
    const k = this.kept.get(spec.id);
    const now = this.now();
    if (k) {
      k.owner = owner;
      k.spec = spec;
      if (carry) k.state = withCarry(k.state, carry, now);
      return;
    }
    const state = carry ? fromCarry(carry, now) : freshPush(now);
    this.kept.set(spec.id, { owner, spec, state, bucket: fullBucket(this.opts.perSecond, now.at) });
    this.opts.onOwned?.(this.kept.size);
  }

  disown(id: string, owner: number): void {
    if (this.kept.get(id)?.owner !== owner) return;
    this.kept.delete(id);
    this.opts.onOwned?.(this.kept.size);
  }

  carry(id: string): PushCarry | undefined {
    const k = this.kept.get(id);
    return k ? carryOf(k.state, this.now()) : undefined;
  }

  evaluate(spec: NormalizedSpec): ProbeOutcome {
    const k = this.kept.get(spec.id);
    if (!k) return { ok: false, reason: FailureReason.error, message: `this node keeps no deadline for push check ${spec.id}`, latencyMs: 0, timings: { total: 0 } };
    return evaluatePush(k.state, { intervalMs: spec.intervalMs, graceMs: spec.push.graceMs }, this.now());
  }

  /** A report for `id` (the subject's last token, unvalidated) with its raw payload. Never throws. */
  receive(id: string, data: Uint8Array): PushReportOutcome {
    const outcome = this.judge(id, data);
    this.opts.onReport?.(outcome, id, outcome === 'accepted' ? this.kept.get(id)?.state.last?.signal : undefined);
    return outcome;
  }

  private judge(id: string, data: Uint8Array): PushReportOutcome {
    if (data.byteLength > this.opts.maxBytes) return PushReportOutcome.too_large;
    const k = this.kept.get(id);
    if (!k) return PushReportOutcome.not_owned;
    const now = this.now();
    if (!takeToken(k.bucket, this.opts.perSecond, now.at)) return PushReportOutcome.rate_limited;
    const report = parsePushReport(data, this.opts.maxBytes);
    if ('refused' in report) return report.refused;
    if (!tokenMatches(k.spec.push.token, report.token)) return PushReportOutcome.bad_token;
    k.state = noteReport(k.state, report.signal, report.message, now);
    return PushReportOutcome.accepted;
  }

}

/** The spec's token against the one a report carries, in constant time (digests of equal length); no token wanted: true. */
export function tokenMatches(wanted: string | undefined, given: string | null): boolean {
  if (wanted === undefined) return true;
  if (given === null) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(wanted), digest(given));
}
