// The two messages of the standard gRPC health service (grpc.health.v1, health.proto), encoded and
// decoded by hand: no proto-loader, no .proto file at runtime. Pure.
//
//   message HealthCheckRequest  { string service = 1; }
//   message HealthCheckResponse { ServingStatus status = 1; }
//   enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }
//
// The response is hostile input. Read as proto3 reads it: fields in any order, the last `status`
// wins, an absent one is UNKNOWN (0), fields of other numbers are skipped by wire type. Refused
// with a problem: a truncated field, a varint longer than 10 bytes, a wire type that is not a
// proto3 one (groups, 6, 7), `status` with another wire type than varint, field number 0.

/** The path of the one method a grpc probe calls. */
export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';

/** grpc.health.v1.HealthCheckResponse.ServingStatus, by number. */
export const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;
export type ServingStatusName = (typeof SERVING_STATUS)[number];

/** The name of a serving status; a number the enum does not have (a newer server) as `UNRECOGNIZED(n)`. */
export function servingStatusName(status: number): string {
  return SERVING_STATUS[status] ?? `UNRECOGNIZED(${status})`;
}

const WIRE = { varint: 0, i64: 1, len: 2, i32: 5 } as const;
const STATUS_FIELD = 1;
const SERVICE_FIELD = 1;

/** HealthCheckRequest{service}: field 1 as a length-delimited UTF-8 string; the empty string is left out (proto3). */
export function encodeHealthCheckRequest(service: string): Buffer {
  if (service === '') return Buffer.alloc(0);
  const text = Buffer.from(service, 'utf8');
  return Buffer.concat([Buffer.from([(SERVICE_FIELD << 3) | WIRE.len]), encodeVarint(text.length), text]);
}

/** A non-negative integer as a protobuf varint (7 bits per byte, low group first). */
export function encodeVarint(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`varint out of range: ${n}`);
  const out: number[] = [];
  let rest = n;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return Buffer.from(out);
}

export type HealthCheckRead = { status: number } | { problem: string };

/** Read a HealthCheckResponse. */
export function decodeHealthCheckResponse(bytes: Uint8Array): HealthCheckRead {
  let status = 0;
  let at = 0;
  while (at < bytes.length) {
    const key = readVarint(bytes, at);
    if ('problem' in key) return { problem: `field key at byte ${at}: ${key.problem}` };
    at = key.next;
    const field = Math.floor(key.value / 8);
    const wire = key.value % 8;
    if (field === 0) return { problem: `field number 0 at byte ${at - key.length}` };
    if (field === STATUS_FIELD && wire !== WIRE.varint) return { problem: `status (field 1) has wire type ${wire}, expected varint` };
    switch (wire) {
      case WIRE.varint: {
        const v = readVarint(bytes, at);
        if ('problem' in v) return { problem: `field ${field}: ${v.problem}` };
        // An enum is an int32: a negative one arrives as a 10-byte varint, beyond 2^53 here.
        if (field === STATUS_FIELD) status = v.value;
        at = v.next;
        break;
      }
      case WIRE.i64:
      case WIRE.i32: {
        const size = wire === WIRE.i64 ? 8 : 4;
        if (at + size > bytes.length) return { problem: `field ${field}: truncated (${size} bytes expected)` };
        at += size;
        break;
      }
      case WIRE.len: {
        const n = readVarint(bytes, at);
        if ('problem' in n) return { problem: `field ${field}: length ${n.problem}` };
        if (n.next + n.value > bytes.length) return { problem: `field ${field}: truncated (${n.value} bytes declared, ${bytes.length - n.next} left)` };
        at = n.next + n.value;
        break;
      }
      default:
        return { problem: `field ${field} has wire type ${wire}, which proto3 does not use` };
    }
  }
  return { status };
}

type VarintRead = { value: number; next: number; length: number } | { problem: string };

/** A varint at `at`: at most 10 bytes. Values past 2^53 lose precision, which no field read here needs. */
export function readVarint(bytes: Uint8Array, at: number): VarintRead {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const b = bytes[at + i];
    if (b === undefined) return { problem: 'truncated varint' };
    value += (b & 0x7f) * scale;
    scale *= 0x80;
    if (b < 0x80) return { value, next: at + i + 1, length: i + 1 };
  }
  return { problem: 'varint longer than 10 bytes' };
}
