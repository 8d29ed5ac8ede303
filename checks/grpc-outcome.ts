// What a grpc health call's end means for the probe: the serving status a response carried, or the
// gRPC status code (and grpc-js's details text) a failed call ended with, as a failure reason of
// the closed enum (checks/outcome.ts). Pure.
//
//   response SERVING                                  pass
//   response NOT_SERVING / SERVICE_UNKNOWN / UNKNOWN  not_serving ("… NOT_SERVING, expected SERVING")
//   NOT_FOUND (health.proto: an unknown service)      not_serving
//   response that is not a HealthCheckResponse       protocol
//   UNAVAILABLE, no connection: the socket's errno    refused / reset / unreachable / timeout / dns (checks/failures.ts)
//   UNAVAILABLE, no connection, no errno              protocol (no HTTP/2 with the peer: a TLS port asked in plaintext, not gRPC)
//   DEADLINE_EXCEEDED                                 timeout
//   UNIMPLEMENTED                                     protocol (no health service; or an HTTP/2 server that is not gRPC: 404)
//   RESOURCE_EXHAUSTED for a message over the cap     too_large
//   any other code (also a server's own UNAVAILABLE)  error, "CODE: details"
// A TLS handshake error never reaches here by its text: the probe classifies the typed error the
// channel kept (checks/grpc-channel.ts).
import { networkFailure, type Failure } from './failures';
import { servingStatusName, type HealthCheckRead } from './grpc-health-wire';
import { FailureReason } from './outcome';
import { GRPC_LIMITS } from './spec-schema-grpc';
import { peerErrorText, type ResultDetail } from './result-detail';

/** gRPC status codes by number (grpc/doc/statuscodes.md). */
export const GRPC_STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

const CODE = Object.fromEntries(GRPC_STATUS_NAMES.map((name, i) => [name, i])) as Record<(typeof GRPC_STATUS_NAMES)[number], number>;

export function grpcStatusName(code: number): string {
  return GRPC_STATUS_NAMES[code] ?? `CODE_${code}`;
}

/** A failed call as grpc-js reports it. */
export interface GrpcCallError {
  code: number;
  details: string;
}

/** What the call was: the spec's service ('' for the server as a whole) and the peer "address:port". */
export interface GrpcCallContext {
  service: string;
  endpoint: string;
  detail: ResultDetail;
}

/** grpc-js's text when a connection could not be made: "No connection established. Last error: …". */
const NO_CONNECTION = /^No connection established\b/;
/** A socket errno in that text ("connect ECONNREFUSED 127.0.0.1:1"). */
const ERRNO = /\b(E[A-Z][A-Z0-9_]{2,})\b/;

/** The judgement of a response that arrived: SERVING passes. */
export function judgeHealthResponse(read: HealthCheckRead, ctx: GrpcCallContext): Failure | null {
  if ('problem' in read) return { reason: FailureReason.protocol, message: `invalid HealthCheckResponse from ${ctx.endpoint}: ${read.problem}` };
  if (read.status === 1) return null;
  return { reason: FailureReason.not_serving, message: `${subject(ctx.service)} is ${servingStatusName(read.status)}, expected SERVING` };
}

/** The failure of a call that ended with a status other than OK. */
export function grpcCallFailure(err: GrpcCallError, ctx: GrpcCallContext): Failure {
  const details = typeof err.details === 'string' ? err.details : '';
  switch (err.code) {
    case CODE.UNAVAILABLE: {
      if (!NO_CONNECTION.test(details)) break;
      const errno = ERRNO.exec(details)?.[1];
      if (errno) return networkFailure({ code: errno, message: `${errno} from ${ctx.endpoint}` }, ctx.endpoint, ctx.detail);
      return { reason: FailureReason.protocol, message: `no HTTP/2 connection with ${ctx.endpoint} (is it a gRPC server, with TLS as the spec says?)` };
    }
    case CODE.NOT_FOUND:
      // health.proto: "If the requested service is unknown, the call will fail with status NOT_FOUND."
      return { reason: FailureReason.not_serving, message: `${subject(ctx.service)} is unknown to the health service (NOT_FOUND), expected SERVING` };
    case CODE.DEADLINE_EXCEEDED:
      return { reason: FailureReason.timeout, message: `the health check call to ${ctx.endpoint} passed its deadline` };
    case CODE.UNIMPLEMENTED:
      return { reason: FailureReason.protocol, message: `${ctx.endpoint} does not implement grpc.health.v1.Health/Check (no health service)` };
    case CODE.RESOURCE_EXHAUSTED:
      if (/larger than max/i.test(details)) return { reason: FailureReason.too_large, message: `the health response from ${ctx.endpoint} is larger than ${GRPC_LIMITS.maxResponseBytes} bytes` };
      break;
    default:
      break;
  }
  const text = details === '' ? '' : `: ${peerErrorText(details, ctx.detail)}`;
  return { reason: FailureReason.error, message: `${subject(ctx.service)} call ended with ${grpcStatusName(err.code)}${text}` };
}

function subject(service: string): string {
  return service === '' ? 'the server' : `service ${JSON.stringify(service)}`;
}
