// The notifier bucket `<prefix>_notifiers` (a KV with a byte limit, LOOKOUT_NOTIFIERS_MAX_BYTES):
// one key per notifier id, the validated document as written. Every node that takes part in
// notifications keeps all of them in memory (at most LOOKOUT_MAX_NOTIFIERS, ≤ 64 KiB each) from one
// KV watch: routing and delivery read that copy, which follows writes within milliseconds. A stored
// value that no longer validates (written by hand, or by another version) is skipped and logged.

import type { NatsConnection } from '@nats-io/transport-node';
import { StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { normalizeNotifier, type NormalizedNotifier, type Notifier } from '../protocol/notifier';
import { validateNotifier } from '../protocol/notifier-validate';
import type { Logger } from './logger';
import { purgeKey } from './store';
import { isStorageFull, withLimit } from './storage-limits';
import type { Subjects } from './subjects';

/** Revisions kept per notifier (for audit with `nats kv history`). */
export const NOTIFIER_HISTORY = 3;

export interface StoredNotifier {
  id: string;
  notifier: Notifier;
  revision: number;
}

/** What the notifier API writes and reads. */
export interface NotifierStore {
  put(id: string, n: Notifier): Promise<number>;
  /** True if a notifier was stored under id. */
  delete(id: string): Promise<boolean>;
  get(id: string): Promise<StoredNotifier | null>;
}

/** Every stored notifier, as this node's watch last heard (routing and delivery read it). */
export interface NotifierCache {
  /** Resolves once the bucket's contents at the start were read. */
  readonly ready: Promise<void>;
  all(): NormalizedNotifier[];
  get(id: string): NormalizedNotifier | null;
  /** The stored document (the API's list and the status page show a summary of it). */
  raw(id: string): StoredNotifier | null;
  size(): number;
  stop(): void;
}

export class NotifierBucketFull extends Error {
  readonly code = 'storage_full';
}

export async function openNotifierBucket(nc: NatsConnection, jsm: JetStreamManager, s: Subjects, cfg: { kvReplicas: number; notifiersMaxBytes: number }): Promise<KV> {
  const bucket = s.bucket('notifiers');
  return withLimit(jsm, { stream: `KV_${bucket}`, maxBytes: cfg.notifiersMaxBytes, setting: 'LOOKOUT_NOTIFIERS_MAX_BYTES' }, () =>
    new Kvm(nc).create(bucket, { replicas: cfg.kvReplicas, history: NOTIFIER_HISTORY, storage: StorageType.File, max_bytes: cfg.notifiersMaxBytes }),
  );
}

export function kvNotifierStore(kv: KV, jsm: JetStreamManager, bucket: string): NotifierStore {
  return {
    async put(id, n) {
      try {
        return await kv.put(id, JSON.stringify(n));
      } catch (err) {
        if (isStorageFull(err)) throw new NotifierBucketFull(`the notifier bucket is full (${(err as Error).message}): delete notifiers, or raise LOOKOUT_NOTIFIERS_MAX_BYTES`);
        throw err;
      }
    },
    async delete(id) {
      const e = await kv.get(id);
      if (!e || e.operation !== 'PUT') return false;
      await purgeKey(kv, jsm, bucket, id);
      return true;
    },
    async get(id) {
      const e = await kv.get(id);
      if (!e || e.operation !== 'PUT') return null;
      return { id, notifier: e.json<Notifier>(), revision: e.revision };
    },
  };
}

/** Follow the bucket: every value now, then every change. */
export async function watchNotifiers(kv: KV, log: Logger): Promise<NotifierCache> {
  const docs = new Map<string, StoredNotifier>();
  const normalized = new Map<string, NormalizedNotifier>();
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => (markReady = r));
  if ((await kv.status()).values === 0) markReady();
  const w = await kv.watch();
  void (async () => {
    for await (const e of w) {
      if (e.operation !== 'PUT') {
        docs.delete(e.key);
        normalized.delete(e.key);
      } else {
        let raw: unknown;
        try {
          raw = e.json();
        } catch {
          raw = undefined;
        }
        const v = validateNotifier(raw, e.key, null);
        if (v.ok) {
          docs.set(e.key, { id: e.key, notifier: v.notifier, revision: e.revision });
          normalized.set(e.key, normalizeNotifier(e.key, v.notifier));
        } else {
          docs.delete(e.key);
          normalized.delete(e.key);
          log.warn({ event: 'notifier_invalid_stored', notifier: e.key, revision: e.revision, error: v.error }, 'a stored notifier does not validate: skipped');
        }
      }
      if (e.isUpdate || e.delta === 0) markReady();
    }
  })().catch((err: unknown) => log.error({ event: 'notifier_watch_failed', err }, 'the notifier watch stopped'));
  return {
    ready,
    all: () => [...normalized.values()],
    get: (id) => normalized.get(id) ?? null,
    raw: (id) => docs.get(id) ?? null,
    size: () => normalized.size,
    stop: () => w.stop(),
  };
}
