// From socket / TLS / resolver errors and assertion results to a ProbeOutcome.
import { FailureReason, type ProbeOutcome } from './outcome';
import type { ProbeTimings } from './connector';
import { peerErrorText, type ResultDetail } from './result-detail';

/** A probe failure before it becomes a ProbeOutcome. */
export interface Failure {
  reason: FailureReason;
  message: string;
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ENODATA', 'ESERVFAIL', 'ENONAME']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
const UNREACHABLE_CODES = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN']);
// Certificate verification codes (OpenSSL names as Node reports them) and Node's TLS / SSL codes.
const TLS_CODE = /CERT|SELF_SIGNED|^UNABLE_TO_|^HOSTNAME_MISMATCH$|^INVALID_CA$|^INVALID_PURPOSE$|^PATH_LENGTH_EXCEEDED$|^ERR_SSL_|^ERR_TLS_/;

/**
 * Map a resolver / socket / TLS / address-policy error to a failure. `endpoint` ("host:port")
 * names the peer in messages when the error does not carry an address; `detail` bounds how much
 * peer-derived error text (a certificate's names) the message keeps.
 */
export function networkFailure(err: unknown, endpoint: string, detail: ResultDetail): Failure {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string };
  const code = typeof e?.code === 'string' ? e.code : '';
  const peer = e?.address ? `${e.address}:${e.port ?? ''}`.replace(/:$/, '') : endpoint;
  if (code === 'LOOKOUT_ADDRESS_DENIED') return { reason: FailureReason.denied, message: e.message };
  if (DNS_CODES.has(code) || e?.syscall === 'getaddrinfo') {
    return { reason: FailureReason.dns, message: `cannot resolve ${e.hostname ?? endpoint} (${code || 'lookup failed'})` };
  }
  if (code === 'ECONNREFUSED') return { reason: FailureReason.refused, message: `connection refused by ${peer}` };
  if (RESET_CODES.has(code)) return { reason: FailureReason.reset, message: `connection reset by ${peer} (${code})` };
  if (UNREACHABLE_CODES.has(code)) return { reason: FailureReason.unreachable, message: `${peer} unreachable (${code})` };
  if (code === 'ETIMEDOUT') return { reason: FailureReason.timeout, message: `connection to ${peer} timed out` };
  if (TLS_CODE.test(code)) {
    return { reason: FailureReason.tls, message: `TLS with ${endpoint} failed: ${peerErrorText(String(e.message), detail)} (${code})` };
  }
  const text = typeof e?.message === 'string' ? e.message : String(err);
  return { reason: FailureReason.error, message: code ? `${text} (${code})` : text };
}

/** What a probe kind adds to an outcome besides pass/fail and the timings. */
export type OutcomeExtra = Pick<ProbeOutcome, 'httpStatus' | 'bodyBytes' | 'truncated' | 'redirects' | 'cert' | 'dns' | 'step' | 'grpc' | 'push' | 'waitedMs'>;

/** Assemble the outcome; `total` is the probe's wall time. */
export function buildOutcome(total: number, timings: ProbeTimings, failure: Failure | null, extra: OutcomeExtra = {}): ProbeOutcome {
  return {
    ok: failure === null,
    reason: failure?.reason ?? null,
    message: failure?.message ?? null,
    latencyMs: total,
    timings: { ...timings, total },
    ...extra,
  };
}

/** The latency failure when a probe passed everything else but took too long. */
export function latencyFailure(total: number, maxLatencyMs: number | undefined): Failure | null {
  if (maxLatencyMs === undefined || total <= maxLatencyMs) return null;
  return { reason: FailureReason.latency, message: `took ${Math.round(total)} ms, bound ${maxLatencyMs} ms` };
}
