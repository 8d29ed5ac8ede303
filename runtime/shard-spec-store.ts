// The spec bucket keyed by shard (protocol/spec-key.ts): a spec is stored under `<shard>.<id>`, so
// a node watches only the shards it owns (runtime/shard-spec-watch.ts), while any node answers
// get / put / delete for any id (the key is computed from the id) and lists ids by reading keys
// from the bucket one shard at a time — no node holds every spec to answer a list.
//
// Specs stored by an older version under their bare id (legacy keys) are still found: `get` falls
// back to the legacy key, `put` and `delete` purge it, and `migrateLegacySpecs` (run by the
// leader on startup) moves each one to its sharded key. Moving is idempotent: a sharded key
// already written wins (it is newer: only this version writes it), and the legacy key is purged
// either way.

import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { CheckSpec } from '../checks/spec';
import { firstAfter } from '../protocol/sorted-ids';
import { LEGACY_KEY_FILTER, listOrderBefore, parseSpecKey, shardKeyFilter, specKey } from '../protocol/spec-key';
import { shardOf } from '../protocol/hash';
import { purgeKey, SpecBucketFull, type SpecStore, type StoredSpec } from './store';
import { isStorageFull } from './storage-limits';

export interface SpecPage {
  ids: string[];
  /** The cursor of the next page (the last id of this one), or null when no id follows. */
  next: string | null;
}

export interface ShardedSpecStore extends SpecStore {
  /** Ids after `after` (exclusive) in list order (shard, then id), at most `limit`. */
  list(after: string | null, limit: number): Promise<SpecPage>;
}

/** Ids stored under one key filter, in byte order (legacy keys of that filter included). */
async function idsUnder(kv: KV, filter: string, shardCount: number, want: 'sharded' | 'legacy'): Promise<string[]> {
  const ids: string[] = [];
  for await (const key of await kv.keys(filter)) {
    const k = parseSpecKey(key, shardCount);
    if (k.type === want) ids.push(k.id);
  }
  return ids.sort();
}

const isLive = (e: { operation: string } | null) => e !== null && e.operation === 'PUT';

/**
 * Shards probed at once for whether they hold any key (one direct get each): a list skips empty
 * shards without a consumer each (256 key reads of an almost empty bucket took over a minute on a
 * busy 2-core host while three nodes loaded their shards).
 */
const PROBE_WINDOW = 32;

/**
 * Up to this many messages in the bucket (values, revisions and markers), a list reads every key
 * with one consumer rather than one per shard: on a 3-server NATS cluster a consumer per shard
 * crossed made a list of 60 ids outlast a 3 s request timeout.
 */
export const WHOLE_READ_MAX = 20_000;
const ALL_SHARDED = '*.*';

/** One page of `ids` (any order) in list order, after `after`. */
function pageOf(ids: string[], after: string | null, limit: number, shardCount: number): SpecPage {
  const ordered = ids.map((id) => ({ id, shard: shardOf(id, shardCount) })).sort((a, b) => a.shard - b.shard || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const from = after === null ? 0 : ordered.findIndex((x) => listOrderBefore(after, x.id, shardCount));
  if (from < 0) return { ids: [], next: null };
  const page = ordered.slice(from, from + limit).map((x) => x.id);
  return { ids: page, next: from + page.length < ordered.length ? page[page.length - 1]! : null };
}

export function shardedSpecStore(
  kv: KV,
  jsm: JetStreamManager,
  bucket: string,
  shardCount: number,
  onDeleted: (id: string) => Promise<void> = async () => {},
  /** Bucket messages up to which a list reads every key at once (tests set 0 to list by shard). */
  wholeReadMax = WHOLE_READ_MAX,
): ShardedSpecStore {
  const purge = (key: string) => purgeKey(kv, jsm, bucket, key);
  // Whether anything (a value or a delete marker) is stored under the shard's keys.
  const hasKeys = async (shard: number) => (await jsm.direct.getMessage(`KV_${bucket}`, { last_by_subj: `$KV.${bucket}.${shardKeyFilter(shard)}` })) !== null;
  return {
    async put(id, spec) {
      let revision: number;
      try {
        revision = await kv.put(specKey(id, shardCount), JSON.stringify(spec));
      } catch (err) {
        if (isStorageFull(err)) throw new SpecBucketFull(err);
        throw err;
      }
      if (isLive(await kv.get(id))) await purge(id);
      return revision;
    },
    async delete(id) {
      const [sharded, legacy] = await Promise.all([kv.get(specKey(id, shardCount)), kv.get(id)]);
      if (!isLive(sharded) && !isLive(legacy)) return false;
      if (isLive(sharded)) await purge(specKey(id, shardCount));
      if (isLive(legacy)) await purge(id);
      await onDeleted(id);
      return true;
    },
    async get(id) {
      let e = await kv.get(specKey(id, shardCount));
      if (!isLive(e)) e = await kv.get(id);
      if (!e || !isLive(e)) return null;
      return { id, spec: e.json<CheckSpec>(), revision: e.revision } satisfies StoredSpec;
    },
    async list(after, limit) {
      // A small bucket is read in one go (one consumer); a large one a shard at a time.
      if ((await jsm.streams.info(`KV_${bucket}`)).state.messages <= wholeReadMax) return pageOf(await idsUnder(kv, ALL_SHARDED, shardCount, 'sharded'), after, limit, shardCount);
      const ids: string[] = [];
      let shard = after === null ? 0 : shardOf(after, shardCount);
      let next: string | null = null;
      let present: boolean[] = [];
      let presentFrom = shard;
      for (; shard < shardCount; shard++) {
        if (shard - presentFrom >= present.length) {
          presentFrom = shard;
          present = await Promise.all(Array.from({ length: Math.min(PROBE_WINDOW, shardCount - shard) }, (_, i) => hasKeys(shard + i)));
        }
        if (!present[shard - presentFrom]) continue;
        const inShard = await idsUnder(kv, shardKeyFilter(shard), shardCount, 'sharded');
        const from = after !== null && shard === shardOf(after, shardCount) ? firstAfter(inShard, after) : 0;
        if (from >= inShard.length) continue;
        if (ids.length === limit) {
          next = ids[ids.length - 1]!;
          break;
        }
        const take = inShard.slice(from, from + limit - ids.length);
        ids.push(...take);
        if (from + take.length < inShard.length) {
          next = ids[ids.length - 1]!;
          break;
        }
      }
      return { ids, next };
    },
  };
}

/**
 * Moves every spec stored under a legacy key to its sharded key, and purges the legacy key.
 * Returns how many legacy keys were found and how many values were moved (a sharded key already
 * present is kept). Safe to run again, and beside nodes writing (they write sharded keys only).
 */
export async function migrateLegacySpecs(kv: KV, shardCount: number): Promise<{ found: number; moved: number }> {
  const legacy = await idsUnder(kv, LEGACY_KEY_FILTER, shardCount, 'legacy');
  let moved = 0;
  for (const id of legacy) {
    const e = await kv.get(id);
    if (isLive(e)) {
      try {
        await kv.create(specKey(id, shardCount), e!.string());
        moved++;
      } catch (err) {
        if (!isLive(await kv.get(specKey(id, shardCount)))) throw err;
      }
    }
    await kv.purge(id);
  }
  return { found: legacy.length, moved };
}
