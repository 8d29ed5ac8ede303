// One TCP probe: connect (TLS at once with `tls`, unless the dialog has a STARTTLS step) → the
// dialog (checks/tcp-dialog-run.ts: the single send / expect, or `tcp.dialog`), all within one
// Deadline (checks/probe-envelope.ts). Without steps, a completed connect passes.
import type { Socket } from 'node:net';
import type { WorkerWait } from './body-worker';
import { splitHostPort } from './address-policy';
import { connectTimed, startTls, type ConnectContext, type ConnectTarget, type ProbeTimings } from './connector';
import type { Deadline } from './deadline';
import { networkFailure, type Failure } from './failures';
import { FailureReason, type CertInfo, type ProbeOutcome } from './outcome';
import { DIRECT_PROBE_ENV, type ProbeEnv } from './probe-env';
import { runWithinDeadline } from './probe-envelope';
import type { NormalizedSpec } from './spec';
import { hasStartTls } from './tcp-dialog';
import { runDialog, type DialogProgress } from './tcp-dialog-run';
import type { StopSignal } from './probe-stop';

/** What one probe has measured so far; still read when the deadline cut the probe short. */
interface TcpAttempt extends DialogProgress {
  timings: ProbeTimings;
  /** Every socket the probe holds: the connection, and its TLS socket after a STARTTLS. */
  sockets: Socket[];
  received?: { bytes: number; truncated: boolean };
  /** With tls: the peer certificate's expiry. */
  cert?: CertInfo;
  /** How long expectRegex matches waited for the body worker. */
  wait: WorkerWait;
}

/** `env`: the address policy, resolver and result detail (a node passes its own). */
export function probeTcp(spec: NormalizedSpec, signal?: StopSignal, env: ProbeEnv = DIRECT_PROBE_ENV): Promise<ProbeOutcome> {
  const limits = { timeoutMs: spec.timeoutMs, maxLatencyMs: spec.tcp.maxLatencyMs, minDaysLeft: spec.tcp.tls?.minDaysLeft };
  return runWithinDeadline<TcpAttempt>(limits, signal, {
    begin: () => ({ timings: {}, sockets: [], wait: { ms: 0 } }),
    exchange: (deadline, a) => exchange(spec, deadline, a, env),
    classify: (err) => networkFailure(err, spec.target, env.detail),
    teardown: (a) => a.sockets.forEach((s) => s.destroy()),
    extra: (a) => ({
      ...(a.received ? { bodyBytes: a.received.bytes, truncated: a.received.truncated } : {}),
      ...(a.cert ? { cert: a.cert } : {}),
      ...(a.current !== undefined ? { step: a.current } : {}),
      ...(a.wait.ms > 0 ? { waitedMs: a.wait.ms } : {}),
    }),
  });
}

/** Parse `host:port` / `[ipv6]:port`; null when malformed. */
export const parseHostPort = splitHostPort;

async function exchange(spec: NormalizedSpec, deadline: Deadline, a: TcpAttempt, env: ProbeEnv): Promise<Failure | null> {
  const tcp = spec.tcp;
  const endpoint = parseHostPort(spec.target);
  if (!endpoint) return { reason: FailureReason.error, message: `invalid TCP target ${JSON.stringify(spec.target)}` };
  const tls = { verify: true, ...tcp.tls };
  const startTlsLater = hasStartTls(tcp.dialog);
  const target: ConnectTarget = { ...endpoint, ...(tcp.tls && !startTlsLater ? { tls } : {}) };
  // The address policy is applied inside connectTimed: a denied address never sees a step.
  const context: ConnectContext = { timings: a.timings, signal: deadline.signal, policy: env.policy, lookup: env.lookup };
  const socket = await connectTimed(target, context);
  a.sockets.push(socket);
  if (context.cert) a.cert = context.cert;
  return runDialog(socket, tcp.dialog, {
    deadline,
    maxBytes: tcp.maxBodyBytes,
    endpoint: spec.target,
    detail: env.detail,
    upgrade: async (plain) => {
      const secure = await startTls(plain, { ...endpoint, tls }, context);
      if (context.cert) a.cert = context.cert;
      return secure;
    },
    holds: (s) => a.sockets.push(s),
    capturer: env.bodyWorker,
    wait: a.wait,
    onWorkerOverrun: env.onWorkerOverrun,
    read: (bytes, truncated) => {
      a.timings.firstByte ??= deadline.elapsed();
      a.received = { bytes, truncated };
    },
  }, a);
}
