// Stable hashing for shard placement and schedule phase. Both must give the same answer on every
// node, every version and every platform, so they are spelled out here rather than borrowed.

/** FNV-1a, 32 bit, over the UTF-8 bytes of `s`. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(s, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The shard of a check: fnv1a32(id) mod shardCount. Changing shardCount moves most checks, so
 * it is fixed for the life of a cluster (LOOKOUT_SHARDS, default 256).
 */
export function shardOf(checkId: string, shardCount: number): number {
  return fnv1a32(checkId) % shardCount;
}

/**
 * The phase of a check inside its interval: fnv1a32("phase:" + id) mod intervalMs. The prefix
 * decorrelates phase from shard, so one shard's checks are spread over the whole interval.
 */
export function phaseOf(checkId: string, intervalMs: number): number {
  return fnv1a32('phase:' + checkId) % intervalMs;
}
