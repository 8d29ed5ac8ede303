// The cluster's coordination state in JetStream KV (CP): the leader lease (`<prefix>_leader`,
// key "lease") and the assignment map (`<prefix>_assignment`, key "map"). Every write that
// matters is a compare-and-set on the revision last seen. The ports throw typed errors
// (protocol/errors.ts), the nats.js error kept as `cause`: a lost race is CasConflict, any other
// failure of a read or a write StorageUnavailable.

import type { NatsConnection } from '@nats-io/transport-node';
import { StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { CasConflict, StorageUnavailable } from '../protocol/errors';
import type { AssignmentRecord, LeaseRecord } from '../protocol/records';
import type { StoreConfig } from './store';
import { ASSIGNMENT_BUCKET_BYTES, LEASE_BUCKET_BYTES, withLimit } from './storage-limits';
import type { Subjects } from './subjects';

/** JetStream's "wrong last sequence": someone else wrote first. */
export const JS_WRONG_LAST_SEQUENCE = 10071;

/** A failed KV call as the ports report it: CasConflict for a lost race, else StorageUnavailable. */
export function storeError(err: unknown, key: string, revision: number, operation: string): CasConflict | StorageUnavailable {
  if (err instanceof CasConflict || err instanceof StorageUnavailable) return err;
  if ((err as { code?: unknown } | null)?.code === JS_WRONG_LAST_SEQUENCE) return new CasConflict(key, revision, { cause: err });
  return new StorageUnavailable(`${operation} of ${key}`, err);
}

/** Run one KV call; its failure becomes the port's typed error. */
async function kvCall<T>(key: string, revision: number, operation: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw storeError(err, key, revision, operation);
  }
}

export interface Versioned<T> {
  revision: number;
  /** null: absent or deleted. */
  record: T | null;
}

/** The lease key, as the leader election actor sees it. Writes throw CasConflict or StorageUnavailable. */
export interface LeaseStore {
  read(): Promise<Versioned<LeaseRecord>>;
  create(record: LeaseRecord): Promise<number>;
  update(record: LeaseRecord, revision: number): Promise<number>;
  /** Delete the key if it is still at `revision` (graceful step-down). */
  release(revision: number): Promise<void>;
}

/** The assignment key. Reads and writes throw CasConflict or StorageUnavailable. */
export interface AssignmentStore {
  read(): Promise<Versioned<AssignmentRecord>>;
  /** revision 0: create (the key must be absent). */
  write(record: AssignmentRecord, revision: number): Promise<number>;
  /** Calls `onRecord` with the current map and every later one; returns a stop function. */
  watch(onRecord: (v: Versioned<AssignmentRecord>) => void, onError: (err: unknown) => void): Promise<() => void>;
}

const LEASE_KEY = 'lease';
const MAP_KEY = 'map';

async function readKey<T>(kv: KV, key: string, parse: (raw: unknown) => T | null): Promise<Versioned<T>> {
  const e = await kvCall(key, 0, 'read', () => kv.get(key));
  if (!e) return { revision: 0, record: null };
  if (e.operation !== 'PUT') return { revision: e.revision, record: null };
  let raw: unknown;
  try {
    raw = e.json();
  } catch {
    raw = null;
  }
  return { revision: e.revision, record: parse(raw) };
}

function parseLease(raw: unknown): LeaseRecord | null {
  const r = raw as Partial<LeaseRecord> | null;
  if (!r || typeof r.holder !== 'string' || !(r.term === null || typeof r.term === 'number')) return null;
  return { holder: r.holder, term: r.term };
}

export function leaseStore(kv: KV): LeaseStore {
  return {
    read: () => readKey(kv, LEASE_KEY, parseLease),
    create: (record) => kvCall(LEASE_KEY, 0, 'create', () => kv.create(LEASE_KEY, JSON.stringify(record))),
    update: (record, revision) => kvCall(LEASE_KEY, revision, 'update', () => kv.update(LEASE_KEY, JSON.stringify(record), revision)),
    release: (revision) => kvCall(LEASE_KEY, revision, 'delete', () => kv.delete(LEASE_KEY, { previousSeq: revision })),
  };
}

export function assignmentStore(kv: KV, parse: (raw: unknown) => AssignmentRecord | null): AssignmentStore {
  return {
    read: () => readKey(kv, MAP_KEY, parse),
    write: (record, revision) =>
      kvCall(MAP_KEY, revision, 'write', () => (revision === 0 ? kv.create(MAP_KEY, JSON.stringify(record)) : kv.update(MAP_KEY, JSON.stringify(record), revision))),
    async watch(onRecord, onError) {
      const w = await kvCall(MAP_KEY, 0, 'watch', () => kv.watch({ key: MAP_KEY }));
      void (async () => {
        for await (const e of w) {
          let raw: unknown = null;
          if (e.operation === 'PUT') {
            try {
              raw = e.json();
            } catch {
              raw = null;
            }
          }
          onRecord({ revision: e.revision, record: e.operation === 'PUT' ? parse(raw) : null });
        }
      })().catch((err: unknown) => onError(storeError(err, MAP_KEY, 0, 'watch')));
      return () => w.stop();
    },
  };
}

/** The lease and assignment buckets, each with a small byte limit of its own (./storage-limits.ts). */
export async function openClusterBuckets(nc: NatsConnection, jsm: JetStreamManager, s: Subjects, cfg: Pick<StoreConfig, 'kvReplicas'>): Promise<{ lease: KV; assignment: KV }> {
  const kvm = new Kvm(nc);
  const opts = { replicas: cfg.kvReplicas, history: 1, storage: StorageType.File };
  const fixed = null;
  const [lease, assignment] = await Promise.all([
    withLimit(jsm, { stream: `KV_${s.bucket('leader')}`, maxBytes: LEASE_BUCKET_BYTES, setting: fixed }, () => kvm.create(s.bucket('leader'), { ...opts, max_bytes: LEASE_BUCKET_BYTES })),
    withLimit(jsm, { stream: `KV_${s.bucket('assignment')}`, maxBytes: ASSIGNMENT_BUCKET_BYTES, setting: fixed }, () =>
      kvm.create(s.bucket('assignment'), { ...opts, history: 5, max_bytes: ASSIGNMENT_BUCKET_BYTES }),
    ),
  ]);
  return { lease, assignment };
}
