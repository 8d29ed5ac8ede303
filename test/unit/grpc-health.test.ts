// The grpc health messages encoded and decoded by hand (checks/grpc-health-wire.ts) and what a
// call's end means (checks/grpc-outcome.ts): table tests, no sockets.
import { decodeHealthCheckResponse, encodeHealthCheckRequest, encodeVarint, readVarint, servingStatusName } from '../../checks/grpc-health-wire';
import { grpcCallFailure, grpcStatusName, judgeHealthResponse, type GrpcCallContext } from '../../checks/grpc-outcome';
import { ResultDetail } from '../../checks/result-detail';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('HealthCheckRequest', () => {
  test.each([
    ['', ''],
    ['a', '0a 01 61'],
    ['grpc.health.v1.Health', `0a 15 ${Buffer.from('grpc.health.v1.Health').toString('hex')}`],
    ['x'.repeat(200), `0a c8 01 ${'78'.repeat(200)}`],
    ['é', '0a 02 c3 a9'],
  ])('%j encodes as %s', (service, bytes) => {
    expect(encodeHealthCheckRequest(service).toString('hex')).toBe(hex(bytes).toString('hex'));
  });
});

describe('varints', () => {
  test.each([
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '80 01'],
    [300, 'ac 02'],
    [16384, '80 80 01'],
    [2 ** 32, '80 80 80 80 10'],
  ])('%d round-trips as %s', (n, bytes) => {
    expect(encodeVarint(n).toString('hex')).toBe(hex(bytes).toString('hex'));
    expect(readVarint(hex(bytes), 0)).toEqual({ value: n, next: hex(bytes).length, length: hex(bytes).length });
  });

  test.each([-1, 1.5, Number.MAX_SAFE_INTEGER + 1])('%d cannot be encoded', (n) => {
    expect(() => encodeVarint(n)).toThrow(RangeError);
  });

  test('a varint that never ends, or ends past the buffer, is a problem', () => {
    expect(readVarint(hex('ff ff ff ff ff ff ff ff ff ff 01'), 0)).toEqual({ problem: 'varint longer than 10 bytes' });
    expect(readVarint(hex('80'), 0)).toEqual({ problem: 'truncated varint' });
    expect(readVarint(hex(''), 0)).toEqual({ problem: 'truncated varint' });
  });
});

describe('HealthCheckResponse', () => {
  test.each([
    ['', 0],
    ['08 00', 0],
    ['08 01', 1],
    ['08 02', 2],
    ['08 03', 3],
    ['08 07', 7],
    ['08 02 08 01', 1], // the last status wins
    ['12 03 61 62 63 08 01', 1], // an unknown length-delimited field first
    ['08 01 18 96 01', 1], // an unknown varint field after
    ['08 01 21 00 00 00 00 00 00 00 00', 1], // an unknown fixed64 field
    ['2d 00 00 00 00 08 02', 2], // an unknown fixed32 field
    ['80 01 00 08 01', 1], // field 16, a two-byte key
  ])('%s reads as status %d', (bytes, status) => {
    expect(decodeHealthCheckResponse(hex(bytes))).toEqual({ status });
  });

  test.each([
    ['08', 'field 1: truncated varint'],
    ['0a 01 01', 'status (field 1) has wire type 2, expected varint'],
    ['0d 01 00 00 00', 'status (field 1) has wire type 5, expected varint'],
    ['12 05 61', 'field 2: truncated (5 bytes declared, 1 left)'],
    ['12', 'field 2: length truncated varint'],
    ['19 00 00', 'field 3: truncated (8 bytes expected)'],
    ['25 00', 'field 4: truncated (4 bytes expected)'],
    ['1b', 'field 3 has wire type 3, which proto3 does not use'],
    ['1c', 'field 3 has wire type 4, which proto3 does not use'],
    ['1e', 'field 3 has wire type 6, which proto3 does not use'],
    ['00 01', 'field number 0 at byte 0'],
    ['ff ff ff ff ff ff ff ff ff ff 01', 'field key at byte 0: varint longer than 10 bytes'],
    ['08 ff ff ff ff ff ff ff ff ff ff 01', 'field 1: varint longer than 10 bytes'],
  ])('%s is refused: %s', (bytes, problem) => {
    expect(decodeHealthCheckResponse(hex(bytes))).toEqual({ problem });
  });

  test('serving statuses by name; a number the enum lacks is unrecognized', () => {
    expect([0, 1, 2, 3, 4].map(servingStatusName)).toEqual(['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN', 'UNRECOGNIZED(4)']);
  });
});

const whole: GrpcCallContext = { service: '', endpoint: '10.0.0.7:50051', detail: ResultDetail.redacted };
const orders: GrpcCallContext = { ...whole, service: 'pkg.v1.Orders' };

describe('a response, judged', () => {
  test.each([
    [{ status: 1 }, whole, null],
    [{ status: 2 }, whole, { reason: 'not_serving', message: 'the server is NOT_SERVING, expected SERVING' }],
    [{ status: 3 }, orders, { reason: 'not_serving', message: 'service "pkg.v1.Orders" is SERVICE_UNKNOWN, expected SERVING' }],
    [{ status: 0 }, orders, { reason: 'not_serving', message: 'service "pkg.v1.Orders" is UNKNOWN, expected SERVING' }],
    [{ problem: 'truncated varint' }, whole, { reason: 'protocol', message: 'invalid HealthCheckResponse from 10.0.0.7:50051: truncated varint' }],
  ])('%j for %j', (read, ctx, failure) => {
    expect(judgeHealthResponse(read, ctx)).toEqual(failure);
  });
});

describe("a call's error status, mapped", () => {
  const noConnection = (last: string) => `No connection established. Last error: ${last}. Resolution note: `;
  test.each([
    [14, noConnection('Error: connect ECONNREFUSED 10.0.0.7:50051'), 'refused', 'connection refused by 10.0.0.7:50051'],
    [14, noConnection('Error: read ECONNRESET'), 'reset', 'connection reset by 10.0.0.7:50051 (ECONNRESET)'],
    [14, noConnection('Error: connect EHOSTUNREACH 10.0.0.7:50051'), 'unreachable', '10.0.0.7:50051 unreachable (EHOSTUNREACH)'],
    [14, noConnection('Failed to connect (2026-12-02T07:57:42.001Z)'), 'protocol', /^no HTTP\/2 connection with 10\.0\.0\.7:50051/],
    [14, 'the server is draining', 'error', 'the server call ended with UNAVAILABLE: the server is draining'],
    [4, 'Deadline exceeded after 1.004s', 'timeout', 'the health check call to 10.0.0.7:50051 passed its deadline'],
    [12, 'The server does not implement the method /grpc.health.v1.Health/Check', 'protocol', /does not implement grpc\.health\.v1\.Health\/Check \(no health service\)/],
    [5, 'unknown service', 'not_serving', 'the server is unknown to the health service (NOT_FOUND), expected SERVING'],
    [8, 'Received message larger than max (5003 vs 4096)', 'too_large', 'the health response from 10.0.0.7:50051 is larger than 4096 bytes'],
    [8, 'quota', 'error', 'the server call ended with RESOURCE_EXHAUSTED: quota'],
    [16, 'no token: go away', 'error', 'the server call ended with UNAUTHENTICATED: no token'],
    [13, '', 'error', 'the server call ended with INTERNAL'],
    [99, 'x', 'error', 'the server call ended with CODE_99: x'],
  ])('code %d, %j → %s', (code, details, reason, message) => {
    const failure = grpcCallFailure({ code, details }, whole);
    expect(failure.reason).toBe(reason);
    if (typeof message === 'string') expect(failure.message).toBe(message);
    else expect(failure.message).toMatch(message);
  });

  test("the peer's text is quoted whole only with full detail", () => {
    const err = { code: 2, details: 'boom: secret=42' };
    expect(grpcCallFailure(err, whole).message).toBe('the server call ended with UNKNOWN: boom');
    expect(grpcCallFailure(err, { ...whole, detail: ResultDetail.full }).message).toBe('the server call ended with UNKNOWN: boom: secret=42');
  });

  test('status names', () => {
    expect([0, 4, 12, 14, 16, 17].map(grpcStatusName)).toEqual(['OK', 'DEADLINE_EXCEEDED', 'UNIMPLEMENTED', 'UNAVAILABLE', 'UNAUTHENTICATED', 'CODE_17']);
  });
});
