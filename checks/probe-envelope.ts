// The envelope every probe runs in, whatever its kind: one Deadline (timeoutMs, and the caller's
// signal) over the whole exchange; a stop reported as the stop, whatever the exchange throws
// after it; any other error classified by the probe's kind; what the attempt holds torn down;
// the latency bound applied to a probe that passed; the outcome built. HTTP (checks/http-probe.ts)
// and TCP (checks/tcp-probe.ts) supply only what is theirs (ProbeKindRun).
//
//   exchange settles with a failure or null → that failure (or, on null, the latency bound)
//   the deadline fires or the signal aborts → `timeout` / `error: aborted`, at once
//   exchange throws before any stop        → classify(err)
import type { ProbeTimings } from './connector';
import { certFailure } from './cert-expiry';
import { Deadline, STOPPED } from './deadline';
import { buildOutcome, latencyFailure, type Failure, type OutcomeExtra } from './failures';
import type { ProbeOutcome } from './outcome';
import type { StopSignal } from './probe-stop';

/** The bounds of a probe: the deadline over all of it, the latency a pass may take, the certificate days left it needs. */
export interface ProbeLimits {
  timeoutMs: number;
  maxLatencyMs: number | undefined;
  /** tls.minDaysLeft (checks/cert-expiry.ts): applied to a pass that reports a `cert`. */
  minDaysLeft?: number | undefined;
}

/** What one probe has measured so far; still read when the deadline cut the probe short. */
export interface ProbeAttempt {
  timings: ProbeTimings;
}

/** One kind of probe, as the envelope drives it. */
export interface ProbeKindRun<A extends ProbeAttempt> {
  /** The attempt, made once the deadline runs (its clock is the probe's). */
  begin(deadline: Deadline): A;
  /** Talk to the target: the failure, or null when every assertion passed. */
  exchange(deadline: Deadline, attempt: A): Promise<Failure | null>;
  /** An error the exchange threw while the deadline still ran, as a failure. */
  classify(err: unknown, attempt: A): Failure;
  /** Release what the attempt still holds (its socket, its clients). */
  teardown(attempt: A): void;
  /** The kind's outcome fields, read after the teardown. */
  extra(attempt: A): OutcomeExtra;
}

/** Run one probe within its deadline. Rejects only if the kind's own callbacks throw. */
export async function runWithinDeadline<A extends ProbeAttempt>(
  limits: ProbeLimits,
  signal: StopSignal | undefined,
  probe: ProbeKindRun<A>,
): Promise<ProbeOutcome> {
  const deadline = new Deadline(limits.timeoutMs, signal);
  const attempt = probe.begin(deadline);
  let failure: Failure | null;
  try {
    const result = await deadline.race(probe.exchange(deadline, attempt));
    failure = result === STOPPED ? deadline.failure : result;
  } catch (err) {
    // Once stopped, whatever the exchange throws is a consequence of the stop.
    failure = deadline.failure ?? probe.classify(err, attempt);
  }
  const total = deadline.elapsed();
  deadline.dispose();
  probe.teardown(attempt);
  const extra = probe.extra(attempt);
  failure ??= certFailure(extra.cert, limits.minDaysLeft) ?? latencyFailure(total, limits.maxLatencyMs);
  return buildOutcome(total, attempt.timings, failure, extra);
}
