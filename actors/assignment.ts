// Shard assignment: the pure function the leader runs to map every shard to its ordered owners.
//
// A shard's row is `[rank 0, rank 1, ...]`: rank 0 is the primary, rank k the (k+1)-th vantage
// point. A check that asks for k replicas runs on ranks 0..k-1 of its shard.
//
// Inputs: live members (order and duplicates do not matter: they are sorted and deduplicated),
// the previous map (any shape: entries that are not current members, repeated in their row, or
// beyond the wanted ranks count as unowned; a map for another shard count is ignored because shard
// identities changed), the shard count S and the wanted replicas. Effective ranks
// r = min(replicas, members); no members → every row is [] and the caller decides.
//
// Algorithm, one rank at a time (0, then 1, ...), then two safety nets:
//   1. Quotas. With n members, base = floor(S/n) and e = S mod n members get base+1 at this rank.
//      The +1s go first to members whose sticky holdings already exceed base (so a balanced map
//      stays put), then to members with the fewest +1s at earlier ranks, then by node id — subject
//      to a look-ahead that keeps every member's +1 count over all ranks within one of the others
//      (so totals stay balanced, and the last rank is not forced out of balance when r = n).
//   2. Keep. A slot keeps its previous owner if that owner is a member, does not already hold a
//      lower rank of the shard, and is under quota. An owner over quota gives up the slots where
//      under-quota members can take over (not already in that row), spread by a stable hash.
//   3. Fill. Unowned slots, most constrained first, go to the under-quota member with the most
//      missing slots (a stable hash of shard+node breaks ties, so placement is spread, not
//      alphabetical). Never a member already in the row; preferably not one that still holds a
//      higher rank of that shard in the previous map (placing it would force a later move).
//   4. Repair, cheapest first, when every under-quota member is already in a slot's row: an
//      augmenting path (BFS, shortest first) that re-shuffles only this pass's fills (no extra
//      move); else break the preference of step 3 (one later move); else a path that shifts kept
//      slots (one extra move per kept slot on it); as a last resort one member goes over quota.
//   5. Safety nets (no-ops unless step 4 hit its last resort, seen only with fewer than two
//      shards per member): hand slots from the fullest to the emptiest member until totals are
//      within one, then swap ranks inside rows along alternating chains until each member's
//      per-rank counts are within one of each other. Each step lowers a sum of squares, so both
//      end; rows keep r distinct owners throughout.
//
// Guarantees (always, not only when the repairs are not needed): every shard has r distinct
// owners, all members; at every rank each member holds base or base+1 shards; each member's total
// over all ranks is within one of every other's; same inputs give the same map whatever the member
// order; a map that already satisfies all of this comes back unchanged (so feeding the output back
// in is a no-op).
//
// Movement (measured in test/unit/assignment.test.ts, with at least 4 shards per member):
// `minimalMoves` is the per-rank lower bound any balanced map pays, `movedSlots` the actual.
//   * join: at most ceil(S/(n+1)) primaries move, all to the joiner; over all ranks
//     within 2r of the lower bound (the joiner may take a +1 at some ranks to keep totals even).
//   * leave: exactly the leaver's primaries move; over all ranks at most 4(r-1) more than the
//     leaver's slots, where the distinct-owner rule blocks the natural receiver.
//   * replicas >= members (every member holds every shard): a leave forces the missing member
//     into the leaver's ranks and rebalancing swaps ranks within rows; up to ~1/3 extra.
// Cost: O(S·r·(n + r)) plus repairs; S=4096, n=100, r=3 takes about 10-20 ms.

import { fnv1a32 } from '../runtime/hash';

/** shard index → owner node ids, rank 0 first. */
export type ShardMap = string[][];

const UNOWNED = -1;
// Bound once: global lookups are slow inside vm contexts (jest), and mix() is on the hot path.
const imul = Math.imul;

export function assignShards(members: readonly string[], prev: ShardMap | null, shardCount: number, replicas: number): ShardMap {
  checkCounts(shardCount, replicas);
  const nodes = normalizeMembers(members);
  const ranks = Math.min(replicas, nodes.length);
  if (ranks === 0) return Array.from({ length: shardCount }, () => []);
  const plan = new Plan(nodes, readPrev(prev, nodes, shardCount, ranks), shardCount, ranks);
  for (let k = 0; k < ranks; k++) plan.fillRank(k);
  plan.balanceTotals();
  plan.balanceRanks();
  return plan.toMap();
}

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
 * Lower bound of `movedSlots(prev, next)` for any map with r = min(replicas, members) ranks that
 * is balanced per rank: at each rank a member keeps at most base (+1 for e of them) previous slots.
 */
export function minimalMoves(prev: ShardMap | null, members: readonly string[], shardCount: number, replicas: number): number {
  checkCounts(shardCount, replicas);
  const nodes = normalizeMembers(members);
  const n = nodes.length;
  const ranks = Math.min(replicas, n);
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

function checkCounts(shardCount: number, replicas: number): void {
  if (!Number.isSafeInteger(shardCount) || shardCount < 0) throw new RangeError(`shardCount must be a non-negative integer, got ${shardCount}`);
  if (!Number.isSafeInteger(replicas) || replicas < 1) throw new RangeError(`replicas must be a positive integer, got ${replicas}`);
}

function normalizeMembers(members: readonly string[]): string[] {
  return [...new Set(members.filter((m) => typeof m === 'string'))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** prevOwner[k][s] = member index of the previous rank-k owner of shard s, or UNOWNED. */
function readPrev(prev: ShardMap | null, nodes: readonly string[], shardCount: number, ranks: number): Int32Array[] {
  const out = Array.from({ length: ranks }, () => new Int32Array(shardCount).fill(UNOWNED));
  if (!Array.isArray(prev) || prev.length !== shardCount) return out;
  const index = new Map(nodes.map((id, u) => [id, u]));
  for (let s = 0; s < shardCount; s++) {
    const row: unknown = prev[s];
    if (!Array.isArray(row)) continue;
    for (let k = 0; k < Math.min(ranks, row.length); k++) {
      const u = typeof row[k] === 'string' ? index.get(row[k]) : undefined;
      if (u !== undefined) out[k][s] = u;
    }
  }
  return out;
}

/** 32-bit finalizer (murmur3 fmix32): a stable, well-spread hash of an integer. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The map under construction, as member indexes: owner[k][s]. */
class Plan {
  private readonly owner: Int32Array[];
  private readonly nodeHash: Uint32Array;
  /** How many ranks so far gave each member base+1 slots. */
  private readonly extras: Int32Array;
  private readonly n: number;
  private readonly base: number;
  private readonly extra: number;

  constructor(
    private readonly nodes: readonly string[],
    private readonly prevOwner: Int32Array[],
    private readonly S: number,
    private readonly ranks: number,
  ) {
    this.n = nodes.length;
    this.base = Math.floor(S / this.n);
    this.extra = S % this.n;
    this.owner = Array.from({ length: ranks }, () => new Int32Array(S).fill(UNOWNED));
    this.nodeHash = Uint32Array.from(nodes, (id) => mix(fnv1a32(id)));
    this.extras = new Int32Array(this.n);
  }

  toMap(): ShardMap {
    return Array.from({ length: this.S }, (_, s) => this.owner.map((row) => this.nodes[row[s]]));
  }

  fillRank(k: number): void {
    const { n, S } = this;
    const row = this.owner[k];
    const cands: number[][] = Array.from({ length: n }, () => []);
    for (let s = 0; s < S; s++) {
      const u = this.prevOwner[k][s];
      if (u !== UNOWNED && !this.holds(s, u, k)) cands[u].push(s);
    }
    const quota = this.quotas(k, cands.map((c) => c.length));

    // Keep: over-quota owners give up the slots others can most easily take.
    const short = quota.map((q, u) => cands[u].length < q);
    const count = new Int32Array(n);
    cands.forEach((list, u) => {
      let keep = list;
      if (list.length > quota[u]) {
        const score = (s: number) => short.reduce((acc, isShort, v) => acc + (isShort && this.free(s, v, k, true) ? 1 : 0), 0);
        const ranked = list.map((s) => ({ s, score: score(s), tie: this.slotHash(s, k, u) }));
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
      orphans.push({ s, options: this.options(s, k, need, under), tie: this.shardKey(s, k) });
    }
    orphans.sort((a, b) => a.options - b.options || a.tie - b.tie);
    // Repairs, cheapest first: re-shuffle only this pass's fills (free); break a reservation
    // (one later move); shift kept slots along a chain (one move per kept slot on it).
    const deferred: number[] = [];
    for (const { s } of orphans) if (!this.place(s, k, need, true)) deferred.push(s);
    const fresh = new Uint8Array(S);
    for (const { s } of orphans) fresh[s] = 1;
    for (const s of deferred) {
      if (this.augment(s, k, need, fresh) || this.place(s, k, need, false) || this.augment(s, k, need, null)) continue;
      this.overfill(s, k);
    }
  }

  /** Counts per rank and member, and totals per member. */
  private tally(): { per: Int32Array[]; total: Int32Array } {
    const per = this.owner.map((row) => {
      const c = new Int32Array(this.n);
      for (const u of row) c[u]++;
      return c;
    });
    const total = new Int32Array(this.n);
    for (const c of per) c.forEach((x, u) => (total[u] += x));
    return { per, total };
  }

  /**
   * Safety net after an over-quota fill: while totals differ by more than one, hand one slot of
   * the most loaded member to the least loaded one (a row holding the first but not the second
   * always exists), at the rank where the first is most over the second.
   */
  balanceTotals(): void {
    const { per, total } = this.tally();
    for (;;) {
      let hi = 0;
      let lo = 0;
      for (let u = 1; u < this.n; u++) {
        if (total[u] > total[hi]) hi = u;
        if (total[u] < total[lo]) lo = u;
      }
      if (total[hi] - total[lo] <= 1) return;
      let best = { s: UNOWNED, k: 0, score: 0, tie: 0 };
      for (let k = 0; k < this.ranks; k++) {
        const score = per[k][hi] - per[k][lo];
        for (let s = 0; s < this.S; s++) {
          if (this.owner[k][s] !== hi || this.inRow(s, lo)) continue;
          const tie = this.shardKey(s, k);
          if (best.s === UNOWNED || score > best.score || (score === best.score && tie < best.tie)) best = { s, k, score, tie };
        }
      }
      this.owner[best.k][best.s] = lo;
      per[best.k][hi]--;
      per[best.k][lo]++;
      total[hi]--;
      total[lo]++;
    }
  }

  /**
   * Safety net for rank balance: while a member holds rank a at least two more times than rank b,
   * swap a and b inside rows along the shortest chain v →(a|b) x1 →(a|b) ... → w that ends at a
   * member holding b more often than a. Rows keep their owners; only ranks change; each swap
   * strictly lowers the sum of squared counts, so this ends. Balanced totals plus every member
   * within one across its ranks is exactly "every rank balanced".
   */
  balanceRanks(): void {
    const { per } = this.tally();
    for (;;) {
      const gap = this.findGap(per);
      if (gap === null) return;
      const { v, a, b } = gap;
      const rowsAt: number[][] = Array.from({ length: this.n }, () => []);
      this.owner[a].forEach((u, s) => rowsAt[u].push(s));
      const via = new Int32Array(this.n).fill(UNOWNED);
      const queue = [v];
      via[v] = this.S; // visited, start of the chain
      let end = UNOWNED;
      for (let i = 0; i < queue.length && end === UNOWNED; i++) {
        for (const s of rowsAt[queue[i]]) {
          const w = this.owner[b][s];
          if (via[w] !== UNOWNED) continue;
          via[w] = s;
          queue.push(w);
          if (per[b][w] > per[a][w]) {
            end = w;
            break;
          }
        }
      }
      if (end === UNOWNED) return; // cannot happen: the chain's members hold as many b as a
      for (let w = end; w !== v; ) {
        const s = via[w];
        const x = this.owner[a][s];
        this.owner[a][s] = w;
        this.owner[b][s] = x;
        w = x;
      }
      per[a][v]--;
      per[b][v]++;
      per[a][end]++;
      per[b][end]--;
    }
  }

  private findGap(per: Int32Array[]): { v: number; a: number; b: number } | null {
    for (let v = 0; v < this.n; v++) {
      let a = 0;
      let b = 0;
      for (let k = 1; k < this.ranks; k++) {
        if (per[k][v] > per[a][v]) a = k;
        if (per[k][v] < per[b][v]) b = k;
      }
      if (per[a][v] - per[b][v] >= 2) return { v, a, b };
    }
    return null;
  }

  private inRow(s: number, u: number): boolean {
    for (let j = 0; j < this.ranks; j++) if (this.owner[j][s] === u) return true;
    return false;
  }

  /** Member u holds a rank below k of shard s. */
  private holds(s: number, u: number, k: number): boolean {
    for (let j = 0; j < k; j++) if (this.owner[j][s] === u) return true;
    return false;
  }

  /** u may take rank k of shard s: not already in the row, and (if asked) not a previous higher-rank owner. */
  private free(s: number, u: number, k: number, avoidReserved: boolean): boolean {
    if (this.holds(s, u, k)) return false;
    if (avoidReserved) for (let j = k + 1; j < this.ranks; j++) if (this.prevOwner[j][s] === u) return false;
    return true;
  }

  private shardKey(s: number, k: number): number {
    return mix(imul(s, 0x9e3779b1) + imul(k, 0x85ebca77));
  }

  /** Stable pseudo-random rank of member u for slot (s, k): spreads ties without favouring any id. */
  private slotHash(s: number, k: number, u: number): number {
    return mix(this.nodeHash[u] ^ this.shardKey(s, k));
  }

  /** How many under-quota members could take (s, k) without touching the row: `under` minus those in it. */
  private options(s: number, k: number, need: Int32Array, under: number): number {
    let options = under;
    for (let j = 0; j < this.ranks; j++) {
      const u = j < k ? this.owner[j][s] : j > k ? this.prevOwner[j][s] : UNOWNED;
      if (u === UNOWNED || need[u] <= 0) continue;
      let seen = false;
      for (let i = 0; i < j; i++) if ((i < k ? this.owner[i][s] : i > k ? this.prevOwner[i][s] : UNOWNED) === u) seen = true;
      if (!seen) options--;
    }
    return options;
  }

  private place(s: number, k: number, need: Int32Array, avoidReserved: boolean): boolean {
    const key = this.shardKey(s, k);
    let best = UNOWNED;
    let bestTie = 0;
    for (let v = 0; v < this.n; v++) {
      if (need[v] <= 0 || !this.free(s, v, k, avoidReserved)) continue;
      const tie = mix(this.nodeHash[v] ^ key);
      if (best === UNOWNED || need[v] > need[best] || (need[v] === need[best] && tie < bestTie)) {
        best = v;
        bestTie = tie;
      }
    }
    if (best === UNOWNED) return false;
    this.owner[k][s] = best;
    need[best]--;
    return true;
  }

  /**
   * BFS for a chain s0 → v1, v1's slot → v2, ... → a member under quota, and applies the shortest.
   * With `fresh`, only slots filled in this pass are shifted and reservations are respected (no
   * extra move); without, any slot of this rank may shift (one extra move per kept slot).
   */
  private augment(s0: number, k: number, need: Int32Array, fresh: Uint8Array | null): boolean {
    const { n, S } = this;
    const row = this.owner[k];
    const slotsOf: number[][] = Array.from({ length: n }, () => []);
    for (let s = 0; s < S; s++) if (row[s] !== UNOWNED && (fresh === null || fresh[s])) slotsOf[row[s]].push(s);
    const viaSlot = new Int32Array(n).fill(UNOWNED);
    const viaNode = new Int32Array(n).fill(UNOWNED);
    const queue: number[] = [];
    const reach = (v: number, s: number, from: number): boolean => {
      if (viaSlot[v] !== UNOWNED || !this.free(s, v, k, fresh !== null)) return false;
      viaSlot[v] = s;
      viaNode[v] = from;
      queue.push(v);
      if (need[v] <= 0) return false;
      need[v]--;
      for (let u = v; u !== UNOWNED; u = viaNode[u]) row[viaSlot[u]] = u;
      return true;
    };
    for (let v = 0; v < n; v++) if (reach(v, s0, UNOWNED)) return true;
    for (let i = 0; i < queue.length; i++) {
      const v = queue[i];
      for (const s of slotsOf[v]) for (let w = 0; w < n; w++) if (reach(w, s, v)) return true;
    }
    return false;
  }

  /** Last resort: the least loaded member not in the row takes the slot over quota. */
  private overfill(s: number, k: number): void {
    const row = this.owner[k];
    const load = new Int32Array(this.n);
    for (const u of row) if (u !== UNOWNED) load[u]++;
    let best = UNOWNED;
    for (let v = 0; v < this.n; v++) {
      if (this.holds(s, v, k)) continue;
      if (best === UNOWNED || load[v] < load[best]) best = v;
    }
    row[s] = best; // k < ranks <= n, so some member is not in the row
  }

  /**
   * Rank-k quotas: base for all, base+1 for `extra` members. Members over base keep their +1 when
   * possible; the look-ahead keeps each member's +1 count over all ranks in [lo, hi] (hi - lo <= 1).
   */
  private quotas(k: number, held: number[]): number[] {
    const { n, base, extra: e, extras } = this;
    const quota = new Array<number>(n).fill(base);
    if (e === 0) return quota;
    const lo = Math.floor((this.ranks * e) / n);
    const hi = Math.ceil((this.ranks * e) / n);
    const t = this.ranks - k; // ranks left, this one included
    const need = (u: number) => Math.max(0, lo - extras[u]);
    const cap = (u: number) => hi - extras[u];
    // Picking u must leave a feasible future: sum of minimums <= (t-1)e <= sum of capacities.
    // That test is exact: with e picks per rank, any per-member counts in [minimum, capacity]
    // (capacity <= ranks left) with the right sum can be realised (Gale–Ryser).
    let mustL = -(t - 1) * e;
    let allowK = -(t - 1) * e;
    for (let u = 0; u < n; u++) {
      mustL += need(u);
      allowK += Math.min(t - 1, cap(u));
    }
    const kind = (u: number) => ({ l: need(u) > 0, k: cap(u) <= t - 1, forced: need(u) >= t });
    const pool = { lf: 0, lk: 0, nf: 0, nk: 0, forced: 0 };
    const tally = (u: number, sign: number) => {
      const c = kind(u);
      if (c.forced) pool.forced += sign;
      if (c.l && c.k) pool.lk += sign;
      else if (c.l) pool.lf += sign;
      else if (c.k) pool.nk += sign;
      else pool.nf += sign;
    };
    const candidates: number[] = [];
    for (let u = 0; u < n; u++) {
      if (cap(u) < 1) continue;
      candidates.push(u);
      tally(u, 1);
    }
    const feasible = (picks: number, needL: number, roomK: number) => {
      if (pool.forced > picks) return false;
      const lf = Math.min(picks, pool.lf);
      const lk = Math.max(0, needL - lf);
      if (lk > Math.min(picks - lf, pool.lk)) return false;
      const rest = picks - lf - lk - Math.min(picks - lf - lk, pool.nf);
      return rest <= pool.lk - lk + pool.nk && lk + rest <= roomK;
    };
    const sticky = (u: number) => (held[u] > base ? 0 : 1);
    candidates.sort((a, b) => sticky(a) - sticky(b) || extras[a] - extras[b] || held[b] - held[a] || a - b);
    let left = e;
    for (const u of candidates) {
      if (left === 0) break;
      const c = kind(u);
      tally(u, -1);
      if (feasible(left - 1, mustL - (c.l ? 1 : 0), allowK - (c.k ? 1 : 0))) {
        left--;
        if (c.l) mustL--;
        if (c.k) allowK--;
        quota[u]++;
      }
    }
    for (let u = 0; u < n; u++) extras[u] += quota[u] - base;
    return quota;
  }
}
