// Shard assignment: the pure function the leader runs to map every shard to its ordered owners.
//
// A shard's row is `[rank 0, rank 1, ...]`: rank 0 is the primary, rank k the (k+1)-th vantage
// point. A check that asks for k replicas runs on ranks 0..k-1 of its shard.
//
// Inputs: live members (order and duplicates do not matter: they are sorted and deduplicated),
// the previous map (any shape: entries that are not current members, repeated in their row, or
// beyond the wanted ranks count as unowned; a map for another shard count is ignored because shard
// identities changed), the shard count S and the vantage points (ranks per shard). Effective ranks
// r = min(vantagePoints, members); no members → every row is [] and the caller decides.
//
// Algorithm, one rank at a time (0, then 1, ...), then two safety nets:
//   1. Quotas (assignment-quotas.ts). With n members, base = floor(S/n) and e = S mod n members get
//      base+1 at this rank. The +1s go first to members whose sticky holdings already exceed base
//      (so a balanced map stays put), then to members with the fewest +1s at earlier ranks, then by
//      node id — subject to a look-ahead that keeps every member's +1 count over all ranks within
//      one of the others (so totals stay balanced, and the last rank is not forced out of balance
//      when r = n).
//   2. Keep. A slot keeps its previous owner if that owner is a member, does not already hold a
//      lower rank of the shard, and is under quota. An owner over quota gives up the slots where
//      under-quota members can take over (not already in that row), spread by a stable hash.
//   3. Fill. Unowned slots, most constrained first, go to the under-quota member with the most
//      missing slots (a stable hash of shard+node breaks ties, so placement is spread, not
//      alphabetical). Never a member already in the row; preferably not one that still holds a
//      higher rank of that shard in the previous map (placing it would force a later move).
//   4. Repair (assignment-repair.ts), cheapest first, when every under-quota member is already in a
//      slot's row: an augmenting path (BFS, shortest first) that re-shuffles only this pass's fills
//      (no extra move); else break the preference of step 3 (one later move); else a path that
//      shifts kept slots (one extra move per kept slot on it); as a last resort one member goes
//      over quota.
//   5. Safety nets (assignment-repair.ts; no-ops unless step 4 hit its last resort, seen only with
//      fewer than two shards per member): hand slots from the fullest to the emptiest member until
//      totals are within one, then swap ranks inside rows along alternating chains until each
//      member's per-rank counts are within one of each other. Each step lowers a sum of squares, so
//      both end; rows keep r distinct owners throughout.
//
// Relieved members (overloaded: overload-relief.ts). Rank 0 gives each floor(base × RELIEF_SHARE)
// slots and splits the rest among the others as above (assignment-quotas.ts reliefQuotas); the
// ranks after it are balanced as usual over the ranks left; the safety nets leave relieved members
// out. With r = n every member is in every row, so what a relieved member gives up at rank 0 it
// takes at a later rank (its checks of replicas 1 go, those with more vantages stay).
//
// Guarantees without relieved members (always, not only when the repairs are not needed): every
// shard has r distinct owners, all members; at every rank each member holds base or base+1 shards;
// each member's total over all ranks is within one of every other's; same inputs give the same map whatever the member
// order; a map that already satisfies all of this comes back unchanged (so feeding the output back
// in is a no-op).
//
// Movement: at most the lower bound plus a small margin (assignment-moves.ts says how much).
// Cost: O(S·r·(n + r)) plus repairs; S=4096, n=100, r=3 takes about 10-20 ms.
//
// Files: this one runs the steps (and does 2 and 3); the map under construction and the
// questions the steps ask of it are in assignment-plan.ts.

import { checkCounts, mix, normalizeMembers, Plan, readPrev, UNOWNED } from './assignment-plan';
import { quotasAt } from './assignment-quotas';
import { augment, balanceRanks, balanceTotals, overfill } from './assignment-repair';
import type { ShardMap } from './records';

/**
 * `relieved`: members that said they are overloaded (overload-relief.ts decides which): each keeps
 * only RELIEF_SHARE of its fair share of primary slots (assignment-quotas.ts reliefQuotas).
 */
export function assignShards(members: readonly string[], prev: ShardMap | null, shardCount: number, vantagePoints: number, relieved: readonly string[] = []): ShardMap {
  checkCounts(shardCount, vantagePoints);
  const nodes = normalizeMembers(members);
  const ranks = Math.min(vantagePoints, nodes.length);
  if (ranks === 0) return Array.from({ length: shardCount }, () => []);
  const plan = new Plan(nodes, readPrev(prev, nodes, shardCount, ranks), shardCount, ranks, relieved);
  for (let k = 0; k < ranks; k++) fillRank(plan, k);
  balanceTotals(plan);
  balanceRanks(plan);
  return plan.toMap();
}

/** Steps 1–4 at rank k: quotas, keep, fill, repair. */
function fillRank(plan: Plan, k: number): void {
  const { n, S } = plan;
  const row = plan.owner[k];
  const cands: number[][] = Array.from({ length: n }, () => []);
  for (let s = 0; s < S; s++) {
    const u = plan.prevOwner[k][s];
    if (u !== UNOWNED && !plan.holds(s, u, k)) cands[u].push(s);
  }
  const quota = quotasAt(plan, k, cands.map((c) => c.length));

  // Keep: over-quota owners give up the slots others can most easily take.
  const short = quota.map((q, u) => cands[u].length < q);
  const count = new Int32Array(n);
  cands.forEach((list, u) => {
    let keep = list;
    if (list.length > quota[u]) {
      const score = (s: number) => short.reduce((acc, isShort, v) => acc + (isShort && plan.free(s, v, k, true) ? 1 : 0), 0);
      const ranked = list.map((s) => ({ s, score: score(s), tie: plan.slotHash(s, k, u) }));
      ranked.sort((a, b) => a.score - b.score || a.tie - b.tie);
      keep = ranked.slice(0, quota[u]).map((x) => x.s);
    }
    for (const s of keep) row[s] = u;
    count[u] = keep.length;
  });

  // Fill: most constrained slots first, then the repairs.
  const need = Int32Array.from(quota, (q, u) => q - count[u]);
  const under = need.reduce((acc, x) => acc + (x > 0 ? 1 : 0), 0);
  const orphans: { s: number; options: number; tie: number }[] = [];
  for (let s = 0; s < S; s++) {
    if (row[s] !== UNOWNED) continue;
    orphans.push({ s, options: options(plan, s, k, need, under), tie: plan.shardKey(s, k) });
  }
  orphans.sort((a, b) => a.options - b.options || a.tie - b.tie);
  // Repairs, cheapest first: re-shuffle only this pass's fills (free); break a reservation
  // (one later move); shift kept slots along a chain (one move per kept slot on it).
  const deferred: number[] = [];
  for (const { s } of orphans) if (!place(plan, s, k, need, true)) deferred.push(s);
  const fresh = new Uint8Array(S);
  for (const { s } of orphans) fresh[s] = 1;
  for (const s of deferred) {
    if (augment(plan, s, k, need, fresh) || place(plan, s, k, need, false) || augment(plan, s, k, need, null)) continue;
    overfill(plan, s, k);
  }
}

/** How many under-quota members could take (s, k) without touching the row: `under` minus those in it. */
function options(plan: Plan, s: number, k: number, need: Int32Array, under: number): number {
  let options = under;
  for (let j = 0; j < plan.ranks; j++) {
    const u = j < k ? plan.owner[j][s] : j > k ? plan.prevOwner[j][s] : UNOWNED;
    if (u === UNOWNED || need[u] <= 0) continue;
    let seen = false;
    for (let i = 0; i < j; i++) if ((i < k ? plan.owner[i][s] : i > k ? plan.prevOwner[i][s] : UNOWNED) === u) seen = true;
    if (!seen) options--;
  }
  return options;
}

/**
 * Fill (s, k) with the under-quota member missing the most slots (a stable hash breaks ties);
 * never one already in the row, and with `avoidReserved` not one that holds a higher rank of s
 * in the previous map. False when no member fits.
 */
function place(plan: Plan, s: number, k: number, need: Int32Array, avoidReserved: boolean): boolean {
  const key = plan.shardKey(s, k);
  let best = UNOWNED;
  let bestTie = 0;
  for (let v = 0; v < plan.n; v++) {
    if (need[v] <= 0 || !plan.free(s, v, k, avoidReserved)) continue;
    const tie = mix(plan.nodeHash[v] ^ key);
    if (best === UNOWNED || need[v] > need[best] || (need[v] === need[best] && tie < bestTie)) {
      best = v;
      bestTie = tie;
    }
  }
  if (best === UNOWNED) return false;
  plan.owner[k][s] = best;
  need[best]--;
  return true;
}
