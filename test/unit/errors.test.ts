// Typed errors (protocol/errors.ts): a stable code and the original cause, and how the KV ports
// (runtime/cluster-store.ts) turn nats.js errors into them.
import { CasConflict, ErrorCode, errorCode, hasCode, NotLeader, StorageUnavailable } from '../../protocol/errors';
import { DuplicateNodeId } from '../../protocol/node-identity';
import { JS_WRONG_LAST_SEQUENCE, storeError } from '../../runtime/cluster-store';
import { ConfigError } from '../../runtime/config';
import { StorageTooSmall } from '../../runtime/storage-limits';
import { SpecBucketFull } from '../../runtime/store';

const natsError = (message: string, code?: number) => Object.assign(new Error(message), code === undefined ? {} : { code });

test('a lost compare-and-set (JetStream 10071) is CasConflict, the nats.js error kept as cause', () => {
  const cause = natsError('wrong last sequence: 12', JS_WRONG_LAST_SEQUENCE);
  const err = storeError(cause, 'map', 11, 'write');
  expect(err).toBeInstanceOf(CasConflict);
  expect(err).toMatchObject({ name: 'CasConflict', code: 'cas_conflict', key: 'map', revision: 11, cause });
  expect(err.message).toBe('compare-and-set on map lost: it is no longer at revision 11');
});

test('any other store failure is StorageUnavailable with the cause; typed errors pass through unchanged', () => {
  const cause = natsError('TIMEOUT');
  const err = storeError(cause, 'lease', 3, 'update');
  expect(err).toMatchObject({ name: 'StorageUnavailable', code: 'storage_unavailable', operation: 'update of lease', cause });
  expect(err.message).toBe('update of lease failed');
  expect(storeError(err, 'lease', 3, 'update')).toBe(err);
});

test('every typed error carries its code and its class name', () => {
  const cause = new Error('insufficient storage resources available');
  const errors = [
    [new NotLeader(7, 'lease_expired', 'the lease ran out'), ErrorCode.not_leader, 'NotLeader'],
    [new DuplicateNodeId('a', 'x'), ErrorCode.duplicate_node_id, 'DuplicateNodeId'],
    [new StorageTooSmall('KV_lookout_specs', 1024, 'LOOKOUT_SPECS_MAX_BYTES', cause), ErrorCode.storage_too_small, 'StorageTooSmall'],
    [new SpecBucketFull(cause), ErrorCode.spec_bucket_full, 'SpecBucketFull'],
    [new ConfigError('bad'), ErrorCode.config_invalid, 'ConfigError'],
  ] as const;
  for (const [err, code, name] of errors) {
    expect([errorCode(err), err.name, err instanceof Error]).toEqual([code, name, true]);
    expect(hasCode(err, code)).toBe(true);
  }
  expect(new StorageTooSmall('s', 1, null, cause).cause).toBe(cause);
});

test('errorCode matches by field (another module copy), and ignores codes that are not Lookout codes', () => {
  expect(errorCode({ code: 'cas_conflict', name: 'CasConflict' })).toBe('cas_conflict');
  expect(errorCode(natsError('x', JS_WRONG_LAST_SEQUENCE))).toBeUndefined();
  expect(errorCode(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBeUndefined();
  expect(errorCode(undefined)).toBeUndefined();
  expect(errorCode(null)).toBeUndefined();
  expect(hasCode(new StorageUnavailable('read of map', new Error('x')), ErrorCode.cas_conflict)).toBe(false);
});
