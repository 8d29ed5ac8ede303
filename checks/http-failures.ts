// The HTTP-level failures both probe paths report, worded once: the undici path maps undici's
// errors here (httpFailure), the lean path (checks/http-lean.ts) its parser's verdicts, so the
// same bytes give the same reason and message on both (test/integration/http-lean-diff.test.ts).
//
// Who closed the connection is said as it happened: `reset` when the target closed (or reset) it
// before a complete answer — the head, or a body shorter than its Content-Length or missing its
// last chunk (README "Truncated responses") — and `protocol`, with "Lookout closed the connection",
// when the target said something HTTP forbids and the probe hung up.
import { errors } from 'undici';
import { networkFailure, type Failure } from './failures';
import { FailureReason } from './outcome';
import type { ResultDetail } from './result-detail';
import type { NormalizedSpec } from './spec';
import { describeStatusSet, statusMatches } from './status-match';

/** The failure when `status` is not one the spec expects. */
export function statusFailure(http: Pick<NormalizedSpec['http'], 'expectStatus'>, status: number): Failure | null {
  if (statusMatches(status, http.expectStatus)) return null;
  return { reason: FailureReason.status, message: `expected status ${describeStatusSet(http.expectStatus)}, got ${status}` };
}

/**
 * The failure when the final response's HTTP version (`version`: `1.0`, `1.1`, from its status
 * line; undefined: not seen) is not one `expectVersions` lists. No list: any version passes.
 */
export function versionFailure(http: Pick<NormalizedSpec['http'], 'expectVersions'>, version: string | undefined): Failure | null {
  const expected = http.expectVersions;
  if (expected === undefined || (version !== undefined && (expected as readonly string[]).includes(`HTTP/${version}`))) return null;
  const got = version === undefined ? 'a response whose HTTP version was not seen' : `an HTTP/${version} response`;
  return { reason: FailureReason.protocol, message: `expected ${expected.join(' or ')}, got ${got}` };
}

/** The target closed the connection before a whole response head. */
export function closedEarly(endpoint: string): Failure {
  return { reason: FailureReason.reset, message: `connection closed by ${endpoint} before a complete response` };
}

/** The target closed the connection before the body's declared end (its Content-Length, its last chunk). */
export function truncatedBody(endpoint: string): Failure {
  return { reason: FailureReason.reset, message: `connection closed by ${endpoint} before the end of the response body` };
}

/** A 101 Switching Protocols, though the request asked for no upgrade (RFC 9110 §15.2.2); the probe hung up. */
export function unaskedUpgrade(endpoint: string): Failure {
  return {
    reason: FailureReason.protocol,
    message: `invalid HTTP response from ${endpoint}: 101 Switching Protocols, but no upgrade was asked for; Lookout closed the connection`,
  };
}

/** Bytes that are not an answer to any request sent (undici: 'bad response'); the probe hung up. */
function unaskedResponse(endpoint: string): Failure {
  return { reason: FailureReason.protocol, message: `invalid HTTP response from ${endpoint}: a response to no request; Lookout closed the connection` };
}

/**
 * An error from undici (HTTP-level first, then the socket / TLS / resolver mapping). `inBody`:
 * whether the final head had arrived and its body was being read when the error came.
 */
export function httpFailure(err: unknown, endpoint: string, inBody: boolean, detail: ResultDetail): Failure {
  const code = (err as { code?: unknown })?.code;
  const message = String((err as Error)?.message);
  // A body cut short: before its Content-Length (a connection that said `close`, or HTTP/1.0), or a
  // chunked one without its last chunk (llhttp at the close: "Invalid EOF state"). Before the body,
  // the same Content-Length error is a head undici refuses (two Content-Length headers).
  const contentLength = code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH';
  if (inBody && (contentLength || (err instanceof errors.HTTPParserError && message.includes('Invalid EOF state')))) {
    return truncatedBody(endpoint);
  }
  if (err instanceof errors.HTTPParserError || contentLength || code === 'UND_ERR_HEADERS_OVERFLOW') {
    return { reason: FailureReason.protocol, message: `invalid HTTP response from ${endpoint}: ${message}` };
  }
  if (err instanceof errors.SocketError) {
    if (message === 'bad upgrade') return unaskedUpgrade(endpoint);
    if (message === 'bad response') return unaskedResponse(endpoint);
    return inBody ? truncatedBody(endpoint) : closedEarly(endpoint);
  }
  return networkFailure(err, endpoint, detail);
}
