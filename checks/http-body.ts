// The body of an HTTP probe's answer: read it up to maxBodyBytes, then check bodyContains,
// bodyRegex, bodyNotContains, bodyNotRegex and json in that order, and put into words why one failed — including body work the
// body worker stopped or refused (checks/body-worker.ts), which is also reported to the node.
// The status check and the decision to read the body at all are the probe's (checks/http-probe.ts).
import { BODY_SMALL_CHARS } from './body-work-policy';
import type { JsonVerdict, RegexVerdict } from './body-job';
import type { WorkerWait } from './body-worker';
import { reportOverrun, workStopped, type BodyFailure } from './body-work-stopped';
import { evaluateJsonAssertions, isNegated } from './json-path';
import { FailureReason } from './outcome';
import type { ProbeEnv } from './probe-env';
import { describeFound, preview, type ResultDetail } from './result-detail';
import type { NormalizedSpec } from './spec';
import { indexOfLinear } from './text-search';

type HttpSpec = NormalizedSpec['http'];

/** The body as read: at most the cap, and whether there was more. */
export interface BodyRead {
  bytes: Buffer;
  truncated: boolean;
}

/** Whose body it is, when the probe gives up on it, and where the work runs. */
export interface BodyContext {
  /** The check (whose JSON the body worker remembers when it overran). */
  checkId: string;
  /** The probe's deadline: body work still waiting when it fires answers `aborted`. */
  signal: AbortSignal;
  /** How long this probe's body work waited for the body worker (the node's delay, not the target's). */
  wait: WorkerWait;
  env: Pick<ProbeEnv, 'bodyWorker' | 'detail' | 'onWorkerOverrun'>;
}

/** Read at most `cap` bytes, then stop: leaving the loop destroys the stream (and connection). */
export async function readCapped(body: AsyncIterable<Buffer>, cap: number): Promise<BodyRead> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (chunk.length > cap - size) {
      chunks.push(chunk.subarray(0, cap - size));
      return { bytes: Buffer.concat(chunks, cap), truncated: true };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { bytes: Buffer.concat(chunks, size), truncated: false };
}

/** Read and drop the body up to its end, or until more than `cap` bytes came; its bytes are not kept. */
export async function drainCapped(body: AsyncIterable<Buffer>, cap: number): Promise<void> {
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > cap) return;
  }
}

/**
 * The body assertions in order: bodyContains (linear-time search, here), bodyRegex (RE2) and json
 * (JSON.parse and the paths) in the body worker, off the event loop, each within its budget — but
 * JSON shorter than BODY_SMALL_CHARS is evaluated here, which costs less than handing it over.
 * What runs here is bounded: decoding ≤ 1 MiB (~0.5 ms), the search (≤ ~10 ms), small JSON (≤ 1 ms).
 */
export async function checkBody(http: HttpSpec, bytes: Buffer, c: BodyContext): Promise<BodyFailure | null> {
  const text = bytes.toString('utf8');
  const { bodyWorker, onWorkerOverrun } = c.env;
  if (http.bodyContains !== undefined && indexOfLinear(text, http.bodyContains) < 0) {
    return { reason: FailureReason.body, message: `body does not contain ${preview(http.bodyContains)}` };
  }
  if (http.bodyRegex !== undefined) {
    const verdict = await bodyWorker.match(http.bodyRegex, text, c.signal, c.wait);
    reportOverrun(onWorkerOverrun, 'bodyRegex', verdict);
    const failure = regexFailure(http.bodyRegex, text.length, verdict);
    if (failure) return failure;
  }
  // Found is conclusive: more of the body would not undo it. Not found in a cut body passes: what
  // lies past maxBodyBytes is not seen (README).
  if (http.bodyNotContains !== undefined && indexOfLinear(text, http.bodyNotContains) >= 0) {
    return { reason: FailureReason.body, message: `body contains ${preview(http.bodyNotContains)}`, conclusive: true };
  }
  if (http.bodyNotRegex !== undefined) {
    const verdict = await bodyWorker.match(http.bodyNotRegex, text, c.signal, c.wait);
    reportOverrun(onWorkerOverrun, 'bodyNotRegex', verdict);
    if (verdict.status === 'match') return { reason: FailureReason.body, message: `body matches /${http.bodyNotRegex}/`, conclusive: true };
    if (verdict.status !== 'no_match') return workStopped(verdict, FailureReason.body, `bodyNotRegex /${http.bodyNotRegex}/`, text.length, 'simplify the pattern or lower maxBodyBytes');
  }
  if (http.json.length === 0) return null;
  const verdict = text.length < BODY_SMALL_CHARS ? evaluateSmallJson(text, http.json) : await bodyWorker.evaluateJson(c.checkId, text, http.json, c.signal, c.wait);
  reportOverrun(onWorkerOverrun, 'json', verdict);
  return jsonFailure(http, text.length, verdict, c.env.detail);
}

function evaluateSmallJson(text: string, assertions: HttpSpec['json']): JsonVerdict {
  try {
    return evaluateJsonAssertions(text, assertions);
  } catch (err) {
    return { status: 'failed', message: err instanceof Error ? err.message : String(err) };
  }
}


function regexFailure(pattern: string, chars: number, verdict: RegexVerdict): BodyFailure | null {
  switch (verdict.status) {
    case 'match':
      return null;
    case 'no_match':
      return { reason: FailureReason.body, message: `body does not match /${pattern}/` };
    default:
      return workStopped(verdict, FailureReason.body, `bodyRegex /${pattern}/`, chars, 'simplify the pattern or lower maxBodyBytes');
  }
}

function jsonFailure(http: HttpSpec, chars: number, verdict: JsonVerdict, detail: ResultDetail): BodyFailure | null {
  switch (verdict.status) {
    case 'pass':
      return null;
    case 'invalid':
      return { reason: FailureReason.json, message: 'body is not valid JSON' };
    case 'fail': {
      const assertion = http.json[verdict.index]!;
      if (isNegated(assertion)) return { reason: FailureReason.json, message: `${assertion.path} is ${preview(assertion.notEquals)}, which notEquals forbids` };
      return { reason: FailureReason.json, message: `${assertion.path} is ${describeFound(verdict.found, assertion.equals, detail)}, expected ${preview(assertion.equals)}` };
    }
    default:
      return workStopped(verdict, FailureReason.json, 'JSON evaluation', chars, 'lower maxBodyBytes or check a smaller document');
  }
}
