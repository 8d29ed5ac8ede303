// Where a spec is stored in the spec bucket: under `<shard>.<id>`, so a node can watch the specs of
// one shard with a key filter (`<shard>.*`) instead of the whole bucket. A check id has no dot
// (checks/spec.ts CHECK_ID_PATTERN), so a key of one token is a spec stored by an older version
// under its bare id (a legacy key), and a key of two tokens is the shard and the id.

import { shardOf } from './hash';

/** The bucket key of check `id` among `shardCount` shards. */
export function specKey(id: string, shardCount: number): string {
  return `${shardOf(id, shardCount)}.${id}`;
}

/** The key filter of one shard's specs. */
export function shardKeyFilter(shard: number): string {
  return `${shard}.*`;
}

/** The key filter of legacy keys (one token: a bare id). */
export const LEGACY_KEY_FILTER = '*';

export type ParsedSpecKey = { type: 'sharded'; shard: number; id: string } | { type: 'legacy'; id: string } | { type: 'invalid' };

/**
 * What a bucket key holds. A sharded key whose shard is not the id's shard (another shard count,
 * or written around the API) is invalid: no node would watch it for that id.
 */
export function parseSpecKey(key: string, shardCount: number): ParsedSpecKey {
  const dot = key.indexOf('.');
  if (dot < 0) return key.length > 0 ? { type: 'legacy', id: key } : { type: 'invalid' };
  const head = key.slice(0, dot);
  const id = key.slice(dot + 1);
  if (!/^(0|[1-9][0-9]*)$/.test(head) || id.length === 0 || id.includes('.')) return { type: 'invalid' };
  const shard = Number(head);
  if (shard >= shardCount || shardOf(id, shardCount) !== shard) return { type: 'invalid' };
  return { type: 'sharded', shard, id };
}

/**
 * The list order: by shard, then by id in byte order. A page resumes after an id (the cursor)
 * at that id's shard, so the cursor stays a check id.
 */
export function listOrderBefore(a: string, b: string, shardCount: number): boolean {
  const sa = shardOf(a, shardCount);
  const sb = shardOf(b, shardCount);
  return sa !== sb ? sa < sb : a < b;
}
