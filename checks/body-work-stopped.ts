// What a probe says when the body worker (checks/body-worker.ts) gave no answer to its work —
// stopped at its budget, refused, aborted or failed — and the report of a stop to the node's
// metrics. Shared by every assertion that runs there: http bodyRegex / bodyNotRegex / json
// (checks/http-body.ts), expectHeaders (checks/http-headers-check.ts) and a tcp dialog's
// expectRegex (checks/tcp-regex-expect.ts). Pure.
import type { BodyAssertion, CaptureVerdict, JsonVerdict, RegexVerdict, WorkStopped } from './body-job';
import type { Failure } from './failures';
import { FailureReason } from './outcome';
import type { WorkerOverrunReport } from './probe-env';

/** A body failure; `conclusive` when more of the body would not have changed it. */
export type BodyFailure = Failure & { conclusive?: boolean };

/** Tell the node (lookout_body_worker_overruns_total) when the worker stopped or refused the work. */
export function reportOverrun(report: WorkerOverrunReport | undefined, assertion: BodyAssertion, verdict: RegexVerdict | JsonVerdict | CaptureVerdict): void {
  if (verdict.status === 'overrun') report?.(assertion, verdict.remembered ? 'remembered' : 'budget');
  else if (verdict.status === 'rationed') report?.(assertion, 'rationed');
}

/**
 * The body worker gave no answer: stopped at its budget or refused (conclusive: more body would
 * cost more), aborted, or failed. `what` names the work ("bodyRegex /x/", "JSON evaluation").
 */
export function workStopped(verdict: WorkStopped, reason: FailureReason, what: string, chars: number, advice: string): BodyFailure {
  switch (verdict.status) {
    case 'overrun':
      return { reason, message: `${what} was stopped after ${verdict.budgetMs} ms on ${chars} characters of body; ${advice}`, conclusive: true };
    case 'rationed':
      return {
        reason,
        message: `${what} was not run: it took over ${verdict.heavyMs} ms recently, and such costly body work may use at most ${verdict.sharePct}% of the node's body worker`,
        conclusive: true,
      };
    case 'aborted': // the deadline fired (or the node is stopping): the probe reports that instead
      return { reason: FailureReason.error, message: 'aborted' };
    case 'failed':
      return { reason: FailureReason.error, message: `${what} could not run: ${verdict.message}` };
    default: {
      const unknown: never = verdict;
      return unknown;
    }
  }
}
