// Durable state in JetStream: the spec bucket (`<prefix>_specs`, a KV), the result history
// stream (`<prefix>_results`, over `<prefix>.result.>`, bounded), the resume stream
// (`<prefix>_resume`, resume-store.ts), the transition stream (`<prefix>_transitions`,
// transition-store.ts) and the rollup streams (`<prefix>_rollups`, `<prefix>_rollups_fine`, rollup-store.ts). All are created on start if missing; an existing stream
// gets its limits updated to the configured ones.

import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { CheckSpec } from '../checks/spec';
import { ErrorCode, LookoutError, messageOf } from '../protocol/errors';
import type { Config } from './config';
import { ensureResumeStream } from './resume-store';
import { ensureTransitionStream } from './transition-store';
import { ensureRollupStream } from './rollup-store';
import { boundedStreamConfig, ensureStream, isStorageFull, withLimit } from './storage-limits';
import type { Subjects } from './subjects';


/** Spec bucket history: revisions kept per key (for audit with `nats kv history`). */
export const SPEC_HISTORY = 5;

export interface StoredSpec {
  id: string;
  spec: CheckSpec;
  revision: number;
}

/** The narrow port the spec API uses. */
export interface SpecStore {
  put(id: string, spec: CheckSpec): Promise<number>;
  /** True if a value was stored under id. */
  delete(id: string): Promise<boolean>;
  get(id: string): Promise<StoredSpec | null>;
}

export type StoreConfig = Pick<Config, 'kvReplicas' | 'resultsMaxAgeMs' | 'resultsPerCheck' | 'resultsMaxBytes' | 'specsMaxBytes' | 'resumeMaxBytes' | 'transitionsMaxAgeMs' | 'transitionsPerCheck' | 'transitionsMaxBytes' | 'rollupsMaxAgeMs' | 'rollupsPerCheck' | 'rollupsMaxBytes' | 'rollupsFineMaxAgeMs' | 'rollupsFinePerCheck' | 'rollupsFineMaxBytes'>;

export async function openSpecBucket(nc: NatsConnection, jsm: JetStreamManager, s: Subjects, cfg: StoreConfig): Promise<KV> {
  const bucket = s.bucket('specs');
  return withLimit(jsm, { stream: `KV_${bucket}`, maxBytes: cfg.specsMaxBytes, setting: 'LOOKOUT_SPECS_MAX_BYTES' }, () =>
    new Kvm(nc).create(bucket, { replicas: cfg.kvReplicas, history: SPEC_HISTORY, storage: StorageType.File, max_bytes: cfg.specsMaxBytes }),
  );
}

export function resultStreamConfig(s: Subjects, cfg: StoreConfig): Partial<StreamConfig> & { name: string } {
  return boundedStreamConfig({ name: s.resultStream(), subject: s.resultWildcard(), perSubject: cfg.resultsPerCheck, maxAgeMs: cfg.resultsMaxAgeMs, maxBytes: cfg.resultsMaxBytes, replicas: cfg.kvReplicas });
}

export async function ensureResultStream(jsm: JetStreamManager, s: Subjects, cfg: StoreConfig): Promise<void> {
  await ensureStream(jsm, { ...resultStreamConfig(s, cfg), max_bytes: cfg.resultsMaxBytes }, 'LOOKOUT_RESULTS_MAX_BYTES');
}

/**
 * A put refused because the spec bucket is at its byte limit (or the server's store is full). The
 * message, the server's words included, goes back to the client (storage_full).
 */
export class SpecBucketFull extends LookoutError {
  readonly code = ErrorCode.spec_bucket_full;
  constructor(cause: unknown) {
    super(`the spec bucket is full (${messageOf(cause)}): delete specs, or raise LOOKOUT_SPECS_MAX_BYTES`, { cause });
  }
}

/**
 * The spec bucket. A delete is a KV purge: a marker every node's watch hears, which also drops
 * the key's earlier revisions, so deleting frees space (a plain delete marker would keep them).
 * It must work when the bucket is full — that is how space is freed — so when even the marker
 * does not fit, the key's stored revisions are purged from the stream first (that frees their
 * bytes without writing) and the marker is written after. Once the spec is gone, `onDeleted`
 * drops what else was kept for the check (its vantages' resume records); it must not throw.
 */
/** Purges `key`; when even the marker does not fit, its revisions are purged from the stream first. */
export async function purgeKey(kv: KV, jsm: JetStreamManager, bucket: string, key: string): Promise<void> {
  try {
    await kv.purge(key);
  } catch (err) {
    if (!isStorageFull(err)) throw err;
    await jsm.streams.purge(`KV_${bucket}`, { filter: `$KV.${bucket}.${key}` });
    await kv.purge(key);
  }
}

export function kvSpecStore(kv: KV, jsm: JetStreamManager, bucket: string, onDeleted: (id: string) => Promise<void> = async () => {}): SpecStore {
  return {
    async put(id, spec) {
      try {
        return await kv.put(id, JSON.stringify(spec));
      } catch (err) {
        if (isStorageFull(err)) throw new SpecBucketFull(err);
        throw err;
      }
    },
    async delete(id) {
      const existing = await kv.get(id);
      if (!existing || existing.operation !== 'PUT') return false;
      await purgeKey(kv, jsm, bucket, id);
      await onDeleted(id);
      return true;
    },
    async get(id) {
      const e = await kv.get(id);
      if (!e || e.operation !== 'PUT') return null;
      return { id, spec: e.json<CheckSpec>(), revision: e.revision };
    },
  };
}

export async function openStores(nc: NatsConnection, s: Subjects, cfg: StoreConfig): Promise<{ kv: KV; jsm: JetStreamManager }> {
  const jsm = await jetstreamManager(nc);
  const kv = await openSpecBucket(nc, jsm, s, cfg);
  await ensureResultStream(jsm, s, cfg);
  await ensureResumeStream(jsm, s, cfg);
  await ensureTransitionStream(jsm, s, cfg);
  await ensureRollupStream(jsm, s, cfg);
  return { kv, jsm };
}
