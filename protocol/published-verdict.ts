// The published verdict (issue 15): what `<prefix>.status.<id>` announces and subscribers show,
// derived from the binary verdict policy (verdict.ts: up / down, history '1'/'0') by pure functions.
//
//   published = flapping                                  → flapping
//             | policy up and the newest passing probe
//               breached a degraded threshold             → degraded
//             | otherwise                                 → the policy's up / down
//
//   degraded   carried flag: set by every passing probe (it breached `degradedAfterMs`, or
//              `tls.degradedDaysLeft` on the chain's earliest expiry) and kept through failing
//              ones, so a failure that leaves the policy up does not flip degraded → up → degraded.
//              It matters only while the policy is up (the policy only turns up on a pass, which
//              sets it afresh).
//   flapping   carried flag with hysteresis (flapping.ts), only for a spec with `flap`.
//
// Legal published changes: any of up, degraded, down, flapping to any other (up ↔ degraded ↔ down
// directly, and into / out of flapping). A flapping check publishes one change to `flapping` and,
// when it settles, one to what it settled on. Both flags travel with the verdict state: on every
// result (`degraded: true` while the published verdict is degraded or would be but for flapping,
// `flapping: true` while flapping), in a release and in a resume record (records.ts), so a new
// owner neither republishes a change nor loses the flapping state. Absent (an older node): false.

import type { FailureReason, ProbeOutcome } from '../checks/outcome';
import { tlsOf, type NormalizedSpec } from '../checks/spec';
import { flapPercent, FLAP_WINDOW, nextFlapping } from './flapping';
import { applyOutcome, type Verdict, type VerdictState } from './verdict';

export const PublishedVerdict = { up: 'up', degraded: 'degraded', down: 'down', flapping: 'flapping' } as const;
export type PublishedVerdict = (typeof PublishedVerdict)[keyof typeof PublishedVerdict];
export const PUBLISHED_VERDICTS: readonly PublishedVerdict[] = Object.values(PublishedVerdict);

export function isPublishedVerdict(v: unknown): v is PublishedVerdict {
  return typeof v === 'string' && (PUBLISHED_VERDICTS as readonly string[]).includes(v);
}

/** The flags carried beside the policy's verdict state. */
export interface VerdictFlags {
  /** The newest passing probe breached a degraded threshold. */
  degraded: boolean;
  flapping: boolean;
}

export const NO_FLAGS: VerdictFlags = Object.freeze({ degraded: false, flapping: false });

/** A passing probe that breached a degraded threshold: which one (a reason of the closed enum) and how. */
export interface Breach {
  reason: 'latency' | 'cert_expiry';
  message: string;
}

/** The published verdict of a policy verdict and its flags. */
export function publishedOf(status: Verdict, flags: VerdictFlags): PublishedVerdict {
  if (flags.flapping) return 'flapping';
  return status === 'up' && flags.degraded ? 'degraded' : status;
}

/** Why a passing probe is degraded, or null (a failed probe, or no threshold breached). Certificates first. */
export function breachOf(spec: NormalizedSpec, o: ProbeOutcome): Breach | null {
  if (!o.ok) return null;
  const days = tlsOf(spec)?.degradedDaysLeft;
  if (days !== undefined && o.cert !== undefined && o.cert.chainDaysLeft < days) {
    return { reason: 'cert_expiry', message: `a certificate expires in ${o.cert.chainDaysLeft} days (${o.cert.chainNotAfter}); tls.degradedDaysLeft is ${days}` };
  }
  const ms = spec.degradedAfterMs;
  if (ms !== undefined && o.latencyMs > ms) return { reason: 'latency', message: `the probe took ${o.latencyMs} ms; degradedAfterMs is ${ms}` };
  return null;
}

/** One outcome applied: the policy's new state, the flags, and what is published now. */
export interface PublishedStep extends VerdictFlags {
  verdict: VerdictState;
  to: PublishedVerdict;
  breach: Breach | null;
  /** The weighted state change after this outcome (flapping.ts); null without `flap`. */
  percent: number | null;
}

/** Apply one counted outcome (not inconclusive, not overruled by a confirmation) to the policy and the flags. */
export function stepPublished(spec: NormalizedSpec, state: { verdict: VerdictState } & VerdictFlags, o: ProbeOutcome): PublishedStep {
  const verdict = applyOutcome(spec.policy, state.verdict, o.ok);
  const breach = breachOf(spec, o);
  const degraded = o.ok ? breach !== null : state.degraded;
  const percent = spec.flap ? flapPercent(verdict.history) : null;
  const flapping = spec.flap && percent !== null ? nextFlapping(state.flapping, percent, spec.flap) : false;
  return { verdict, degraded, flapping, to: publishedOf(verdict.status, { degraded, flapping }), breach, percent };
}

/** The reason and message a status message of a change to `to` carries. */
export function changeCause(spec: NormalizedSpec, step: PublishedStep, o: ProbeOutcome): { reason: FailureReason | null; message: string | null } {
  switch (step.to) {
    case 'down':
      return { reason: o.reason, message: o.message };
    case 'degraded':
      return { reason: step.breach?.reason ?? null, message: step.breach?.message ?? null };
    case 'flapping':
      return { reason: null, message: `${step.percent}% state change over the last ${FLAP_WINDOW} results (flapping from flap.high ${spec.flap?.high}% until flap.low ${spec.flap?.low}%)` };
    case 'up':
      return { reason: null, message: null };
    default: {
      const never: never = step.to;
      throw new Error(`unknown published verdict ${String(never)}`);
    }
  }
}

/** The flags a result, release or resume record carries (`degraded: true`, `flapping: true`; absent: false). */
export function flagsOf(raw: { degraded?: unknown; flapping?: unknown }): VerdictFlags {
  return { degraded: raw.degraded === true, flapping: raw.flapping === true };
}

/** The flags as wire fields: present only when true (older readers ignore them). */
export function flagFields(status: Verdict, f: VerdictFlags): { degraded?: true; flapping?: true } {
  return { ...(f.degraded && status === 'up' ? { degraded: true as const } : {}), ...(f.flapping ? { flapping: true as const } : {}) };
}
