// One TCP probe: connect (optionally TLS) → optional send → optional wait for an expected
// substring, all within one Deadline (checks/probe-envelope.ts). Without `expect`, a completed
// connect (and send) passes.
import type { Socket } from 'node:net';
import { splitHostPort } from './address-policy';
import { connectTimed, type ConnectContext, type ConnectTarget, type ProbeTimings } from './connector';
import type { Deadline } from './deadline';
import { networkFailure, type Failure } from './failures';
import { FailureReason, type CertInfo, type ProbeOutcome } from './outcome';
import { DIRECT_PROBE_ENV, type ProbeEnv } from './probe-env';
import { runWithinDeadline } from './probe-envelope';
import type { NormalizedSpec } from './spec';
import { ByteSearch } from './text-search';

type TcpSpec = NormalizedSpec['tcp'];

/** What one probe has measured so far; still read when the deadline cut the probe short. */
interface TcpAttempt {
  timings: ProbeTimings;
  socket?: Socket;
  received?: { bytes: number; truncated: boolean };
  /** With tls: the peer certificate's expiry. */
  cert?: CertInfo;
}

/** `env`: the address policy, resolver and result detail (a node passes its own). */
export function probeTcp(spec: NormalizedSpec, signal?: AbortSignal, env: ProbeEnv = DIRECT_PROBE_ENV): Promise<ProbeOutcome> {
  const limits = { timeoutMs: spec.timeoutMs, maxLatencyMs: spec.tcp.maxLatencyMs, minDaysLeft: spec.tcp.tls?.minDaysLeft };
  return runWithinDeadline<TcpAttempt>(limits, signal, {
    begin: () => ({ timings: {} }),
    exchange: (deadline, a) => exchange(spec, deadline, a, env),
    classify: (err) => networkFailure(err, spec.target, env.detail),
    teardown: (a) => a.socket?.destroy(),
    extra: (a) => ({ ...(a.received ? { bodyBytes: a.received.bytes, truncated: a.received.truncated } : {}), ...(a.cert ? { cert: a.cert } : {}) }),
  });
}

/** Parse `host:port` / `[ipv6]:port`; null when malformed. */
export const parseHostPort = splitHostPort;

async function exchange(spec: NormalizedSpec, deadline: Deadline, a: TcpAttempt, env: ProbeEnv): Promise<Failure | null> {
  const tcp = spec.tcp;
  const endpoint = parseHostPort(spec.target);
  if (!endpoint) return { reason: FailureReason.error, message: `invalid TCP target ${JSON.stringify(spec.target)}` };
  const target: ConnectTarget = { ...endpoint, ...(tcp.tls ? { tls: tcp.tls } : {}) };
  // The address policy is applied inside connectTimed: a denied address never sees `send`.
  const context: ConnectContext = { timings: a.timings, signal: deadline.signal, policy: env.policy, lookup: env.lookup };
  const socket = await connectTimed(target, context);
  a.socket = socket;
  if (context.cert) a.cert = context.cert;
  if (tcp.expect === undefined) {
    if (tcp.send !== undefined) await write(socket, tcp.send);
    return null;
  }
  // Listen before writing: a peer may answer (or fail) as soon as the bytes leave.
  const answer = awaitExpected(socket, tcp.expect, tcp, deadline, a);
  const sent = tcp.send !== undefined ? write(socket, tcp.send) : Promise.resolve();
  const [failure] = await Promise.all([answer, sent]);
  return failure;
}

function write(socket: Socket, data: string): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, 'utf8', (err) => (err ? reject(err) : resolve())));
}

/**
 * Read until `expect` shows up within the first maxBodyBytes. Fails with `body` when the peer
 * closes first, `too_large` when the cap is reached without it; rejects on a socket error. The
 * search is linear in the bytes received (checks/text-search.ts ByteSearch: Buffer.indexOf is
 * O(bytes × needle) on some inputs, 1.1 s for 1 MiB) and keeps no bytes, only a count.
 */
function awaitExpected(socket: Socket, expect: string, tcp: TcpSpec, deadline: Deadline, a: TcpAttempt): Promise<Failure | null> {
  const search = new ByteSearch(Buffer.from(expect, 'utf8'));
  const cap = tcp.maxBodyBytes;
  let seen = 0;
  return new Promise((resolve, reject) => {
    const unlisten = (): void => {
      socket.off('data', onData).off('end', onClose).off('close', onClose).off('error', onError);
    };
    const finish = (failure: Failure | null): void => {
      unlisten();
      resolve(failure);
    };
    const onData = (chunk: Buffer): void => {
      a.timings.firstByte ??= deadline.elapsed();
      const truncated = seen + chunk.length > cap;
      const kept = truncated ? chunk.subarray(0, cap - seen) : chunk;
      seen += kept.length;
      a.received = { bytes: seen, truncated };
      if (search.push(kept) !== -1) return finish(null);
      if (seen >= cap) {
        finish({ reason: FailureReason.too_large, message: `${preview(expect)} not in the first ${cap} bytes` });
      }
    };
    const onClose = (): void =>
      finish({ reason: FailureReason.body, message: `peer closed before sending ${preview(expect)} (${seen} bytes received)` });
    const onError = (err: Error): void => {
      unlisten();
      reject(err);
    };
    socket.on('data', onData).once('end', onClose).once('close', onClose).once('error', onError);
  });
}

function preview(s: string): string {
  const q = JSON.stringify(s);
  return q.length > 80 ? `${q.slice(0, 77)}...` : q;
}
