// What is asked of the body worker and how it answers: the verdicts a probe reads (checks/http-body.ts),
// the jobs and answers that cross to the worker thread (checks/body-worker-thread.ts), and how an
// answer from the thread becomes a verdict. Types and two pure functions; the worker that runs the
// jobs is checks/body-worker.ts.
import type { JsonAssertion, JsonAssertionResult } from './json-path';
import type { Captures } from './tcp-send-template';

/** The assertion a job serves, as spec fields name it (a label of lookout_body_worker_overruns_total). */
export type BodyAssertion = 'bodyRegex' | 'bodyNotRegex' | 'json' | 'expectHeaders' | 'expectRegex';

/** How a job ended without an answer from the worker. */
export type WorkStopped =
  /** Stopped at the budget now, or (`remembered`) refused because the same work overran recently. */
  | { status: 'overrun'; budgetMs: number; remembered: boolean }
  /** Refused: the work was costly recently, and costly work has had its share of the worker. */
  | { status: 'rationed'; heavyMs: number; sharePct: number }
  /** The caller's signal aborted first (the probe's deadline or shutdown). */
  | { status: 'aborted' }
  /** The worker could not answer (it crashed, ran out of memory, or the pattern does not compile). */
  | { status: 'failed'; message: string };

export type RegexVerdict = { status: 'match' } | { status: 'no_match' } | WorkStopped;
export type JsonVerdict = JsonAssertionResult | WorkStopped;
/** A tcp expectRegex's match: where it ends (a byte offset) and its groups. */
export type CaptureVerdict = { status: 'match'; end: number; captures: Captures } | { status: 'no_match' } | WorkStopped;

/** What a capture job's match posts back: each group cut at `groupChars` (more cannot fit in a send anyway). */
export interface CaptureFound {
  end: number;
  captures: Captures;
}

/**
 * The work of one job: a bodyRegex match, or a check's json assertions, on one body; or a tcp
 * expectRegex's first match, with its groups, in the bytes a peer sent (multi-line: ^ and $ at
 * line ends; offsets in bytes).
 */
export type BodyRequest =
  | { kind: 'regex'; pattern: string; text: string }
  | { kind: 'json'; text: string; assertions: readonly JsonAssertion[] }
  | { kind: 'capture'; pattern: string; bytes: Uint8Array; groupChars: number };

/** A job as posted to the worker thread. */
export type BodyJob = { id: number } & BodyRequest;

/** What the worker thread posts back. */
export type BodyAnswer =
  | { ready: true }
  | { id: number; matched: boolean }
  | { id: number; json: JsonAssertionResult }
  | { id: number; found: CaptureFound | null }
  | { id: number; error: string };

/** The thread's answer to one job. */
export type JobAnswer = Exclude<BodyAnswer, { ready: true }>;

const UNEXPECTED = 'unexpected answer from the body worker';

/** A regex job's end (the thread's answer, or why there is none) as the probe reads it. */
export function regexVerdict(answer: JobAnswer | WorkStopped): RegexVerdict {
  if ('status' in answer) return answer;
  if ('matched' in answer) return { status: answer.matched ? 'match' : 'no_match' };
  return { status: 'failed', message: 'error' in answer ? answer.error : UNEXPECTED };
}

/** A json job's end (the thread's answer, or why there is none) as the probe reads it. */
export function jsonVerdict(answer: JobAnswer | WorkStopped): JsonVerdict {
  if ('status' in answer) return answer;
  if ('json' in answer) return answer.json;
  return { status: 'failed', message: 'error' in answer ? answer.error : UNEXPECTED };
}

/** A capture job's end (the thread's answer, or why there is none) as the dialog reads it. */
export function captureVerdict(answer: JobAnswer | WorkStopped): CaptureVerdict {
  if ('status' in answer) return answer;
  if ('found' in answer) return answer.found ? { status: 'match', ...answer.found } : { status: 'no_match' };
  return { status: 'failed', message: 'error' in answer ? answer.error : UNEXPECTED };
}

/** How long a job's input is, for the work policy (characters of a body, bytes of a peer's answer). */
export function requestLength(request: BodyRequest): number {
  return request.kind === 'capture' ? request.bytes.length : request.text.length;
}
