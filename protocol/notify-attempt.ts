// What the node holding a delivery job does with it: pure decisions returning named directives
// (STYLE.md: the table decides, the shell does the I/O — runtime/notify-deliverer.ts carries them
// out in one exhaustive switch). The attempt number is JetStream's delivery count of the job: a job
// redelivered because the node holding it died counts that node's call too, so a chain never makes
// more than `retry.attempts` calls, whichever nodes make them.
//
// A transition job:   notifier gone → drop; past its attempts on arrival → dead (no call);
//                     in a silence → suppress (a down still starts its reminders); else call.
//   after the call:   2xx → delivered (a down with remindEveryMs starts its reminders);
//                     retryable failure with attempts left → retry after backoff(attempt);
//                     else → dead (dead letter, then term).
// A reminder job:     it is its own timer (a nak with delay). First delivery → wait remindEveryMs.
//                     Later ones: notifier gone or reminders off → stop; the check's newest change
//                     is no longer this down (it went up, was deleted, or went down anew, which
//                     has a chain of its own) → stop; in a silence → suppress and wait; else one call,
//                     whatever its outcome → wait. Reminder n is delivery n + 1.

import type { NormalizedNotifier } from './notifier';
import type { NotifyJob } from './notify-job';
import type { StatusView } from './notify-match';
import { silencedAt, type OpenSilence } from './notify-silence';

export type Arrival =
  | { type: 'drop'; why: 'notifier_deleted' | 'reminders_off' }
  | { type: 'stop'; why: 'check_gone' | 'check_recovered' | 'newer_change' }
  | { type: 'exhausted'; attempt: number }
  | { type: 'suppress'; silence: OpenSilence; remind: boolean; waitMs: number | null }
  | { type: 'wait'; delayMs: number }
  | { type: 'deliver'; attempt: number; reminder: number | null };

/** One call's outcome, as runtime/webhook.ts classifies it. */
export type CallOutcome = { ok: true; httpStatus: number } | { ok: false; retryable: boolean; httpStatus: number | null; error: string };

export type AfterCall =
  | { type: 'delivered'; remind: boolean }
  | { type: 'retry'; delayMs: number }
  | { type: 'dead'; error: string; httpStatus: number | null }
  | { type: 'wait'; delayMs: number; failed: string | null };

/** Wait after failed call `attempt` (1-based): backoffMs doubled per further attempt, at most maxBackoffMs. */
export function backoffMs(retry: NormalizedNotifier['retry'], attempt: number): number {
  const n = Math.max(0, Math.min(attempt - 1, 40));
  return Math.min(retry.maxBackoffMs, retry.backoffMs * 2 ** n);
}

/** A 2xx is delivered; 408, 425, 429 and 5xx are worth another call; other statuses are not. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

const remindsAfter = (n: NormalizedNotifier, job: NotifyJob): boolean => n.remindEveryMs !== null && job.transition.to === 'down';

/**
 * `latest`: the check's newest stored status message (reminders only; null when it has none, i.e.
 * the check was deleted). `nowMs`: this node's wall clock, read once for the silences.
 */
export function onArrival(job: NotifyJob, n: NormalizedNotifier | null, deliveryCount: number, nowMs: number, latest?: StatusView | null): Arrival {
  if (!n) return { type: 'drop', why: 'notifier_deleted' };
  if (job.kind === 'transition') {
    if (deliveryCount > n.retry.attempts) return { type: 'exhausted', attempt: deliveryCount };
    const silence = silencedAt(n.silences, nowMs);
    if (silence) return { type: 'suppress', silence, remind: remindsAfter(n, job), waitMs: null };
    return { type: 'deliver', attempt: deliveryCount, reminder: null };
  }
  if (n.remindEveryMs === null) return { type: 'drop', why: 'reminders_off' };
  if (deliveryCount <= 1) return { type: 'wait', delayMs: n.remindEveryMs };
  if (!latest) return { type: 'stop', why: 'check_gone' };
  if (latest.to !== 'down') return { type: 'stop', why: 'check_recovered' };
  const same = latest.epoch === job.transition.epoch && latest.seq === job.transition.seq;
  if (!same && latest.from !== latest.to) return { type: 'stop', why: 'newer_change' };
  const silence = silencedAt(n.silences, nowMs);
  if (silence) return { type: 'suppress', silence, remind: false, waitMs: n.remindEveryMs };
  return { type: 'deliver', attempt: 1, reminder: deliveryCount - 1 };
}

export function afterCall(job: NotifyJob, n: NormalizedNotifier, attempt: number, outcome: CallOutcome): AfterCall {
  if (job.kind === 'reminder') return { type: 'wait', delayMs: n.remindEveryMs ?? 60_000, failed: outcome.ok ? null : outcome.error };
  if (outcome.ok) return { type: 'delivered', remind: remindsAfter(n, job) };
  if (outcome.retryable && attempt < n.retry.attempts) return { type: 'retry', delayMs: backoffMs(n.retry, attempt) };
  const why = outcome.retryable ? `${outcome.error} (attempt ${attempt} of ${n.retry.attempts}: no attempts left)` : `${outcome.error} (not retried)`;
  return { type: 'dead', error: why, httpStatus: outcome.httpStatus };
}
