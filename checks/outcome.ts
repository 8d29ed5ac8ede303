// What one probe produced, before any verdict policy: pass/fail, a failure reason from a closed
// enum, and the phase timings that could be measured.

export const FailureReason = {
  /** The host name did not resolve (NXDOMAIN, no address, resolver failure). */
  dns: 'dns',
  /** The peer refused the TCP connection (RST on SYN); dns: the server answered REFUSED, or its port is closed. */
  refused: 'refused',
  /** The connection was reset or closed before a complete answer. */
  reset: 'reset',
  /** No route to the host or network (EHOSTUNREACH, ENETUNREACH). */
  unreachable: 'unreachable',
  /** The whole probe (dns + connect + tls + request + body) did not finish within timeoutMs. */
  timeout: 'timeout',
  /** TLS handshake failed: bad certificate, name mismatch, protocol error; or `requireTls` and the final response was not over TLS. */
  tls: 'tls',
  /**
   * The peer answered something that is not valid HTTP (dns: not a well-formed response to the query
   * sent; grpc: no HTTP/2 with the peer, no health service (UNIMPLEMENTED), or not a HealthCheckResponse).
   */
  protocol: 'protocol',
  /** The HTTP status is not in the expected set (also: too many redirects). */
  status: 'status',
  /** A response header assertion failed (`http.expectHeaders`): a value (not) matched, or the header missing or present. */
  header: 'header',
  /** A body assertion failed: bodyContains / bodyRegex not found, bodyNotContains / bodyNotRegex found (TCP: `expect` not seen). */
  body: 'body',
  /** A JSON-path assertion failed or the body is not JSON. */
  json: 'json',
  /** The probe passed its assertions but took longer than maxLatencyMs. */
  latency: 'latency',
  /** An assertion needed more of the body than maxBodyBytes allows. */
  too_large: 'too_large',
  /**
   * The address policy refused the address (LOOKOUT_TARGET_ALLOW / LOOKOUT_TARGET_DENY, the
   * built-in rules, the node's own endpoints); nothing was sent. The message names the address
   * and the rule.
   */
  denied: 'denied',
  /** dns: the server answered NXDOMAIN (the name does not exist) where another rcode was expected. */
  nxdomain: 'nxdomain',
  /** dns: the server answered SERVFAIL where another rcode was expected. */
  servfail: 'servfail',
  /** dns: another unexpected rcode, too few answers of the queried type, or answers without (or beyond) the expected values. */
  answer: 'answer',
  /** grpc: the health service answered NOT_SERVING, SERVICE_UNKNOWN or UNKNOWN (anything but SERVING). */
  not_serving: 'not_serving',
  /**
   * push: no report arrived within intervalMs + push.graceMs (since the last report, or since this
   * node began to keep the deadline when it never heard one), or a run begun with a start signal
   * reported no ok within push.graceMs.
   */
  missed: 'missed',
  /** push: the job's last report was a fail signal (its message, if any, is the result's). */
  reported_fail: 'reported_fail',
  /** TLS: the peer certificate, or one of its chain, expires in fewer than tls.minDaysLeft days. */
  cert_expiry: 'cert_expiry',
  /** Any other local error (a bug or resource exhaustion); the message says what. */
  error: 'error',
  /**
   * Not the target's answer: the probe timed out (or missed maxLatencyMs) while the node's own event
   * loop stalled for much of it (an overloaded or CPU-starved node: protocol/overload.ts); never
   * produced by a probe itself: the node judges it. Push checks: an owner that has heard no report
   * yet and has kept the deadline for less than intervalMs + graceMs cannot tell either way
   * (checks/push-deadline.ts). The verdict and its history are left as they were.
   */
  inconclusive: 'inconclusive',
} as const;
export type FailureReason = (typeof FailureReason)[keyof typeof FailureReason];

/** Phase timings in milliseconds, each present only where it was measured. */
export interface PhaseTimings {
  dns?: number;
  connect?: number;
  tls?: number;
  firstByte?: number;
  total: number;
}

export interface ProbeOutcome {
  ok: boolean;
  /** null when ok. */
  reason: FailureReason | null;
  /** Human-readable detail, e.g. "expected status 2xx, got 503". null when ok. */
  message: string | null;
  /** Wall time of the whole probe, ms (same as timings.total). */
  latencyMs: number;
  timings: PhaseTimings;
  /** HTTP only: final status code, when one was received. */
  httpStatus?: number;
  /** Bytes of body read (at most maxBodyBytes). */
  bodyBytes?: number;
  /** True when the body was longer than maxBodyBytes and was cut. */
  truncated?: boolean;
  /** HTTP only: redirects followed. */
  redirects?: number;
  /**
   * Inconclusive outcomes only: ms the node lost while the probe ran — its event loop's stall plus
   * waitedMs (protocol/overload.ts).
   */
  stallMs?: number;
  /**
   * Not published: ms this probe's body work waited for the node's body worker (behind other
   * checks' jobs, or for a worker to start: checks/body-worker.ts). The node's delay, not the
   * target's: the node judges it as it judges its own stall.
   */
  waitedMs?: number;
  /** TLS connections (https, tcp with tls): the peer certificate's expiry (checks/cert-expiry.ts). */
  cert?: CertInfo;
  /** dns only: what the server answered (checks/dns-probe.ts). */
  dns?: DnsInfo;
  /** tcp only, on a failure: the dialog step that was running, as its field path ("tcp.dialog[2]", "tcp.expect"). */
  step?: string;
  /** grpc only: how the health call ended (checks/grpc-probe.ts). */
  grpc?: GrpcInfo;
  /** push only: what the owner had heard when it evaluated the deadline (checks/push-deadline.ts). */
  push?: PushInfo;
}

/** The expiry of the certificate a TLS peer presented, and the earliest of its chain. */
export interface CertInfo {
  /** Days until the leaf certificate's notAfter (fractional, 2 decimals; negative once expired). */
  daysLeft: number;
  /** The leaf's notAfter, ISO-8601. */
  notAfter: string;
  /** Days until the earliest notAfter of the chain the peer presented (the leaf included). */
  chainDaysLeft: number;
  /** That earliest notAfter, ISO-8601. */
  chainNotAfter: string;
}

/** What a dns probe got back. */
export interface DnsInfo {
  /** The server asked, "address:port" ("system" servers are shown by address too). */
  server: string;
  /** The transport of the answer judged: udp, or tcp after a truncated UDP answer. */
  transport: 'udp' | 'tcp';
  /** The response code, e.g. NOERROR, NXDOMAIN. */
  rcode: string;
  /** Answers of the queried type. */
  answers: number;
}

/** What a grpc probe's health call ended with. */
export interface GrpcInfo {
  /** The gRPC status code of the call, by name: OK, UNIMPLEMENTED, UNAVAILABLE, … */
  code: string;
  /** When a HealthCheckResponse arrived: its status, e.g. SERVING, NOT_SERVING. */
  servingStatus?: string;
}

/** What a push check's evaluation saw (durations on the evaluating node's monotonic clock). */
export interface PushInfo {
  /** ms since the last report (any signal), null when this owner has heard none (nor a release carried one). */
  lastReportAgoMs: number | null;
  /** The last report's signal, null when none was heard. */
  signal: 'ok' | 'fail' | 'start' | null;
  /** The last finished run's duration (a start followed by ok or fail), null when none. */
  runMs: number | null;
  /** A run begun with a start signal has not reported ok or fail yet. */
  running: boolean;
}
