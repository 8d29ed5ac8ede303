// Shard assignment, movement metrics: how many slots a new map moves, the lower bound any balanced
// map pays, and per-node counts (in the assigner's announcement and in cluster.status).
//
// What assignShards (assignment.ts) achieves, measured in test/unit/assignment.test.ts with at
// least 4 shards per member — `minimalMoves` is the per-rank lower bound, `movedSlots` the actual:
//   * join: at most ceil(S/(n+1)) primaries move, all to the joiner; over all ranks
//     within 2r of the lower bound (the joiner may take a +1 at some ranks to keep totals even).
//   * leave: exactly the leaver's primaries move; over all ranks at most 4(r-1) more than the
//     leaver's slots, where the distinct-owner rule blocks the natural receiver.
//   * vantagePoints >= members (every member holds every shard): a leave forces the missing member
//     into the leaver's ranks and rebalancing swaps ranks within rows; up to ~1/3 extra.

import { checkCounts, normalizeMembers, readPrev, UNOWNED } from './assignment-plan';
import type { ShardMap } from './records';

/** How many (shard, rank) slots of `next` have a different owner than in `prev` (a missing slot counts). */
export function movedSlots(prev: ShardMap | null, next: ShardMap): number {
  const comparable = Array.isArray(prev) && prev.length === next.length;
  let moved = 0;
  next.forEach((row, s) => {
    const before = comparable ? prev[s] : undefined;
    row.forEach((owner, k) => {
      if (!Array.isArray(before) || before[k] !== owner) moved++;
    });
  });
  return moved;
}

/**
 * Lower bound of `movedSlots(prev, next)` for any map with r = min(vantagePoints, members) ranks that
 * is balanced per rank: at each rank a member keeps at most base (+1 for e of them) previous slots.
 */
export function minimalMoves(prev: ShardMap | null, members: readonly string[], shardCount: number, vantagePoints: number): number {
  checkCounts(shardCount, vantagePoints);
  const nodes = normalizeMembers(members);
  const n = nodes.length;
  const ranks = Math.min(vantagePoints, n);
  if (ranks === 0) return 0;
  const prevOwner = readPrev(prev, nodes, shardCount, ranks);
  const base = Math.floor(shardCount / n);
  const extra = shardCount % n;
  let moves = 0;
  for (let k = 0; k < ranks; k++) {
    const held = new Int32Array(n);
    for (const u of prevOwner[k]) if (u !== UNOWNED) held[u]++;
    let kept = 0;
    let over = 0;
    for (const h of held) {
      kept += Math.min(h, base);
      if (h > base) over++;
    }
    moves += shardCount - kept - Math.min(extra, over);
  }
  return moves;
}

/** Per node: shards where it is primary (rank 0) and shards where it holds any rank. */
export function shardsPerNode(map: ShardMap): Record<string, { primary: number; total: number }> {
  const out: Record<string, { primary: number; total: number }> = Object.create(null);
  for (const row of map) {
    row.forEach((node, k) => {
      const entry = (out[node] ??= { primary: 0, total: 0 });
      entry.total++;
      if (k === 0) entry.primary++;
    });
  }
  return out;
}
