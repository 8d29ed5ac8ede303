// One grpc probe: resolve the target's host and decide its addresses through the node's address
// policy (like every kind: checks/connector.ts) → one fresh grpc-js channel to the first allowed
// address (checks/grpc-channel.ts) → one unary grpc.health.v1.Health/Check call with the spec's
// service, encoded and decoded by hand (checks/grpc-health-wire.ts) → SERVING passes, anything else
// is a failure reason (checks/grpc-outcome.ts); all within one Deadline (checks/probe-envelope.ts).
//
// A denied address is never dialled: the probe fails with `denied` before any channel exists. When
// the host resolves to several allowed addresses and one refuses the connection (or has no route),
// the next is tried on a fresh channel, in resolver order, as the tcp and http probes do. The call
// carries the deadline's remaining time (grpc-timeout), no retries; the channel and every socket it
// opened are closed when the probe ends, however it ends (the deadline, the runner's signal).
// Timings: `dns` resolving a name, `connect` the TCP connect (from the channel's creation), `tls`
// the handshake; `firstByte` is not measured.
import { Metadata, type Client, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { showEndpoint, splitHostPort } from './address-policy';
import { allowedAddresses, type ConnectContext } from './connector';
import type { Deadline } from './deadline';
import { networkFailure, type Failure } from './failures';
import { openProbeChannel, type ChannelReport } from './grpc-channel';
import { decodeHealthCheckResponse, encodeHealthCheckRequest, HEALTH_CHECK_PATH, servingStatusName, type HealthCheckRead } from './grpc-health-wire';
import { grpcCallFailure, grpcStatusName, judgeHealthResponse, type GrpcCallContext, type GrpcCallError } from './grpc-outcome';
import { FailureReason, type GrpcInfo, type ProbeOutcome } from './outcome';
import { DIRECT_PROBE_ENV, type ProbeEnv } from './probe-env';
import { runWithinDeadline } from './probe-envelope';
import type { NormalizedSpec } from './spec';
import type { StopSignal } from './probe-stop';

/** What one probe has measured and holds; still read when the deadline cut the probe short. */
interface GrpcAttempt extends ChannelReport {
  /** "address:port" of the address dialled last. */
  endpoint?: string;
  client?: Client;
  call?: ClientUnaryCall;
  info?: GrpcInfo;
}

type CallEnd = { response: HealthCheckRead } | { error: GrpcCallError };

/** Errors after which the next allowed address of the host is worth a try (as checks/connector.ts). */
const TRY_NEXT_ADDRESS = /\b(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL|EAFNOSUPPORT)\b/;

/** `env`: the address policy, resolver, result detail and User-Agent (a node passes its own). */
export function probeGrpc(spec: NormalizedSpec, signal?: StopSignal, env: ProbeEnv = DIRECT_PROBE_ENV): Promise<ProbeOutcome> {
  const g = spec.grpc;
  return runWithinDeadline<GrpcAttempt>({ timeoutMs: spec.timeoutMs, maxLatencyMs: g.maxLatencyMs, minDaysLeft: g.tls?.minDaysLeft }, signal, {
    begin: (deadline) => ({ timings: {}, elapsed: () => deadline.elapsed(), sockets: [] }),
    exchange: (deadline, a) => exchange(spec, deadline, a, env),
    classify: (err, a) => networkFailure(a.tlsError ?? err, a.endpoint ?? spec.target, env.detail),
    teardown: closeChannel,
    extra: (a) => ({ ...(a.info ? { grpc: a.info } : {}), ...(a.cert ? { cert: a.cert } : {}) }),
  });
}

async function exchange(spec: NormalizedSpec, deadline: Deadline, a: GrpcAttempt, env: ProbeEnv): Promise<Failure | null> {
  const target = splitHostPort(spec.target);
  if (!target) return { reason: FailureReason.error, message: `invalid gRPC target ${JSON.stringify(spec.target)}` };
  const ctx: ConnectContext = { timings: a.timings, signal: deadline.signal, policy: env.policy, lookup: env.lookup };
  // Rejects with AddressDeniedError (reason `denied`) before anything is dialled.
  const addresses = await allowedAddresses(target.host, target.port, ctx);
  const { service, tls } = spec.grpc;
  for (const [i, address] of addresses.entries()) {
    closeChannel(a);
    a.endpoint = showEndpoint(address, target.port);
    a.client = openProbeChannel({ address, port: target.port, host: target.host, ...(tls ? { tls } : {}), ...(env.userAgent ? { userAgent: env.userAgent } : {}) }, a);
    const end = await healthCall(a.client, service, deadline, a);
    const call: GrpcCallContext = { service, endpoint: a.endpoint, detail: env.detail };
    if ('response' in end) {
      a.info = { code: 'OK', ...('status' in end.response ? { servingStatus: servingStatusName(end.response.status) } : {}) };
      return judgeHealthResponse(end.response, call);
    }
    a.info = { code: grpcStatusName(end.error.code) };
    // The handshake's own error, with its code, rather than grpc-js's text of it.
    if (a.tlsError !== undefined) return networkFailure(a.tlsError, a.endpoint, env.detail);
    const last = i === addresses.length - 1;
    if (last || !TRY_NEXT_ADDRESS.test(end.error.details ?? '')) return grpcCallFailure(end.error, call);
  }
  return { reason: FailureReason.error, message: `no address to call for ${spec.target}` };
}

/**
 * How much later than the probe's deadline the call's own deadline (grpc-timeout) is: the probe's
 * Deadline stops it and says so ("timed out after N ms"); the call's is the server's bound and a backstop.
 */
const CALL_DEADLINE_SLACK_MS = 50;

/** The unary call with our own (de)serializers; settles with the response or the call's error, never rejects. */
function healthCall(client: Client, service: string, deadline: Deadline, a: GrpcAttempt): Promise<CallEnd> {
  const remaining = Math.max(0, deadline.timeoutMs - deadline.elapsed()) + CALL_DEADLINE_SLACK_MS;
  return new Promise((resolve) => {
    a.call = client.makeUnaryRequest<Buffer, HealthCheckRead>(
      HEALTH_CHECK_PATH,
      (request) => request,
      // Never throws: a message that is not a HealthCheckResponse is judged, not an INTERNAL error.
      (bytes) => decodeHealthCheckResponse(bytes),
      encodeHealthCheckRequest(service),
      new Metadata(),
      { deadline: Date.now() + remaining },
      (err: ServiceError | null, value?: HealthCheckRead) =>
        resolve(err ? { error: err } : { response: value ?? { problem: 'the call ended without a response' } }),
    );
  });
}

/** Cancel the call, close the channel, destroy every socket it opened (a handshake in progress included). */
function closeChannel(a: GrpcAttempt): void {
  a.call?.cancel();
  a.client?.close();
  for (const socket of a.sockets) socket.destroy();
  a.sockets.length = 0;
  delete a.call;
  delete a.client;
}
