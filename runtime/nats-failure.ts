// Why a connection to a NATS server failed, in an operator's words, and how often to say so.
// nats.js retries a failing server silently (with waitOnFirstConnect it never even reports the
// error), so runtime/nats.ts catches each failed attempt and logs it through these two pieces:
// `describeNatsFailure` turns the error into a stable reason code with a hint naming the setting
// to change, and `FailureLog` rate-limits the lines (a node retries every 500 ms, forever).

import { messageOf } from '../protocol/errors';

/** Stable reason codes of a failed connection attempt (the `reason` field of the log line). */
export const NatsFailureReason = {
  /** The server's certificate chain does not lead to a CA the node trusts (wrong or missing NATS_CA). */
  tlsUntrusted: 'tls_untrusted',
  /** The certificate is valid but not for the name or address the node dialled. */
  tlsHostname: 'tls_hostname',
  /** The server's certificate has expired or is not valid yet. */
  tlsExpired: 'tls_expired',
  /** NATS_CA / NATS_CERT / NATS_KEY names a file that cannot be read. */
  tlsFile: 'tls_file',
  /** The node asked for TLS (NATS_CA/NATS_CERT or a tls:// URL) and the server does not offer it. */
  tlsUnsupported: 'tls_unsupported',
  /** Any other TLS handshake error. */
  tls: 'tls',
  /** The server refused the credentials (or there were none and it requires some). */
  auth: 'auth',
  refused: 'refused',
  dns: 'dns',
  /** No answer within the connect timeout. */
  timeout: 'timeout',
  other: 'other',
} as const;
export type NatsFailureReason = (typeof NatsFailureReason)[keyof typeof NatsFailureReason];

export interface NatsFailure {
  reason: NatsFailureReason;
  /** The underlying error code (e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE, ECONNREFUSED), if any. */
  code: string | null;
  /** The error's own message. */
  error: string;
  /** What to check or change. */
  hint: string;
}

export interface TlsSettings {
  natsCa?: string | undefined;
  natsCert?: string | undefined;
  natsKey?: string | undefined;
}

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
]);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const FILE = new Set(['ENOENT', 'EACCES', 'EISDIR']);
const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME']);

function codeOf(err: unknown): string | null {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'string' ? code : null;
}

function nameOf(err: unknown): string {
  const n = (err as { name?: unknown } | null)?.name;
  return typeof n === 'string' ? n : '';
}

function reasonOf(code: string | null, message: string, name: string): NatsFailureReason {
  if (code && UNTRUSTED.has(code)) return NatsFailureReason.tlsUntrusted;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return NatsFailureReason.tlsHostname;
  if (code && EXPIRED.has(code)) return NatsFailureReason.tlsExpired;
  if (/doesn't exist/.test(message) || (code && FILE.has(code))) return NatsFailureReason.tlsFile;
  if (/does not support 'tls'|doesn't support tls/i.test(message)) return NatsFailureReason.tlsUnsupported;
  if ((code && /^(ERR_SSL|ERR_TLS|ERR_OSSL)/.test(code)) || /\b(ssl|tls)\b/i.test(message)) return NatsFailureReason.tls;
  if (name === 'AuthorizationError' || name === 'UserAuthenticationExpiredError' || /authorization violation|authentication/i.test(message)) return NatsFailureReason.auth;
  if (code === 'ECONNREFUSED' || /connection refused/i.test(message)) return NatsFailureReason.refused;
  if (code && DNS.has(code)) return NatsFailureReason.dns;
  if (name === 'TimeoutError' || code === 'ETIMEDOUT' || /^timeout$/i.test(message)) return NatsFailureReason.timeout;
  return NatsFailureReason.other;
}

function hintFor(reason: NatsFailureReason, tls: TlsSettings): string {
  switch (reason) {
    case NatsFailureReason.tlsUntrusted:
      return tls.natsCa
        ? `the server's certificate is not signed by the CA in NATS_CA (${tls.natsCa}): point NATS_CA (--tlsca) at the CA that issued it`
        : `the server's certificate is not signed by a CA this node trusts: set NATS_CA (--tlsca) to the CA that issued it`;
    case NatsFailureReason.tlsHostname:
      return 'the certificate does not name the host or address in NATS_URL: connect by a name the certificate lists';
    case NatsFailureReason.tlsExpired:
      return "the server's certificate is expired or not yet valid (check it, and this machine's clock)";
    case NatsFailureReason.tlsFile:
      return 'a TLS file named by NATS_CA / NATS_CERT / NATS_KEY cannot be read';
    case NatsFailureReason.tlsUnsupported:
      return 'TLS was requested (NATS_CA / NATS_CERT or a tls:// URL) but the server has no TLS configured';
    case NatsFailureReason.tls:
      return tls.natsCert ? 'TLS handshake failed: check NATS_CERT / NATS_KEY and the server tls block' : 'TLS handshake failed: if the server verifies clients, set NATS_CERT and NATS_KEY';
    case NatsFailureReason.auth:
      return 'the server refused the credentials: check NATS_USER / NATS_PASSWORD, NATS_TOKEN, NATS_NKEY or NATS_CREDS';
    case NatsFailureReason.refused:
      return 'nothing listens at that address: is nats-server running, and is NATS_URL right?';
    case NatsFailureReason.dns:
      return 'the host name in NATS_URL does not resolve';
    case NatsFailureReason.timeout:
      return tls.natsCert
        ? 'no answer within the connect timeout'
        : 'no answer within the connect timeout (a server that requires client certificates looks like this: set NATS_CERT and NATS_KEY)';
    case NatsFailureReason.other:
      return 'see the error';
    default: {
      const never: never = reason;
      return never;
    }
  }
}

/** Classify a connection error (from nats.js or Node's net/tls) for a log line. */
export function describeNatsFailure(err: unknown, tls: TlsSettings = {}): NatsFailure {
  const code = codeOf(err);
  const error = messageOf(err);
  const reason = reasonOf(code, error, nameOf(err));
  return { reason, code, error, hint: hintFor(reason, tls) };
}

/** Log a failure with this key at most once per this many ms (a new reason is logged at once). */
export const NATS_FAILURE_LOG_EVERY_MS = 30_000;

export interface FailureLogDecision {
  log: boolean;
  /** Failures with this key since the last one logged, this one included. */
  failures: number;
}

/**
 * Rate limit for repeated connection failures: the first failure of each key (server + reason)
 * is logged at once, then at most one line per `everyMs` per key, carrying the count of failures
 * it stands for. A success clears the memory, so the next failure is logged at once again.
 */
export class FailureLog {
  private readonly keys = new Map<string, { loggedAt: number; failures: number }>();

  constructor(private readonly everyMs = NATS_FAILURE_LOG_EVERY_MS) {}

  record(key: string, now: number): FailureLogDecision {
    const k = this.keys.get(key);
    if (!k) {
      this.keys.set(key, { loggedAt: now, failures: 0 });
      return { log: true, failures: 1 };
    }
    k.failures++;
    if (now - k.loggedAt < this.everyMs) return { log: false, failures: k.failures };
    const failures = k.failures;
    k.loggedAt = now;
    k.failures = 0;
    return { log: true, failures };
  }

  clear(): void {
    this.keys.clear();
  }
}
